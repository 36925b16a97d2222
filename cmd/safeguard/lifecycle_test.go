package main

import (
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/mail/mailtest"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// fastPolicy is a seconds-scale policy: every clock is due 6s after it starts, with a reminder
// 3s before, the overdue notice at due, and escalations 3s and 6s after.
const fastPolicy = `
timezone: Europe/London
calendar: england-and-wales
clocks:
  la_acknowledgement: {due: 6s, ladder: [{at: -3s, notify: [responsible_inbox]}, {at: 0, notify: [responsible_inbox]}, {at: 3s, notify: [responsible_managers]}, {at: 6s, notify: [responsible_managers, partner_managers]}]}
  triage_decision: {due: 1h, ladder: []}
  la_contribution: {due: 1h, ladder: []}
  enquiry_completion: {due: 1h, ladder: []}
  closure_signoff: {due: 1h, ladder: []}
  handover_acknowledgement: {due: 1h, ladder: []}
`

func writePolicy(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (r *running) raise(t *testing.T) string {
	t.Helper()
	res := r.do("POST", "/api/v1/concerns", lead, strings.NewReader(raiseBody(nil)))
	if res.status != http.StatusCreated {
		t.Fatalf("raise: %d %s", res.status, res.body)
	}
	var c safeguard.Concern
	res.json(t, &c)
	return c.Reference
}

// ladderMail returns, in arrival order, the subjects of mail about the LA acknowledgement clock.
func ladderMail(s *mailtest.Server) []mailtest.Message {
	var out []mailtest.Message
	for _, m := range s.Messages() {
		if strings.Contains(m.Subject, "acknowledgement by the host local authority") {
			out = append(out, m)
		}
	}
	return out
}

// TestLadderEndToEnd lets the host LA's acknowledgement slip on a seconds-scale policy and checks
// that the reminder, the overdue notice and both escalations arrive at the SMTP server in order,
// each once, to the right people, and that the overdue list shows the breach.
func TestLadderEndToEnd(t *testing.T) {
	smtp := mailtest.Start(t)
	svc := startService(t, env{"DATABASE_URL": sqltest.SQLite(t), "SMTP_URL": smtp.URL(), "SAFEGUARD_POLICY_FILE": writePolicy(t, fastPolicy)})
	ref := svc.raise(t)

	waitFor(t, 60*time.Second, "four ladder messages", func() bool { return len(ladderMail(smtp)) >= 5 })
	time.Sleep(1500 * time.Millisecond) // anything sent twice would arrive now
	msgs := ladderMail(smtp)
	want := []struct{ kind, to string }{
		{"Reminder", "adult.safeguarding@leeds.example.org"},
		{"Overdue", "adult.safeguarding@leeds.example.org"},
		{"Escalation", "manager@leeds.example.org"},
		{"Escalation", "manager@leeds.example.org"},
		{"Escalation", "manager@prison.example.org"},
	}
	if len(msgs) != len(want) {
		for _, m := range msgs {
			t.Logf("%v %s", m.To, m.Subject)
		}
		t.Fatalf("%d ladder messages, want %d", len(msgs), len(want))
	}
	for i, w := range want[:3] {
		if !strings.HasPrefix(msgs[i].Subject, w.kind) || msgs[i].To[0] != w.to {
			t.Errorf("message %d: %q to %v, want %s to %s", i, msgs[i].Subject, msgs[i].To, w.kind, w.to)
		}
	}
	// The last rung goes to the LA's managers and the prison's, in either order.
	last := map[string]bool{msgs[3].To[0]: true, msgs[4].To[0]: true}
	if !last["manager@leeds.example.org"] || !last["manager@prison.example.org"] {
		t.Errorf("the last rung went to %v, want both organisations' managers", last)
	}
	for _, m := range msgs {
		assertNoPersonalData(t, "ladder mail", m.Subject+m.Body)
		if !strings.Contains(m.Subject, ref) {
			t.Errorf("ladder mail %q lacks the reference", m.Subject)
		}
	}

	var c safeguard.Concern
	svc.do("GET", "/api/v1/concerns/"+ref, practitioner, nil).json(t, &c)
	var ack *safeguard.Clock
	for i := range c.Clocks {
		if c.Clocks[i].Name == safeguard.ClockLAAcknowledgement {
			ack = &c.Clocks[i]
		}
	}
	if ack == nil || ack.State != safeguard.ClockBreached || ack.Step != 4 || ack.BreachedAt == nil {
		t.Errorf("la_acknowledgement clock = %+v, want breached with all 4 rungs fired", ack)
	}
	var steps int
	for _, e := range c.Timeline {
		if e.Kind == "ladder_step" {
			steps++
		}
	}
	if steps != 4 {
		t.Errorf("%d ladder entries in the timeline, want 4", steps)
	}

	t.Run("the overdue list shows the breach to managers, most overdue first, as JSON and CSV", func(t *testing.T) {
		var list struct {
			Items []struct {
				Reference string `json:"reference"`
				Clock     string `json:"clock"`
				Step      int    `json:"step_reached"`
			} `json:"items"`
		}
		res := svc.do("GET", "/api/v1/overdue", laManager, nil)
		res.json(t, &list)
		if res.status != 200 || len(list.Items) != 1 || list.Items[0].Reference != ref || list.Items[0].Clock != "la_acknowledgement" || list.Items[0].Step != 4 {
			t.Errorf("overdue for the LA manager: %d %s", res.status, res.body)
		}
		res = svc.do("GET", "/api/v1/overdue", auditor, nil, "Accept", "text/csv")
		rows, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
		if err != nil || len(rows) != 2 || rows[0][0] != "reference" || rows[1][0] != ref {
			t.Errorf("overdue CSV for the auditor: %v %q", err, res.body)
		}
		wantError(t, svc.do("GET", "/api/v1/overdue", lead, nil), 403, "forbidden")
	})

	t.Run("acknowledging stops the clock and nothing more is sent for it", func(t *testing.T) {
		before := len(ladderMail(smtp))
		res := svc.do("POST", "/api/v1/concerns/"+ref+"/acknowledge", practitioner, strings.NewReader(`{}`))
		if res.status != 200 {
			t.Fatalf("acknowledge: %d %s", res.status, res.body)
		}
		var after safeguard.Concern
		res.json(t, &after)
		for _, k := range after.Clocks {
			if k.Name == safeguard.ClockLAAcknowledgement && k.State != safeguard.ClockMet {
				t.Errorf("after acknowledgement the clock is %s", k.State)
			}
		}
		wantError(t, svc.do("POST", "/api/v1/concerns/"+ref+"/acknowledge", practitioner, strings.NewReader(`{}`)), 409, "conflict")
		if n := len(ladderMail(smtp)); n != before {
			t.Errorf("%d more ladder messages after acknowledgement", n-before)
		}
	})
}

// TestLifecycleOverHTTP walks a concern through the lifecycle's actions over the API and checks
// the refusals on the way: wrong stage 409, wrong role 403, out of scope 404, bad input 422.
func TestLifecycleOverHTTP(t *testing.T) {
	smtp := mailtest.Start(t)
	svc := startService(t, env{"DATABASE_URL": sqltest.SQLite(t), "SMTP_URL": smtp.URL()})
	ref := svc.raise(t)
	post := func(who, action, body string) response {
		t.Helper()
		return svc.do("POST", "/api/v1/concerns/"+ref+"/"+action, who, strings.NewReader(body))
	}
	stage := func(res response) safeguard.Stage {
		t.Helper()
		if res.status != 200 {
			t.Fatalf("%d %s", res.status, res.body)
		}
		var c safeguard.Concern
		res.json(t, &c)
		return c.Stage
	}
	other := otherPrisonLead(t, svc)

	wantError(t, post(practitioner, "triage", `{"decision":"enquiry"}`), 403, "forbidden")
	wantError(t, post(other, "triage", `{"decision":"enquiry"}`), 404, "not_found")
	e := wantError(t, post(lead, "triage", `{"decision":"no_further_action"}`), 422, "invalid")
	if e.Error.Fields["rationale"] == "" {
		t.Errorf("no message on rationale: %v", e.Error.Fields)
	}
	wantError(t, post(lead, "findings", `{"risk":"identified","action_taken":true,"risk_outcome":"reduced","summary":"x"}`), 409, "conflict")
	if s := stage(post(practitioner, "acknowledge", `{}`)); s != safeguard.StageNotification {
		t.Errorf("after acknowledgement stage %s", s)
	}
	if s := stage(post(lead, "triage", `{"decision":"enquiry","rationale":"All three tests are met."}`)); s != safeguard.StageEnquiry {
		t.Errorf("after triage stage %s", s)
	}
	wantError(t, post(lead, "triage", `{"decision":"enquiry"}`), 409, "conflict")
	e = wantError(t, post(lead, "contribution-requests", `{"organisation":"ZZZ9","question":"Is a care assessment needed?"}`), 422, "invalid")
	if e.Error.Fields["organisation"] == "" {
		t.Errorf("no message on organisation: %v", e.Error.Fields)
	}
	if s := stage(post(lead, "contribution-requests", `{"organisation":"LEI-HEALTH","question":"Is a care assessment needed?"}`)); s != safeguard.StageLAContribution {
		t.Errorf("after the request stage %s", s)
	}
	// The health partner is now involved: it can read the concern and answer.
	if res := svc.do("GET", "/api/v1/concerns/"+ref, partner, nil); res.status != 200 {
		t.Errorf("the asked partner cannot read the concern: %d", res.status)
	}
	if s := stage(post(partner, "contributions", `{"advice":"A nurse will review his medication.","care_assessment":"needed"}`)); s != safeguard.StageEnquiry {
		t.Errorf("after the contribution stage %s", s)
	}
	if s := stage(post(lead, "pause", `{"reason":"Police investigating"}`)); s != safeguard.StagePaused {
		t.Errorf("after pause stage %s", s)
	}
	wantError(t, post(lead, "findings", `{"risk":"identified","action_taken":true,"risk_outcome":"reduced","summary":"x"}`), 409, "conflict")
	if s := stage(post(lead, "resume", `{"reason":"Police finished"}`)); s != safeguard.StageEnquiry {
		t.Errorf("after resume stage %s", s)
	}
	if s := stage(post(lead, "findings", `{"risk":"identified","action_taken":true,"risk_outcome":"reduced","summary":"Canteen returned; the other man moved."}`)); s != safeguard.StageClosure {
		t.Errorf("after findings stage %s", s)
	}
	if s := stage(post(lead, "close", `{"msp_outcomes":"fully","feedback_given":true}`)); s != safeguard.StageClosure {
		t.Errorf("after the proposal stage %s", s)
	}
	wantError(t, post(lead, "close", `{"msp_outcomes":"fully","feedback_given":true}`), 409, "conflict")
	if s := stage(post(prisonMgr, "close", `{}`)); s != safeguard.StageClosed {
		t.Errorf("after sign-off stage %s", s)
	}
	wantError(t, post(auditor, "reopen", `{"reason":"x"}`), 403, "forbidden")
	if s := stage(post(lead, "reopen", `{"reason":"New information from his family"}`)); s != safeguard.StageEnquiry {
		t.Errorf("after reopening stage %s", s)
	}
	wantError(t, post(lead, "no-such-action", `{}`), 404, "not_found")

	var c safeguard.Concern
	svc.do("GET", "/api/v1/concerns/"+ref, lead, nil).json(t, &c)
	var kinds []string
	for _, e := range c.Timeline {
		kinds = append(kinds, e.Kind)
	}
	wantKinds := "raised acknowledged triaged contribution_requested contributed paused resumed findings_recorded closure_proposed closed reopened"
	if got := strings.Join(kinds, " "); got != wantKinds {
		t.Errorf("timeline %q\nwant     %q", got, wantKinds)
	}
	if len(c.Contributions) != 1 || c.Contributions[0].Advice == "" || c.Contributions[0].AnsweredAt == nil {
		t.Errorf("contributions = %+v", c.Contributions)
	}
	// The advice request and its answer were notified, without personal data.
	waitFor(t, 20*time.Second, "the contribution mail", func() bool {
		n := 0
		for _, m := range smtp.Messages() {
			if strings.Contains(m.Subject, "Advice") {
				n++
				assertNoPersonalData(t, "mail", m.Subject+m.Body)
			}
		}
		return n == 2
	})
}
