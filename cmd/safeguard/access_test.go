package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// accessOrgs are the organisations of the access matrix beyond the demo ones, each in a fixed
// relation to the concern under test (raised in HMP Leeds, hosted by Leeds City Council).
var accessOrgs = []safeguard.Organisation{
	{Code: "E08000032", Name: "Bradford Council", Kind: safeguard.KindLocalAuthority, Inbox: "adults@bradford.example.org"},
	{Code: "NHS-OTHER", Name: "Another Health Trust", Kind: safeguard.KindHealth, Inbox: "safeguarding@other-nhs.example.org"},
}

// relations names how each organisation of the matrix relates to the concern.
var relations = map[string]string{
	"LEI":        "owner establishment",
	"E08000035":  "host LA",
	"E08000032":  "LA asked to contribute",
	"LEI-HEALTH": "partner asked to contribute",
	"WDI":        "unrelated prison",
	"E08000036":  "unrelated LA",
	"NHS-OTHER":  "unrelated partner",
}

// probe is one request of the matrix: the action the policy is asked about (with nil
// involvement for actions not about one concern) and how to send it.
type probe struct {
	name    string
	action  safeguard.Action
	concern bool // about the concern under test
	send    func(r *running, ref, token string) response
	// allowedStatus is the status a request the policy allows must get. Probes of actions send
	// a body the API does not accept, so that an allowed request stops at 400 and changes
	// nothing, while a refused one stops at 403 or 404 before the body is read.
	allowedStatus int
}

func actionProbe(path string, a safeguard.Action) probe {
	return probe{name: "POST " + path, action: a, concern: true, allowedStatus: http.StatusBadRequest,
		send: func(r *running, ref, token string) response {
			return r.do("POST", "/api/v1/concerns/"+ref+"/"+path, token, strings.NewReader(`{"probe_only":true}`))
		}}
}

func getProbe(path string, a safeguard.Action, concern bool, headers ...string) probe {
	return probe{name: "GET " + path + strings.Join(headers, " "), action: a, concern: concern, allowedStatus: http.StatusOK,
		send: func(r *running, ref, token string) response {
			return r.do("GET", strings.ReplaceAll(path, "{ref}", ref), token, nil, headers...)
		}}
}

// thisYear is a report period that holds the matrix's concerns.
var thisYear = fmt.Sprintf("from=%d-01-01&to=%d-12-31", time.Now().Year(), time.Now().Year())

// apiProbes are every API route that reads or acts on concerns.
var apiProbes = []probe{
	getProbe("/api/v1/concerns/{ref}", safeguard.ActionRead, true),
	getProbe("/api/v1/overdue", safeguard.ActionReadOverdue, false),
	getProbe("/api/v1/overdue", safeguard.ActionReadOverdue, false, "Accept", "text/csv"),
	getProbe("/api/v1/concerns/{ref}/access-log", safeguard.ActionReadAccessLog, true),
	getProbe("/api/v1/audit/verify", safeguard.ActionVerifyAuditLog, false),
	getProbe("/api/v1/audit/flagged", safeguard.ActionReviewFlaggedReads, false),
	getProbe("/api/v1/reports/sac?"+thisYear, safeguard.ActionReadSACReport, false),
	getProbe("/api/v1/reports/sac?"+thisYear, safeguard.ActionReadSACReport, false, "Accept", "text/csv"),
	getProbe("/api/v1/reports/timescales", safeguard.ActionReadPerformance, false),
	getProbe("/api/v1/reports/overdue", safeguard.ActionReadPerformance, false),
	getProbe("/api/v1/concerns/{ref}/evidence", safeguard.ActionReadEvidence, true),
	actionProbe("acknowledge", safeguard.ActionAcknowledge),
	actionProbe("triage", safeguard.ActionTriage),
	actionProbe("contribution-requests", safeguard.ActionRequestAdvice),
	actionProbe("contributions", safeguard.ActionContribute),
	actionProbe("findings", safeguard.ActionFindings),
	actionProbe("pause", safeguard.ActionPause),
	actionProbe("resume", safeguard.ActionResume),
	actionProbe("transfer", safeguard.ActionTransfer),
	actionProbe("release", safeguard.ActionRelease),
	actionProbe("reopen", safeguard.ActionReopen),
}

// matrixUser is one person of the matrix: a role in an organisation, with an API token.
type matrixUser struct {
	user  safeguard.User
	token string
}

// TestAccessMatrixOverTheAPI asks every role in every relation to a concern (owner
// establishment, host LA, asked to contribute, unrelated; auditors and admins in each) to do
// every action over the API, and checks the answer is exactly what the one access policy
// decides: 404 for what is out of scope, 403 for what is forbidden, and otherwise the request
// goes through. Lists show the concern to exactly those who may read it. Nothing a probe sends
// changes the concern.
func TestAccessMatrixOverTheAPI(t *testing.T) {
	for _, store := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", sqltest.SQLite}, {"postgres", sqltest.Postgres}} {
		t.Run(store.name, func(t *testing.T) {
			svc := startService(t, env{"DATABASE_URL": store.url(t)})
			testAccessMatrix(t, svc)
		})
	}
}

// accessFixture prepares the matrix: the organisations of accessOrgs, a concern carried into
// the enquiry with two organisations asked for advice, a second concern alleging abuse by staff
// raised by the demo lead, and a user for every role that fits each organisation of relations
// (with an API token), plus the demo lead.
func accessFixture(t *testing.T, svc *running) (ref, alleged string, users []matrixUser) {
	ctx := context.Background()
	db := svc.svc.db
	for _, o := range accessOrgs {
		if err := db.UpsertOrganisation(ctx, &o); err != nil {
			t.Fatal(err)
		}
	}
	// Carry a concern into the enquiry with the two asked organisations, and a second one that
	// alleges abuse by staff and was raised by the demo lead.
	ref = svc.raise(t)
	for _, step := range []struct{ path, who, body string }{
		{"acknowledge", practitioner, `{}`},
		{"triage", lead, `{"decision":"enquiry","rationale":"All three tests are met."}`},
		{"contribution-requests", lead, `{"organisation":"E08000032","question":"Was he known to your services?"}`},
		{"contribution-requests", lead, `{"organisation":"LEI-HEALTH","question":"Is there a care plan?"}`},
	} {
		if res := svc.do("POST", "/api/v1/concerns/"+ref+"/"+step.path, step.who, strings.NewReader(step.body)); res.status != http.StatusOK {
			t.Fatalf("%s: %d %s", step.path, res.status, res.body)
		}
	}
	res := svc.do("POST", "/api/v1/concerns", lead, strings.NewReader(raiseBody(map[string]any{"allegation_against_staff": true})))
	if res.status != http.StatusCreated {
		t.Fatalf("raise an allegation against staff: %d %s", res.status, res.body)
	}
	var a safeguard.Concern
	res.json(t, &a)

	// Every role that fits each organisation, plus the demo users.
	for code := range relations {
		org, err := db.FindOrganisation(ctx, code)
		if err != nil {
			t.Fatalf("organisation %s: %v", code, err)
		}
		for _, role := range safeguard.Roles {
			u := safeguard.User{Email: fmt.Sprintf("%s.%s@matrix.example.org", role, strings.ToLower(code)), Name: "Matrix " + string(role), OrgCode: code, Role: role}
			if u.Validate(org) != nil {
				continue // this role cannot belong to this kind of organisation
			}
			if err := db.CreateUser(ctx, &u); err != nil {
				t.Fatal(err)
			}
			tok, err := db.CreateToken(ctx, u.ID, "matrix", nil)
			if err != nil {
				t.Fatal(err)
			}
			users = append(users, matrixUser{u, tok})
		}
	}
	for _, email := range []string{lead} {
		u, err := db.FindUserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, matrixUser{*u, svc.tokens[email]})
	}
	if len(users) < 25 {
		t.Fatalf("only %d users in the matrix", len(users))
	}
	return ref, a.Reference, users
}

func testAccessMatrix(t *testing.T, svc *running) {
	ctx := context.Background()
	db := svc.svc.db
	ref, alleged, users := accessFixture(t, svc)

	before := counts(t, svc.db())
	checked := 0
	for _, concern := range []string{ref, alleged} {
		inv, err := db.Involvement(ctx, concern)
		if err != nil {
			t.Fatal(err)
		}
		for _, mu := range users {
			u := mu.user
			who := fmt.Sprintf("%s of %s (%s, user %d) on %s", u.Role, u.OrgCode, relations[u.OrgCode], u.ID, concern)
			for _, p := range apiProbes {
				var c *safeguard.Involvement
				if p.concern {
					c = inv
				}
				a := p.action
				if a == safeguard.ActionProposeClosure && u.Role == safeguard.RolePrisonManager {
					a = safeguard.ActionSignOffClosure
				}
				want := safeguard.ErrorCode(safeguard.Authorize(&u, a, c))
				res := p.send(svc, concern, mu.token)
				checked++
				switch want {
				case safeguard.ENOTFOUND:
					if res.status != http.StatusNotFound {
						t.Errorf("%s: %s answered %d; the policy says out of scope (404): %s", who, p.name, res.status, res.body)
					}
				case safeguard.EFORBIDDEN:
					if res.status != http.StatusForbidden {
						t.Errorf("%s: %s answered %d; the policy says forbidden (403): %s", who, p.name, res.status, res.body)
					}
				case "":
					if res.status != p.allowedStatus {
						t.Errorf("%s: %s answered %d; the policy allows it (want %d): %s", who, p.name, res.status, p.allowedStatus, res.body)
					}
				default:
					t.Fatalf("%s: the policy answered %s", who, want)
				}
				if res.status == http.StatusNotFound && strings.Contains(string(res.body), concern) {
					t.Errorf("%s: %s: the 404 names the concern", who, p.name)
				}
			}

			// The list shows the concern to exactly those who may read it.
			mayRead := safeguard.Authorize(&u, safeguard.ActionRead, inv) == nil
			listed := false
			for cursor := ""; ; {
				res := svc.do("GET", "/api/v1/concerns?limit=200&cursor="+cursor, mu.token, nil)
				if res.status != http.StatusOK {
					t.Fatalf("%s: list answered %d", who, res.status)
				}
				var page struct {
					Items []struct {
						Reference string `json:"reference"`
					} `json:"items"`
					Next string `json:"next_cursor"`
				}
				res.json(t, &page)
				listed = listed || slices.ContainsFunc(page.Items, func(i struct {
					Reference string `json:"reference"`
				}) bool {
					return i.Reference == concern
				})
				if cursor = page.Next; cursor == "" {
					break
				}
			}
			checked++
			if listed != mayRead {
				t.Errorf("%s: listed = %v; the policy says may read = %v", who, listed, mayRead)
			}
		}
	}
	if after := counts(t, svc.db()); !mapsEqual(before, after) {
		t.Errorf("the probes changed the record: %v -> %v", before, after)
	}
	// The matrix must really have exercised each answer.
	if checked < 2*len(users)*len(apiProbes) {
		t.Errorf("checked %d requests", checked)
	}
	t.Logf("%d users x %d probes x 2 concerns: %d requests checked", len(users), len(apiProbes)+1, checked)
}

func mapsEqual(a, b map[string]int) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
