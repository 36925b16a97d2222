package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/mail/mailtest"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// The adult in these tests. None of these strings may ever appear in mail or logs.
const (
	subjectName   = "Jonathan Testperson"
	subjectNumber = "A1234BC"
	subjectDOB    = "1958-03-14"
	summaryText   = "Another prisoner takes his canteen every week and threatens him"
)

const (
	lead         = "lead@prison.example.org"
	prisonMgr    = "manager@prison.example.org"
	practitioner = "practitioner@leeds.example.org"
	laManager    = "manager@leeds.example.org"
	partner      = "nurse@nhs.example.org"
	auditor      = "auditor@leeds.example.org"
	admin        = "admin@leeds.example.org"
)

func raiseBody(overrides map[string]any) string {
	body := map[string]any{
		"establishment": "LEI",
		"subject": map[string]any{
			"prison_number": subjectNumber, "name": subjectName, "date_of_birth": subjectDOB,
			"support_needs": []string{"older_age", "memory_cognition"},
		},
		"categories":       []string{"financial", "psychological"},
		"location_of_risk": "custody",
		"source_of_risk":   "other_known",
		"summary":          summaryText,
		"immediate_risk":   false,
		"actions_taken":    "Moved to another landing; spoke with the adult.",
		"police_informed":  false,
		"consent":          map[string]any{"given": true},
		"capacity_concern": true,
		"desired_outcomes": map[string]any{"asked": true, "outcomes": "To feel safe on the wing."},
	}
	for k, v := range overrides {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	b, _ := json.Marshal(body)
	return string(b)
}

// assertNoPersonalData fails if text holds any of the adult's details.
func assertNoPersonalData(t *testing.T, where, text string) {
	t.Helper()
	for _, pd := range []string{subjectName, "Testperson", subjectNumber, subjectDOB, summaryText} {
		if strings.Contains(text, pd) {
			t.Errorf("%s contains personal data %q", where, pd)
		}
	}
}

// TestRaiseEndToEnd raises a concern over HTTP on the real stack (HTTP server, in-process
// Temporal server, SQLite or PostgreSQL, a real SMTP server) and checks everything it must do
// and everything a refused request must not.
func TestRaiseEndToEnd(t *testing.T) {
	for _, store := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", sqltest.SQLite}, {"postgres", sqltest.Postgres}} {
		t.Run(store.name, func(t *testing.T) {
			smtp := mailtest.Start(t)
			svc := startService(t, env{"DATABASE_URL": store.url(t), "SMTP_URL": smtp.URL(), "MAIL_FROM": "safeguarding@service.example.org"})
			testRaise(t, svc, smtp)
		})
	}
}

func testRaise(t *testing.T, svc *running, smtp *mailtest.Server) {
	res := svc.do("POST", "/api/v1/concerns", lead, strings.NewReader(raiseBody(nil)), "Idempotency-Key", "first-raise")
	if res.status != http.StatusCreated {
		t.Fatalf("raise answered %d: %s", res.status, res.body)
	}
	var c safeguard.Concern
	res.json(t, &c)
	ref := c.Reference
	if _, _, _, ok := safeguard.ParseReference(ref); !ok || !strings.HasPrefix(ref, fmt.Sprintf("SG-LEI-%d-", time.Now().Year())) {
		t.Fatalf("reference %q is not SG-LEI-<year>-NNNNN", ref)
	}
	if c.Stage != safeguard.StageNotification || c.HostLA != "E08000035" || c.Subject == nil || c.Subject.Name != subjectName || len(c.Timeline) != 1 {
		t.Errorf("raised concern = %+v, want stage notification, host LA Leeds, the subject, one timeline entry", c)
	}
	if got := res.header.Get("Location"); got != "/api/v1/concerns/"+ref {
		t.Errorf("Location = %q", got)
	}

	t.Run("the row is stored and the workflow runs", func(t *testing.T) {
		var stage, hostLA string
		if err := svc.db().QueryRow(svc.db().Rebind("SELECT stage, host_la FROM concerns WHERE reference = ?"), ref).Scan(&stage, &hostLA); err != nil {
			t.Fatal(err)
		}
		if stage != "notification" || hostLA != "E08000035" {
			t.Errorf("row: stage %q host_la %q", stage, hostLA)
		}
		if got := svc.workflowStatus(ref); got != "Running" {
			t.Errorf("workflow %s is %s, want Running", ref, got)
		}
	})

	t.Run("the host LA is notified and the establishment gets a confirmation, without personal data", func(t *testing.T) {
		msgs := smtp.WaitFor(2, 30*time.Second)
		byRcpt := map[string]mailtest.Message{}
		for _, m := range msgs {
			if len(m.To) != 1 {
				t.Errorf("message to %v, want one recipient", m.To)
				continue
			}
			byRcpt[m.To[0]] = m
			assertNoPersonalData(t, "mail to "+m.To[0], m.Subject+"\n"+m.Body)
			if !strings.Contains(m.Subject, ref) || !strings.Contains(m.Body, svc.base+"/concerns/"+ref) {
				t.Errorf("mail to %s lacks the reference or the link:\n%s\n%s", m.To[0], m.Subject, m.Body)
			}
			if m.From != "safeguarding@service.example.org" {
				t.Errorf("mail from %q, want MAIL_FROM", m.From)
			}
		}
		if _, ok := byRcpt["adult.safeguarding@leeds.example.org"]; !ok {
			t.Errorf("no notification reached the host LA's inbox; got %v", keys(byRcpt))
		}
		if _, ok := byRcpt["safeguarding.lei@prison.example.org"]; !ok {
			t.Errorf("no confirmation reached the establishment's inbox; got %v", keys(byRcpt))
		}
		waitOutboxSent(t, svc, ref, 2)
	})

	t.Run("a repeat with the same Idempotency-Key returns the first answer and writes nothing", func(t *testing.T) {
		before := counts(t, svc.db())
		again := svc.do("POST", "/api/v1/concerns", lead, strings.NewReader(raiseBody(nil)), "Idempotency-Key", "first-raise")
		if again.status != http.StatusCreated {
			t.Fatalf("repeat answered %d: %s", again.status, again.body)
		}
		var c2 safeguard.Concern
		again.json(t, &c2)
		if c2.Reference != ref || !c2.RaisedAt.Equal(c.RaisedAt) {
			t.Errorf("repeat gave %s raised %s, want %s raised %s", c2.Reference, c2.RaisedAt, ref, c.RaisedAt)
		}
		if after := counts(t, svc.db()); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("repeat wrote rows: before %v after %v", before, after)
		}
		time.Sleep(300 * time.Millisecond)
		if n := len(smtp.Messages()); n != 2 {
			t.Errorf("%d messages after the repeat, want still 2", n)
		}
	})

	t.Run("the same Idempotency-Key with another body is a conflict", func(t *testing.T) {
		res := svc.do("POST", "/api/v1/concerns", lead, strings.NewReader(raiseBody(map[string]any{"summary": "different"})), "Idempotency-Key", "first-raise")
		wantError(t, res, http.StatusConflict, "conflict")
	})

	t.Run("refused requests write nothing", func(t *testing.T) {
		testRefusals(t, svc)
	})

	t.Run("reads are scoped to the organisations involved", func(t *testing.T) {
		for _, who := range []string{lead, prisonMgr, practitioner, laManager, auditor} {
			if res := svc.do("GET", "/api/v1/concerns/"+ref, who, nil); res.status != http.StatusOK {
				t.Errorf("%s reading %s: %d %s", who, ref, res.status, res.body)
			}
		}
		// The health partner has not been asked to contribute; the admin's organisation is the
		// LA here, so use a user of an unrelated prison instead.
		if res := svc.do("GET", "/api/v1/concerns/"+ref, partner, nil); res.status != http.StatusNotFound {
			t.Errorf("an uninvolved partner reading the concern: %d, want 404", res.status)
		}
		other := otherPrisonLead(t, svc)
		wantError(t, svc.do("GET", "/api/v1/concerns/"+ref, other, nil), http.StatusNotFound, "not_found")
		wantError(t, svc.do("GET", "/api/v1/concerns/SG-LEI-2026-99999", lead, nil), http.StatusNotFound, "not_found")
		var list struct {
			Items []safeguard.Concern `json:"items"`
		}
		svc.do("GET", "/api/v1/concerns", other, nil).json(t, &list)
		if len(list.Items) != 0 {
			t.Errorf("an unrelated prison lead lists %d concerns, want 0", len(list.Items))
		}
		var audited int
		if err := svc.db().Get(&audited, svc.db().Rebind("SELECT COUNT(*) FROM audit_log WHERE reference = ? AND action = 'read'"), ref); err != nil || audited < 6 {
			t.Errorf("audit log has %d reads of the concern (err %v), want every read including refused ones", audited, err)
		}
	})

	t.Run("lists filter and page", func(t *testing.T) {
		testLists(t, svc, ref)
	})

	t.Run("metrics count the raise and the outbox backlog", func(t *testing.T) {
		res := svc.do("GET", "/metrics", "", nil)
		for _, want := range []string{"safeguard_concerns_raised_total ", "safeguard_outbox_backlog ", "safeguard_http_request_duration_seconds_bucket", `route="/api/v1/concerns"`} {
			if !strings.Contains(string(res.body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		assertNoPersonalData(t, "/metrics", string(res.body))
		if strings.Contains(string(res.body), ref) {
			t.Errorf("/metrics names a concern reference")
		}
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// waitOutboxSent waits until n of the concern's outbox messages are marked sent.
func waitOutboxSent(t *testing.T, svc *running, ref string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var sent int
		if err := svc.db().Get(&sent, svc.db().Rebind("SELECT COUNT(*) FROM outbox WHERE reference = ? AND status = 'sent' AND sent_at IS NOT NULL"), ref); err != nil {
			t.Fatal(err)
		}
		if sent == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %s's outbox messages are marked sent, want %d", sent, ref, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func wantError(t *testing.T, res response, status int, code string) errorBody {
	t.Helper()
	var e errorBody
	if res.status != status {
		t.Errorf("status %d, want %d: %s", res.status, status, res.body)
		return e
	}
	res.json(t, &e)
	if e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("error %+v, want code %q and a message", e.Error, code)
	}
	return e
}

// otherPrisonLead creates a prison lead at HMP Wakefield and returns their token.
func otherPrisonLead(t *testing.T, svc *running) string {
	t.Helper()
	const email = "lead@wakefield.example.org"
	if tok, ok := svc.tokens[email]; ok {
		return tok
	}
	e := env{"DATABASE_URL": svc.cfg.DatabaseURL, "SAFEGUARD_DATA_DIR": svc.cfg.DataDir}
	var out, errOut strings.Builder
	if code := run(t.Context(), []string{"user", "add", "--email", email, "--name", "Wakefield Lead", "--org", "WDI", "--role", "prison_lead"}, e.get, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"token", "create", "--email", email}, e.get, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("token create: %d %s", code, errOut.String())
	}
	tok := strings.TrimSpace(out.String())
	if strings.Count(tok, "\n") != 0 || !strings.HasPrefix(tok, "sgt_") {
		t.Fatalf("token create printed %q, want only the token", out.String())
	}
	svc.tokens[email] = tok
	return tok
}

// testRefusals sends each kind of bad request and checks its status, its error and that no
// table a raise writes has changed.
func testRefusals(t *testing.T, svc *running) {
	other := otherPrisonLead(t, svc)
	cases := []struct {
		name    string
		who     string
		body    string
		headers []string
		status  int
		code    string
		fields  []string
	}{
		{"no credentials", "", raiseBody(nil), nil, 401, "unauthorized", nil},
		{"an unknown token", "sgt_notarealtoken", raiseBody(nil), nil, 401, "unauthorized", nil},
		{"a council practitioner may not raise", practitioner, raiseBody(nil), nil, 403, "forbidden", nil},
		{"an auditor may not raise", auditor, raiseBody(nil), nil, 403, "forbidden", nil},
		{"a prison lead may not raise for another establishment", other, raiseBody(nil), nil, 403, "forbidden", nil},
		{"a body that is not JSON", lead, "{not json", nil, 400, "malformed", nil},
		{"an empty body", lead, "", nil, 400, "malformed", nil},
		{"a field the API does not know", lead, raiseBody(map[string]any{"nickname": "x"}), nil, 400, "malformed", nil},
		{"two JSON objects", lead, raiseBody(nil) + "{}", nil, 400, "malformed", nil},
		{"a body over 64 KiB", lead, raiseBody(map[string]any{"summary": strings.Repeat("x", 70<<10)}), nil, 413, "too_large", nil},
		{"missing and wrong fields", lead, raiseBody(map[string]any{"categories": []string{}, "location_of_risk": "prison", "consent": nil}), nil, 422, "invalid",
			[]string{"categories", "location_of_risk", "consent"}},
		{"a wrong type", lead, raiseBody(map[string]any{"immediate_risk": "no"}), nil, 422, "invalid", []string{"immediate_risk"}},
		{"a child", lead, raiseBody(map[string]any{"subject": map[string]any{"prison_number": "A1234BC", "name": "X", "date_of_birth": time.Now().AddDate(-17, 0, 0).Format("2006-01-02"), "support_needs": []string{}}}), nil, 422, "invalid",
			[]string{"subject.date_of_birth"}},
		{"an unknown establishment", lead, raiseBody(map[string]any{"establishment": "ZZZ"}), nil, 422, "invalid", []string{"establishment"}},
		{"a local authority named as establishment", lead, raiseBody(map[string]any{"establishment": "E08000035"}), nil, 422, "invalid", []string{"establishment"}},
		{"an over-long Idempotency-Key", lead, raiseBody(nil), []string{"Idempotency-Key", strings.Repeat("k", 201)}, 422, "invalid", []string{"Idempotency-Key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := counts(t, svc.db())
			res := svc.do("POST", "/api/v1/concerns", tc.who, strings.NewReader(tc.body), tc.headers...)
			e := wantError(t, res, tc.status, tc.code)
			for _, f := range tc.fields {
				if e.Error.Fields[f] == "" {
					t.Errorf("no message for field %q in %v", f, e.Error.Fields)
				}
			}
			if after := counts(t, svc.db()); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("a refused request wrote rows: before %v after %v", before, after)
			}
		})
	}
}

// testLists raises two more concerns and checks filters, search and cursor paging.
func testLists(t *testing.T, svc *running, first string) {
	var refs []string
	for _, number := range []string{"B2345CD", "C3456DE"} {
		res := svc.do("POST", "/api/v1/concerns", lead, strings.NewReader(raiseBody(map[string]any{"subject": map[string]any{
			"prison_number": number, "name": "Other Person", "date_of_birth": "1970-01-01", "support_needs": []string{"autism"}}})))
		if res.status != http.StatusCreated {
			t.Fatalf("raise: %d %s", res.status, res.body)
		}
		var c safeguard.Concern
		res.json(t, &c)
		refs = append(refs, c.Reference)
	}
	type page struct {
		Items []safeguard.Concern `json:"items"`
		Next  string              `json:"next_cursor"`
	}
	list := func(who, query string) page {
		t.Helper()
		res := svc.do("GET", "/api/v1/concerns?"+query, who, nil)
		if res.status != http.StatusOK {
			t.Fatalf("list %s: %d %s", query, res.status, res.body)
		}
		var p page
		res.json(t, &p)
		return p
	}
	var seen []string
	cursor := ""
	for i := 0; i < 5; i++ {
		p := list(practitioner, "limit=1&cursor="+cursor)
		for _, c := range p.Items {
			seen = append(seen, c.Reference)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if want := []string{refs[1], refs[0], first}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("paging one at a time saw %v, want newest first %v", seen, want)
	}
	if p := list(lead, "q="+subjectNumber); len(p.Items) != 1 || p.Items[0].Reference != first {
		t.Errorf("search by prison number found %d", len(p.Items))
	}
	if p := list(lead, "q=testperson"); len(p.Items) != 1 {
		t.Errorf("search by part of the name found %d, want 1", len(p.Items))
	}
	if p := list(auditor, "stage=notification&establishment=LEI"); len(p.Items) != 3 {
		t.Errorf("auditor's filtered list has %d, want 3", len(p.Items))
	}
	if p := list(lead, "stage=closed"); len(p.Items) != 0 {
		t.Errorf("closed concerns: %d, want 0", len(p.Items))
	}
	e := wantError(t, svc.do("GET", "/api/v1/concerns?stage=open&limit=0&overdue=maybe", lead, nil), 422, "invalid")
	for _, f := range []string{"stage", "limit", "overdue"} {
		if e.Error.Fields[f] == "" {
			t.Errorf("no message for bad filter %s: %v", f, e.Error.Fields)
		}
	}
	wantError(t, svc.do("GET", "/api/v1/concerns?cursor=bogus", lead, nil), 422, "invalid")
}
