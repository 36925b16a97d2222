package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// The access matrix over the web pages. Unlike the API matrix, the answers expected here are
// not asked of safeguard.Authorize: they are written out below from the rules the policy
// documents (DESIGN.md "Organisations, people, roles", docs/security.md, docs/web.md), so that
// a change to the policy or a page that forgets to ask it makes this test fail.

// relation is how a user's organisation stands to the concern under test.
type relation string

const (
	relOwner     relation = "owner establishment"
	relHost      relation = "host LA"
	relAsked     relation = "asked to contribute"
	relUnrelated relation = "unrelated"
)

// relationOf is the fixture's own account of who is involved (accessFixture): the first
// concern was raised in HMP Leeds, hosted by Leeds, and Bradford and the prison's health
// partner were asked for advice; the allegation against staff involves only Leeds and its LA.
func relationOf(org string, alleged bool) relation {
	switch {
	case org == "LEI":
		return relOwner
	case org == "E08000035":
		return relHost
	case !alleged && (org == "E08000032" || org == "LEI-HEALTH"):
		return relAsked
	}
	return relUnrelated
}

// who is one request's asker, as the rules see them.
type who struct {
	role    safeguard.Role
	org     string
	kind    safeguard.OrgKind
	rel     relation
	alleged bool // the concern alleges abuse by staff of LEI
	raiser  bool // raised the concern
}

func (w who) is(roles ...safeguard.Role) bool {
	for _, r := range roles {
		if w.role == r {
			return true
		}
	}
	return false
}

// The documented rules, one line each.
var (
	// Anyone whose organisation takes part, and the auditor, may read a concern.
	mayRead = func(w who) bool { return true }
	// The prison lead of the owning establishment runs the enquiry.
	leadOfOwner = func(w who) bool { return w.is(safeguard.RolePrisonLead) && w.rel == relOwner }
	// A prison manager of the owning establishment signs closure off; its lead proposes it
	// (the same form path, "close" or "sign-off", is either by role).
	closer = func(w who) bool {
		return w.is(safeguard.RolePrisonLead, safeguard.RolePrisonManager) && w.rel == relOwner
	}
	// The host LA's practitioner acknowledges; so does one of an LA the concern is referred or
	// handed to, which the policy counts with those asked.
	acknowledger = func(w who) bool {
		return w.is(safeguard.RoleLAPractitioner) && (w.rel == relHost || w.rel == relAsked)
	}
	// Council practitioners and partners of an involved organisation other than the prison
	// give advice.
	contributor = func(w who) bool {
		return w.is(safeguard.RoleLAPractitioner, safeguard.RolePartner) && (w.rel == relHost || w.rel == relAsked)
	}
	// A prison lead raises, for their own establishment.
	raiser = func(w who) bool { return w.is(safeguard.RolePrisonLead) && w.kind.IsEstablishment() }
	// Managers and the auditor see what has slipped and how timescales are met.
	overdueReader = func(w who) bool {
		return w.is(safeguard.RolePrisonManager, safeguard.RoleLAManager, safeguard.RoleAuditor)
	}
	// The SAC return is the councils' (la_manager) and the auditor's.
	sacReader = func(w who) bool { return w.is(safeguard.RoleLAManager, safeguard.RoleAuditor) }
	// Administration is the admin's alone.
	administrator = func(w who) bool { return w.is(safeguard.RoleAdmin) }
	everyone      = func(w who) bool { return true }
)

// hidden is the rule for concerns alleging abuse by staff: at that establishment only its
// prison managers and the person who raised it may know of it (the auditor too, nationally).
func (w who) hidden() bool {
	return w.alleged && w.rel == relOwner && !w.is(safeguard.RolePrisonManager, safeguard.RoleAuditor) && !w.raiser
}

// inScope is the rule for every concern: it exists for those whose organisation is involved,
// and for the auditor.
func (w who) inScope() bool {
	return !w.hidden() && (w.rel != relUnrelated || w.is(safeguard.RoleAuditor))
}

// webProbe is one web request of the matrix.
type webProbe struct {
	method, path string // path may hold {ref} and {user}
	form         url.Values
	concern      bool // about the concern under test: out of scope it must not exist
	may          func(who) bool
	// allowed is the status when may says yes (a form that fails validation answers 422 and
	// changes nothing; a missing user 404 once the policy has let the admin through).
	allowed func(who) int
	// marker, if set, is text the page shows exactly to those for whom markerFor is true.
	marker    string
	markerFor func(who) bool
}

func status(n int) func(who) int { return func(who) int { return n } }

// badAction is an action form every action refuses field by field (422), so that an allowed
// probe gets past the policy and stops at validation with nothing written.
var badAction = url.Values{
	"note": {strings.Repeat("n", 2001)}, "decision": {"probe"}, "rationale": {strings.Repeat("r", 4001)},
	"organisation": {strings.Repeat("O", 33)}, "question": {strings.Repeat("q", 4001)}, "advice": {strings.Repeat("a", 8001)},
	"care_assessment": {"probe"}, "risk": {"probe"}, "summary": {strings.Repeat("s", 8001)}, "msp_outcomes": {"probe"},
	"reason": {strings.Repeat("x", 4001)}, "to_establishment": {strings.Repeat("T", 33)}, "receiving_la": {strings.Repeat("L", 33)},
	"release_date.day": {"x"}, "release_date.month": {"x"}, "release_date.year": {"x"}, "idempotency_key": {"matrix-probe"},
}

func actionWebProbe(path string, may func(who) bool) webProbe {
	return webProbe{method: "POST", path: "/concerns/{ref}/" + path, form: badAction, concern: true, may: may, allowed: status(http.StatusUnprocessableEntity)}
}

func webProbes() []webProbe {
	return []webProbe{
		{method: "GET", path: "/concerns/{ref}", concern: true, may: mayRead, allowed: status(http.StatusOK)},
		// The advice form opens for an organisation with an open request; to another
		// contributor the policy allows, it explains that none is open (409).
		{method: "GET", path: "/concerns/{ref}/contribute", concern: true, may: contributor, allowed: func(w who) int {
			if w.rel == relAsked {
				return http.StatusOK
			}
			return http.StatusConflict
		}},
		// The printable evidence bundle: managers of an involved organisation and the auditor,
		// the same readers as the overdue audit.
		{method: "GET", path: "/concerns/{ref}/evidence", concern: true, may: overdueReader, allowed: status(http.StatusOK)},
		actionWebProbe("acknowledge", acknowledger),
		actionWebProbe("triage", leadOfOwner),
		actionWebProbe("contribution-requests", leadOfOwner),
		actionWebProbe("contributions", contributor),
		actionWebProbe("findings", leadOfOwner),
		actionWebProbe("close", closer),
		actionWebProbe("sign-off", closer),
		actionWebProbe("pause", leadOfOwner),
		actionWebProbe("resume", leadOfOwner),
		actionWebProbe("transfer", leadOfOwner),
		actionWebProbe("release", leadOfOwner),
		actionWebProbe("reopen", leadOfOwner),
		{method: "GET", path: "/", may: everyone, allowed: status(http.StatusOK)},
		{method: "GET", path: "/concerns/new", may: raiser, allowed: status(http.StatusOK)},
		{method: "POST", path: "/concerns/new", form: url.Values{"idempotency_key": {"matrix-probe"}}, may: raiser, allowed: status(http.StatusUnprocessableEntity)},
		{method: "GET", path: "/overdue", may: overdueReader, allowed: status(http.StatusOK)},
		{method: "GET", path: "/overdue.csv", may: overdueReader, allowed: status(http.StatusOK)},
		{method: "GET", path: "/reports?" + thisYear, may: overdueReader, allowed: status(http.StatusOK),
			marker: "Safeguarding Adults Collection", markerFor: sacReader},
		{method: "GET", path: "/reports/sac.csv?" + thisYear, may: sacReader, allowed: status(http.StatusOK)},
		{method: "GET", path: "/reports/timescales.csv?" + thisYear, may: overdueReader, allowed: status(http.StatusOK)},
		{method: "GET", path: "/admin/users", may: administrator, allowed: status(http.StatusOK)},
		{method: "GET", path: "/admin/users/{user}", may: administrator, allowed: status(http.StatusOK)},
		{method: "POST", path: "/admin/users", form: url.Values{"email": {"not an email"}}, may: administrator, allowed: status(http.StatusUnprocessableEntity)},
		{method: "POST", path: "/admin/users/999999/disable", form: url.Values{}, may: administrator, allowed: status(http.StatusNotFound)},
		{method: "POST", path: "/admin/users/999999/enable", form: url.Values{}, may: administrator, allowed: status(http.StatusNotFound)},
		{method: "POST", path: "/admin/users/999999/sign-out", form: url.Values{}, may: administrator, allowed: status(http.StatusNotFound)},
		{method: "POST", path: "/admin/users/999999/tokens", form: url.Values{"name": {"probe"}}, may: administrator, allowed: status(http.StatusNotFound)},
		{method: "POST", path: "/admin/tokens/999999/revoke", form: url.Values{}, may: administrator, allowed: status(http.StatusNotFound)},
		{method: "GET", path: "/admin/organisations", may: administrator, allowed: status(http.StatusOK)},
		{method: "POST", path: "/admin/organisations", form: url.Values{"kind": {"prison"}, "code": {"nope"}}, may: administrator, allowed: status(http.StatusUnprocessableEntity)},
		{method: "GET", path: "/admin/policy", may: administrator, allowed: status(http.StatusOK)},
	}
}

// want is the status the rules give for one probe by one asker: 404 for a concern out of
// scope, 403 for what they may not do, else the probe's allowed status.
func (p webProbe) want(w who) int {
	if p.concern && !w.inScope() {
		return http.StatusNotFound
	}
	if !p.may(w) {
		return http.StatusForbidden
	}
	return p.allowed(w)
}

// TestAccessMatrixOverTheWeb signs every user of the access matrix in (a real session
// cookie, the web's only credential) and sends every web route, on both concerns, checking the
// status against the documented rules: out of scope a 404 page that names neither the concern
// nor the adult, forbidden a 403 page, otherwise the page (200), its CSV, or the form's
// field-by-field refusal (422). Pages not about one concern never show a concern to someone
// outside its scope. Nothing a probe sends changes the record or the accounts.
func TestAccessMatrixOverTheWeb(t *testing.T) {
	for _, store := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", sqltest.SQLite}, {"postgres", sqltest.Postgres}} {
		t.Run(store.name, func(t *testing.T) {
			svc := startService(t, env{"DATABASE_URL": store.url(t)})
			testWebAccessMatrix(t, svc)
		})
	}
}

func testWebAccessMatrix(t *testing.T, svc *running) {
	ctx := context.Background()
	db := svc.svc.db
	ref, alleged, users := accessFixture(t, svc)
	raisedBy, err := db.FindUserByEmail(ctx, lead)
	if err != nil {
		t.Fatal(err)
	}
	sessions := map[int64]string{}
	for _, mu := range users {
		secret, _, err := db.CreateSession(ctx, mu.user.ID, "127.0.0.1", "access matrix")
		if err != nil {
			t.Fatal(err)
		}
		sessions[mu.user.ID] = secret
	}
	accounts := func() map[string]int {
		out := counts(t, svc.db())
		for _, table := range []string{"users", "organisations", "tokens"} {
			var n int
			if err := svc.db().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
				t.Fatal(err)
			}
			out[table] = n
		}
		var n int
		if err := svc.db().Get(&n, "SELECT COUNT(*) FROM tokens WHERE revoked_at IS NOT NULL"); err != nil {
			t.Fatal(err)
		}
		out["revoked tokens"] = n
		if err := svc.db().Get(&n, "SELECT COUNT(*) FROM users WHERE disabled"); err != nil {
			t.Fatal(err)
		}
		out["disabled users"] = n
		return out
	}
	before := accounts()
	concerns := map[string]bool{ref: false, alleged: true}
	seen := map[int]int{}
	checked := 0
	for _, mu := range users {
		u := mu.user
		for _, p := range webProbes() {
			// Probes not about one concern are sent once, and checked against both.
			targets := []string{ref, alleged}
			if !p.concern {
				targets = targets[:1]
			}
			for _, target := range targets {
				w := who{role: u.Role, org: u.OrgCode, kind: u.OrgKind, rel: relationOf(u.OrgCode, concerns[target]), alleged: concerns[target], raiser: u.ID == raisedBy.ID}
				desc := fmt.Sprintf("%s of %s (%s, user %d): %s %s", u.Role, u.OrgCode, w.rel, u.ID, p.method, p.path)
				if p.concern {
					desc += " on " + map[bool]string{true: "the allegation against staff", false: "the concern"}[w.alleged]
				}
				path := strings.NewReplacer("{ref}", target, "{user}", fmt.Sprint(raisedBy.ID)).Replace(p.path)
				status, body := webRequest(t, svc, sessions[u.ID], p.method, path, p.form)
				checked++
				seen[status]++
				if want := p.want(w); status != want {
					t.Errorf("%s answered %d; the rules say %d", desc, status, want)
				}
				if (status == http.StatusNotFound || status == http.StatusForbidden) && !strings.Contains(body, "<main") {
					t.Errorf("%s: the %d is not a page", desc, status)
				}
				if p.marker != "" && status == http.StatusOK && strings.Contains(body, p.marker) != p.markerFor(w) {
					t.Errorf("%s: shows %q = %v; the rules say %v", desc, p.marker, !p.markerFor(w), p.markerFor(w))
				}
				// What must never be seen out of scope: on a 404, and on every page not about
				// this concern, for each concern the asker may not read.
				for c, isAlleged := range concerns {
					cw := w
					cw.rel, cw.alleged = relationOf(u.OrgCode, isAlleged), isAlleged
					if (p.concern && c != target) || cw.inScope() {
						continue
					}
					if strings.Contains(body, c) || strings.Contains(body, subjectName) {
						t.Errorf("%s: the answer shows %s or the adult's name, out of the asker's scope", desc, c)
					}
				}
			}
		}
	}
	if after := accounts(); !mapsEqual(before, after) {
		t.Errorf("the probes changed the record: %v -> %v", before, after)
	}
	// The matrix must really have met every kind of answer.
	for _, code := range []int{200, 403, 404, 409, 422} {
		if seen[code] == 0 {
			t.Errorf("no probe answered %d: the matrix does not exercise that rule", code)
		}
	}
	t.Logf("%d users x %d web probes: %d requests checked; answers %v", len(users), len(webProbes()), checked, seen)
}

// webRequest sends one page request with a session cookie, as a browser would, without
// following redirects.
func webRequest(t *testing.T, svc *running, session, method, path string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, svc.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Cookie", "__Host-safeguard_session="+session)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
