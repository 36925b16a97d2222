package http

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/calendar"
	sgsql "github.com/safeguard-project/safeguard/sql"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// The reports over the real handler and a real database of each kind. Concerns are recorded
// as the workflow's activities record them (RecordRaise, then each Change that
// safeguard.Lifecycle.Apply decides), without Temporal: reports read SQL only.

type reportSite struct {
	*site
	tokens map[string]string // role label -> bearer token
	refs   []string          // LEI's concern, WDI's concern
}

func reportDue(clock string, start time.Time) time.Time {
	return england.Add(start, calendar.WorkingDays(map[string]int{safeguard.ClockEnquiryCompletion: 20, safeguard.ClockClosureSignoff: 5}[clock]+1))
}

func newReportSite(t *testing.T, base *site) *reportSite {
	t.Helper()
	ctx := context.Background()
	s := &reportSite{site: base, tokens: map[string]string{}}
	for _, o := range []*safeguard.Organisation{
		{Code: "E08000036", Name: "Wakefield Council", Kind: safeguard.KindLocalAuthority},
		{Code: "WDI", Name: "HMP Wakefield", Kind: safeguard.KindPrison, HostLA: "E08000036"},
	} {
		if err := s.db.UpsertOrganisation(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	wdiLead := s.user("lead@wdi.example", "WDI", safeguard.RolePrisonLead, "")
	for label, u := range map[string]*safeguard.User{
		"leeds_manager":     s.user("manager@leeds.example", "E08000035", safeguard.RoleLAManager, ""),
		"wakefield_manager": s.user("manager@wakefield.example", "E08000036", safeguard.RoleLAManager, ""),
		"auditor":           s.user("auditor@example.org", "E08000035", safeguard.RoleAuditor, ""),
		"lei_manager":       s.user("manager@lei.example", "LEI", safeguard.RolePrisonManager, ""),
		"practitioner":      s.user("practitioner@leeds.example", "E08000035", safeguard.RoleLAPractitioner, ""),
		"lead":              s.lead,
	} {
		tok, err := s.db.CreateToken(ctx, u.ID, "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[label] = tok
	}
	yes := true
	raise := func(u *safeguard.User, est, hostLA string, at time.Time, categories ...string) *safeguard.Lifecycle {
		ref, _, err := s.db.AllocateReference(ctx, est, 2026, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := safeguard.Raise{Establishment: est, Subject: &safeguard.Subject{PrisonNumber: "A1234BC", Name: "Sample Person",
			DateOfBirth: "1950-01-01", SupportNeeds: []string{"mental_health"}, Gender: "male", Ethnicity: "black_caribbean"},
			Categories: categories, LocationOfRisk: "custody", SourceOfRisk: "service_provider", Summary: "s", ImmediateRisk: &yes,
			ActionsTaken: "a", PoliceInformed: &yes, Consent: &safeguard.Consent{Given: &yes}, CapacityConcern: &yes,
			DesiredOutcomes: &safeguard.DesiredOutcomes{Asked: &yes, Outcomes: "To feel safe."}}
		l := safeguard.NewLifecycle(ref, est, hostLA, u.ID, at, reportDue)
		err = s.db.RecordRaise(ctx, sgsql.NewConcern{Reference: ref, Establishment: est, HostLA: hostLA, RaisedBy: u.ID, RaisedAt: at, Raise: r, Clocks: l.Clocks,
			Mail: []sgsql.Mail{{Key: ref + "/raised/host_la", Recipient: "adults@" + hostLA + ".example", Subject: "New concern " + ref, Body: "A link."}}})
		if err != nil {
			t.Fatal(err)
		}
		s.refs = append(s.refs, ref)
		return l
	}
	apply := func(l *safeguard.Lifecycle, u *safeguard.User, a safeguard.Action, at time.Time, in safeguard.Input) *safeguard.Lifecycle {
		ch, err := l.Apply(safeguard.Command{Action: a, Actor: *u, Input: in}, at, reportDue)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if err := s.db.RecordChange(ctx, sgsql.ChangeRecord{Reference: l.Reference, EventKey: string(a), Change: ch}); err != nil {
			t.Fatal(err)
		}
		return ch.Lifecycle
	}
	at := time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC) // Monday
	l := raise(s.lead, "LEI", "E08000035", at, "physical", "financial")
	l = apply(l, s.lead, safeguard.ActionTriage, at.Add(24*time.Hour), safeguard.Input{Decision: "enquiry"})
	apply(l, s.lead, safeguard.ActionFindings, at.Add(72*time.Hour), safeguard.Input{Risk: "identified", ActionTaken: &yes, RiskOutcome: "removed", Summary: "Found."})
	raise(wdiLead, "WDI", "E08000036", at.Add(time.Hour), "physical", "neglect")
	s.clock.t = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return s
}

func (s *reportSite) get(who, target string, headers ...string) (int, string) {
	s.t.Helper()
	rec := s.do(http.MethodGet, target, nil, "", append([]string{"Authorization", "Bearer " + s.tokens[who]}, headers...)...)
	return rec.Code, rec.Body.String()
}

type sacJSON struct {
	Raised    int                                  `json:"concerns_raised"`
	Concluded int                                  `json:"enquiries_concluded"`
	Scope     string                               `json:"scope"`
	Tables    map[string]map[string]map[string]int `json:"tables"`
}

func TestSACReportOverTheAPIIsScopedAndItsCSVMatchesItsJSON(t *testing.T) {
	forEachStore(t, func(t *testing.T, base *site) {
		s := newReportSite(t, base)
		const url = "/api/v1/reports/sac?from=2026-01-01&to=2026-03-31"
		for who, want := range map[string]struct{ raised, concluded, physical int }{
			"auditor": {2, 1, 2}, "leeds_manager": {1, 1, 1}, "wakefield_manager": {1, 0, 1},
		} {
			code, body := s.get(who, url)
			if code != http.StatusOK {
				t.Fatalf("%s: %d %s", who, code, body)
			}
			var got sacJSON
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if got.Raised != want.raised || got.Concluded != want.concluded || got.Tables["SG2a"]["type_of_risk"]["physical"] != want.physical {
				t.Errorf("%s: raised %d, concluded %d, physical %d; want %+v", who, got.Raised, got.Concluded, got.Tables["SG2a"]["type_of_risk"]["physical"], want)
			}
			if who == "leeds_manager" && (got.Tables["custody"]["WDI"] != nil || got.Tables["SG2a"]["type_of_risk"]["neglect"] != 0) {
				t.Errorf("Leeds's report counts Wakefield's concern: %v", got.Tables["custody"])
			}
			if who == "auditor" && (got.Tables["SG1"]["ethnicity"]["black_african_caribbean_black_british"] != 2 || got.Tables["SG2c"]["risk_outcome"]["removed"] != 1) {
				t.Errorf("auditor: SG1 ethnicity %v, SG2c %v", got.Tables["SG1"]["ethnicity"], got.Tables["SG2c"])
			}

			// The CSV holds the same cells, and the totals.
			code, csvBody := s.get(who, url, "Accept", "text/csv")
			if code != http.StatusOK {
				t.Fatalf("%s CSV: %d %s", who, code, csvBody)
			}
			recs, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
			if err != nil || len(recs) < 2 || strings.Join(recs[0], ",") != "table,measure,value,count" {
				t.Fatalf("%s CSV: %v\n%s", who, err, csvBody)
			}
			cells := 0
			for _, r := range recs[1:] {
				n, _ := strconv.Atoi(r[3])
				var fromJSON int
				switch r[0] {
				case "totals":
					fromJSON = map[string]int{"concerns_raised": got.Raised, "enquiries_concluded": got.Concluded}[r[1]]
				default:
					fromJSON = got.Tables[r[0]][r[1]][r[2]]
					cells++
				}
				if n != fromJSON {
					t.Errorf("%s: CSV %v = %d; JSON says %d", who, r[:3], n, fromJSON)
				}
			}
			jsonCells := 0
			for _, ms := range got.Tables {
				for _, vs := range ms {
					jsonCells += len(vs)
				}
			}
			if cells != jsonCells {
				t.Errorf("%s: CSV has %d cells, JSON %d", who, cells, jsonCells)
			}
		}
		if code, body := s.get("lead", url); code != http.StatusForbidden {
			t.Errorf("prison_lead: %d %s; want 403", code, body)
		}
		if n := s.auditCount("read_sac_report", "ok"); n != 6 {
			t.Errorf("%d audited reads of the report; want 6 (three JSON, three CSV)", n)
		}
		if n := s.auditCount("read_sac_report", safeguard.EFORBIDDEN); n != 1 {
			t.Errorf("%d audited refusals; want 1", n)
		}
	})
}

func TestReportPeriodErrorsAre422FieldByField(t *testing.T) {
	forEachStore(t, func(t *testing.T, base *site) {
		s := newReportSite(t, base)
		for _, c := range []struct{ query, field string }{
			{"from=2026-02-30&to=2026-03-01", "from"},
			{"from=2026-03-01&to=2026-02-01", "to"},
			{"to=2026-03-01", "from"},
		} {
			code, body := s.get("auditor", "/api/v1/reports/sac?"+c.query)
			var e errorBody
			_ = json.Unmarshal([]byte(body), &e)
			if code != http.StatusUnprocessableEntity || e.Error.Fields[c.field] == "" {
				t.Errorf("%s: %d %s; want 422 naming %s", c.query, code, body, c.field)
			}
		}
	})
}

func TestTimescalesAndOverdueAuditOverTheAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, base *site) {
		s := newReportSite(t, base)
		code, body := s.get("lei_manager", "/api/v1/reports/timescales?from=2026-02-01&to=2026-02-28")
		var ts struct {
			Unit  string                   `json:"unit"`
			Items []safeguard.TimescaleRow `json:"items"`
		}
		if err := json.Unmarshal([]byte(body), &ts); code != http.StatusOK || err != nil || ts.Unit != "working_days" {
			t.Fatalf("timescales: %d %s", code, body)
		}
		// LEI's triage: Mon 10:00 -> Tue 10:00 = 1 working day, on time; the enquiry: Tue -> Thu = 2.
		found := map[string]safeguard.TimescaleRow{}
		for _, r := range ts.Items {
			found[r.Month+"/"+r.Clock+"/"+r.Organisation] = r
			if r.Organisation == "WDI" {
				t.Errorf("LEI's manager sees WDI's clocks: %+v", r)
			}
		}
		if r := found["2026-02/triage_decision/LEI"]; r.Met != 1 || r.MedianWorkingDays != 1 || r.ShareOnTime != 1 {
			t.Errorf("triage row = %+v", r)
		}
		if r := found["2026-02/enquiry_completion/LEI"]; r.Met != 1 || r.MedianWorkingDays != 2 {
			t.Errorf("enquiry row = %+v", r)
		}
		code, csvBody := s.get("lei_manager", "/api/v1/reports/timescales?from=2026-02-01&to=2026-02-28", "Accept", "text/csv")
		recs, _ := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
		if code != http.StatusOK || len(recs) != len(ts.Items)+1 {
			t.Errorf("timescales CSV: %d, %d rows; want %d", code, len(recs), len(ts.Items)+1)
		}
		if code, _ := s.get("practitioner", "/api/v1/reports/timescales"); code != http.StatusForbidden {
			t.Errorf("la_practitioner reading timescales: %d; want 403", code)
		}

		// On 2 March 2026 WDI's triage (due 2 working days after Mon 2 Feb 11:00, so Thu 5 Feb)
		// and both acknowledgements are long overdue.
		code, body = s.get("auditor", "/api/v1/reports/overdue")
		var audit struct {
			Overdue []safeguard.OverdueGroup `json:"overdue"`
		}
		if err := json.Unmarshal([]byte(body), &audit); code != http.StatusOK || err != nil {
			t.Fatalf("overdue audit: %d %s", code, body)
		}
		got := map[string]int{}
		for _, g := range audit.Overdue {
			got[fmt.Sprintf("%s/%s/%s/%s", g.Organisation, g.Stage, g.Clock, g.Bucket)] = g.Count
		}
		if got["WDI/notification/triage_decision/>10"] != 1 || got["E08000036/notification/la_acknowledgement/>10"] != 1 {
			t.Errorf("overdue audit = %v", got)
		}
		code, body = s.get("leeds_manager", "/api/v1/reports/overdue")
		if code != http.StatusOK || strings.Contains(body, "WDI") {
			t.Errorf("Leeds's overdue audit: %d %s; want no WDI clock", code, body)
		}
	})
}

func TestEvidenceBundleOverTheAPIMatchesTheTimelineAndOutbox(t *testing.T) {
	forEachStore(t, func(t *testing.T, base *site) {
		s := newReportSite(t, base)
		ref := s.refs[0]
		code, body := s.get("lei_manager", "/api/v1/concerns/"+ref+"/evidence")
		if code != http.StatusOK {
			t.Fatalf("evidence: %d %s", code, body)
		}
		var b safeguard.EvidenceBundle
		if err := json.Unmarshal([]byte(body), &b); err != nil {
			t.Fatal(err)
		}
		c, err := s.db.FindConcern(context.Background(), safeguard.Scope{All: true, SeesStaffAllegations: true}, ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Concern.Timeline) != len(c.Timeline) || len(c.Timeline) != 3 {
			t.Errorf("chronology has %d entries; the timeline %d", len(b.Concern.Timeline), len(c.Timeline))
		}
		for i := range c.Timeline {
			if i < len(b.Concern.Timeline) && (b.Concern.Timeline[i].Kind != c.Timeline[i].Kind || !b.Concern.Timeline[i].At.Equal(c.Timeline[i].At)) {
				t.Errorf("chronology[%d] = %s at %v; timeline %s at %v", i, b.Concern.Timeline[i].Kind, b.Concern.Timeline[i].At, c.Timeline[i].Kind, c.Timeline[i].At)
			}
		}
		m, err := s.db.OutboxMessage(context.Background(), ref+"/raised/host_la")
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Mail) != 1 || b.Mail[0].Recipient != m.Recipient || !b.Mail[0].CreatedAt.Equal(m.CreatedAt) || b.Mail[0].Status != m.Status {
			t.Errorf("mail = %+v; outbox %+v", b.Mail, m)
		}
		last := b.AccessLog[len(b.AccessLog)-1]
		if last.Action != string(safeguard.ActionReadEvidence) || last.Outcome != "ok" || last.Hash == "" || last.UserRole != string(safeguard.RolePrisonManager) {
			t.Errorf("the access log should end with this read, hashed: %+v", last)
		}
		if code, _ := s.get("wakefield_manager", "/api/v1/concerns/"+ref+"/evidence"); code != http.StatusNotFound {
			t.Errorf("another authority's manager: %d; want 404", code)
		}
		if code, _ := s.get("lead", "/api/v1/concerns/"+ref+"/evidence"); code != http.StatusForbidden {
			t.Errorf("prison_lead: %d; want 403", code)
		}
		if code, _ := s.get("auditor", "/api/v1/concerns/"+ref+"/evidence"); code != http.StatusOK {
			t.Errorf("auditor: %d; want 200", code)
		}
	})
}

func TestOverduePageCountsOnlySoFarPastThePage(t *testing.T) {
	s := newReportSite(t, newSite(t, sqltest.SQLite(t)))
	auditor, err := s.db.FindUserByEmail(context.Background(), "auditor@example.org")
	if err != nil {
		t.Fatal(err)
	}
	session, _, err := s.db.CreateSession(context.Background(), auditor.ID, "192.0.2.10", "test")
	if err != nil {
		t.Fatal(err)
	}
	heading := func() string {
		rec := s.do(http.MethodGet, "/overdue", nil, session, "Accept", "text/html")
		code, body := rec.Code, rec.Body.String()
		if code != http.StatusOK {
			t.Fatalf("/overdue: %d %s", code, body)
		}
		for _, part := range strings.Split(body, "<h2>")[1:] {
			if h, _, _ := strings.Cut(part, "</h2>"); strings.Contains(h, "overdue") {
				return h
			}
		}
		t.Fatalf("/overdue has no heading counting the overdue deadlines:\n%s", body)
		return ""
	}
	all := heading()
	if strings.HasPrefix(all, "More than") {
		t.Fatalf("with room to count them all the page says %q", all)
	}
	defer func(n int) { overdueCountAhead = n }(overdueCountAhead)
	overdueCountAhead = 1
	if got := heading(); got != "More than 1 overdue deadlines" {
		t.Errorf("counting one past the page the heading is %q (all: %q); want \"More than 1 overdue deadlines\"", got, all)
	}
}
