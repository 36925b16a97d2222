package http

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

func renderPage(t *testing.T, page string, v View) string {
	t.Helper()
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	s.render(rec, req, 200, page, v)
	if rec.Code != 200 {
		t.Fatalf("render %s: %d %s", page, rec.Code, rec.Body.String())
	}
	body := rec.Body.String()
	if strings.Contains(body, "style=") || strings.Contains(body, "<script") {
		t.Errorf("%s carries inline style or script, which the CSP forbids", page)
	}
	return body
}

var lead = &safeguard.User{ID: 1, Name: "A Lead", Role: safeguard.RolePrisonLead, OrgCode: "LEI", OrgKind: safeguard.KindPrison}

// An empty raise form gets one sentence for each required field, linked from the error summary
// to the field, and what was typed comes back.
func TestRaiseFormExplainsEachErrorAndKeepsWhatWasTyped(t *testing.T) {
	values := url.Values{"establishment": {"LEI"}, "subject.name": {"Kept Name"}, "subject.date_of_birth.day": {"31"},
		"subject.date_of_birth.month": {"2"}, "subject.date_of_birth.year": {"1960"}, "consent.given": {"no"}, "categories": {"neglect"}}
	raise := raiseFromForm(values)
	err := raise.Validate(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	fields, ok := formErrors(err, "")
	if !ok {
		t.Fatalf("validation error not shown on the form: %v", err)
	}
	for _, f := range []string{"subject.prison_number", "subject.date_of_birth", "subject.support_needs", "location_of_risk", "source_of_risk",
		"summary", "immediate_risk", "actions_taken", "police_informed", "consent.reason_if_not", "capacity_concern", "desired_outcomes.asked"} {
		if fields[f] == "" {
			t.Errorf("no message for %s; got %v", f, fields)
		}
	}
	if fields["categories"] != "" || fields["establishment"] != "" {
		t.Errorf("messages for fields that were right: %v", fields)
	}
	if !strings.HasPrefix(fields["subject.date_of_birth"], "Date of birth must be a real date") {
		t.Errorf("31 February: %q", fields["subject.date_of_birth"])
	}
	body := renderPage(t, "raise", View{User: lead, Title: "Raise a concern", Data: newRaisePage(), Form: &Form{Values: values, Errors: fields, Order: raiseFields}})
	for _, want := range []string{`href="#f-subject-prison-number">Enter the adult&#39;s prison number`, `value="Kept Name"`, `value="31"`,
		`type="checkbox" id="f-categories-neglect" name="categories" value="neglect" checked`, `type="radio" id="f-consent-given-no" name="consent.given" value="no" checked`,
		`<title>Error: Raise a concern – Safeguard</title>`, `aria-describedby="f-subject-prison-number-hint f-subject-prison-number-error"`} {
		if !strings.Contains(body, want) {
			t.Errorf("raise page lacks %s", want)
		}
	}
}

// The concern page says how each clock stands in words, and offers only what the policy and
// the stage allow: the lead may triage a new concern, the host LA's practitioner only
// acknowledge it.
func TestConcernPageOffersOnlyWhatTheRoleMayDoNow(t *testing.T) {
	now := time.Now()
	c := &safeguard.Concern{Reference: "SG-LEI-2026-00001", Stage: safeguard.StageNotification, Establishment: "LEI", HostLA: "E08000035",
		Clocks: []safeguard.Clock{
			{Name: safeguard.ClockLAAcknowledgement, Organisation: "E08000035", State: safeguard.ClockBreached, Due: now.Add(-72 * time.Hour)},
			{Name: safeguard.ClockTriageDecision, Organisation: "LEI", State: safeguard.ClockRunning, Due: now.Add(30 * 24 * time.Hour)},
		}}
	inv := &safeguard.Involvement{Establishment: "LEI", HostLA: "E08000035"}
	la := &safeguard.User{ID: 2, Role: safeguard.RoleLAPractitioner, OrgCode: "E08000035", OrgKind: safeguard.KindLocalAuthority}
	for _, tc := range []struct {
		u          *safeguard.User
		want, dont []string
	}{
		{lead, []string{"triage"}, []string{"acknowledge", "contributions", "findings", "close", "reopen"}},
		{la, []string{"acknowledge"}, []string{"triage", "pause", "contribution-requests", "transfer"}},
	} {
		o := offers(tc.u, c, inv)
		for _, a := range tc.want {
			if !o[a] {
				t.Errorf("%s is not offered %s", tc.u.Role, a)
			}
		}
		for _, a := range tc.dont {
			if o[a] {
				t.Errorf("%s is offered %s", tc.u.Role, a)
			}
		}
	}
	v := concernView{C: c, Offers: offers(lead, c, inv), AnyOffer: true, Key: "k", TriageOptions: triageOptions}
	for _, k := range c.Clocks {
		v.Clocks = append(v.Clocks, viewClock(k, now))
	}
	body := renderPage(t, "concern", View{User: lead, Title: "Concern", Data: v, Form: &Form{}})
	for _, want := range []string{"Overdue by ", "Due in ", `action="/concerns/SG-LEI-2026-00001/triage"`} {
		if !strings.Contains(body, want) {
			t.Errorf("concern page lacks %q", want)
		}
	}
	if strings.Contains(body, "/acknowledge") {
		t.Error("the lead is shown the host LA's acknowledgement")
	}
}

func TestStaticPagesRender(t *testing.T) {
	for _, p := range []string{"accessibility", "privacy"} {
		renderPage(t, p, View{Title: p})
	}
	renderPage(t, "work", View{User: lead, Title: "Your work", Data: workPage{Page: 1, CanRaise: true}})
	renderPage(t, "overdue", View{User: lead, Title: "Overdue", Data: overduePage{Sorts: overdueSorts}, Form: &Form{Values: url.Values{}}})
	_ = context.Background
}
