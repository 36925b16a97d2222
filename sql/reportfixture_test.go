package sql

import (
	"fmt"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/calendar"
)

// The report fixture: six concerns whose every reporting fact is chosen so that the expected
// figures can be counted by hand (TestSACReport… write them out). The period is the SAC year
// 1 April 2025 – 31 March 2026, in Europe/London.
//
//	A  LEI  raised Tue 1 Apr 2025 00:30 BST (inside: the first minutes of the year)
//	        3 categories; enquiry, findings: risk identified, action taken, reduced; closure
//	        proposed with MSP outcomes fully achieved
//	B  LEI  raised Mon 31 Mar 2025 23:59 BST (outside: the last minute of the year before)
//	C  WYI  raised Wed 10 Sep 2025 10:00; enquiry; paused 5 working days and resumed;
//	        transferred to WDI (host Wakefield), acknowledged; findings inconclusive, no action
//	D  WDI  raised Mon 5 Jan 2026 10:00; no further action at triage
//	E  LEI  raised Tue 31 Mar 2026 23:30 BST (inside: the last minutes of the year); referred
//	        to the LA (handed over)
//	F  LEI  raised Wed 1 Apr 2026 00:10 BST (outside: the next year)
type reportFixture struct {
	refs   map[string]string // letter -> reference
	lead   map[string]*safeguard.User
	period safeguard.Period
}

func lon(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, london)
	if err != nil {
		panic(err)
	}
	return t
}

// due schedules clocks as the built-in policy does: all in working days.
func due(clock string, start time.Time) time.Time {
	n := map[string]int{
		safeguard.ClockLAAcknowledgement: 1, safeguard.ClockTriageDecision: 2, safeguard.ClockLAContribution: 5,
		safeguard.ClockEnquiryCompletion: 20, safeguard.ClockClosureSignoff: 5, safeguard.ClockHandoverAcknowledgement: 1,
	}[clock]
	return england.Add(start, calendar.WorkingDays(n))
}

// concernDriver raises a concern and carries it through the lifecycle with the domain's own
// rules (Lifecycle.Apply), recording every change as the workflow's activity does.
type concernDriver struct {
	t   *testing.T
	db  *DB
	l   *safeguard.Lifecycle
	seq int
}

func raiseFixture(t *testing.T, db *DB, u *safeguard.User, hostLA string, at time.Time, r safeguard.Raise) *concernDriver {
	t.Helper()
	ref, _ := allocate(t, db, r.Establishment, at.In(london).Year(), nil)
	if err := r.Validate(at.In(london)); err != nil {
		t.Fatalf("fixture raise is invalid: %v", err)
	}
	l := safeguard.NewLifecycle(ref, r.Establishment, hostLA, u.ID, at, due)
	must(t, db.RecordRaise(ctx, NewConcern{Reference: ref, Establishment: r.Establishment, HostLA: hostLA, RaisedBy: u.ID, RaisedAt: at, Raise: r, Clocks: l.Clocks}))
	return &concernDriver{t: t, db: db, l: l}
}

func (d *concernDriver) do(u *safeguard.User, a safeguard.Action, at time.Time, in safeguard.Input, target *safeguard.Organisation) {
	d.t.Helper()
	ch, err := d.l.Apply(safeguard.Command{Action: a, Actor: *u, Input: in, Target: target}, at, due)
	if err != nil {
		d.t.Fatalf("%s %s: %v", d.l.Reference, a, err)
	}
	d.seq++
	must(d.t, d.db.RecordChange(ctx, ChangeRecord{Reference: d.l.Reference, EventKey: fmt.Sprintf("%s-%d", a, d.seq), Change: ch}))
	d.l = ch.Lifecycle
}

func fixtureRaise(est, dob string, categories ...string) safeguard.Raise {
	r := validRaise(est)
	r.Subject.DateOfBirth = dob
	r.Categories = categories
	return r
}

func newReportFixture(t *testing.T, db *DB) *reportFixture {
	t.Helper()
	seedOrgs(t, db)
	f := &reportFixture{refs: map[string]string{}, lead: map[string]*safeguard.User{}}
	for _, est := range []string{"LEI", "WYI", "WDI"} {
		f.lead[est] = newUser(t, db, "lead@"+est+".example", est, safeguard.RolePrisonLead)
	}
	laUser := newUser(t, db, "practitioner@leeds.example", leeds, safeguard.RoleLAPractitioner)
	var err error
	f.period, err = safeguard.ParsePeriod("2025-04-01", "2026-03-31", london)
	must(t, err)
	yes, no := true, false
	enquiry := safeguard.Input{Decision: "enquiry", Rationale: "All three tests are met."}

	// A: several categories, concluded with risk reduced, MSP fully achieved.
	ra := fixtureRaise("LEI", "1950-06-01", "physical", "financial", "sexual") // 74 on 1 April 2025
	ra.Subject.Gender, ra.Subject.Ethnicity = "male", "white_irish"
	ra.Subject.SupportNeeds = []string{"learning_disability", "autism"}
	ra.LackedCapacity, ra.Advocacy = "yes", "advocate"
	a := raiseFixture(t, db, f.lead["LEI"], leeds, lon("2025-04-01 00:30"), ra)
	a.do(laUser, safeguard.ActionAcknowledge, lon("2025-04-01 11:00"), safeguard.Input{}, nil)
	a.do(f.lead["LEI"], safeguard.ActionTriage, lon("2025-04-02 10:00"), enquiry, nil)
	a.do(f.lead["LEI"], safeguard.ActionFindings, lon("2025-04-16 10:00"), safeguard.Input{Risk: "identified", ActionTaken: &yes, RiskOutcome: "reduced", Summary: "Found."}, nil)
	a.do(f.lead["LEI"], safeguard.ActionProposeClosure, lon("2025-04-17 10:00"), safeguard.Input{MSPOutcomes: "fully", FeedbackGiven: &yes}, nil)
	f.refs["A"] = a.l.Reference

	// B: a minute before the year.
	b := raiseFixture(t, db, f.lead["LEI"], leeds, lon("2025-03-31 23:59"), fixtureRaise("LEI", "1980-01-01", "neglect"))
	f.refs["B"] = b.l.Reference

	// C: paused, transferred to WDI mid-year, concluded inconclusive with no action.
	rc := fixtureRaise("WYI", "1940-01-01", "psychological") // 85 in September 2025
	rc.Subject.Gender = "female"
	rc.Subject.SupportNeeds = []string{"older_age"}
	rc.LackedCapacity = "no"
	c := raiseFixture(t, db, f.lead["WYI"], leeds, lon("2025-09-10 10:00"), rc)
	c.do(f.lead["WYI"], safeguard.ActionTriage, lon("2025-09-11 10:00"), enquiry, nil)
	c.do(f.lead["WYI"], safeguard.ActionPause, lon("2025-09-15 10:00"), safeguard.Input{Reason: "Police investigating."}, nil)
	c.do(f.lead["WYI"], safeguard.ActionResume, lon("2025-09-22 10:00"), safeguard.Input{Reason: "Police finished."}, nil)
	wdi, err := db.FindOrganisation(ctx, "WDI")
	must(t, err)
	c.do(f.lead["WYI"], safeguard.ActionTransfer, lon("2025-10-01 10:00"), safeguard.Input{ToEstablish: "WDI"}, wdi)
	c.do(f.lead["WDI"], safeguard.ActionAcknowledge, lon("2025-10-01 15:00"), safeguard.Input{}, nil)
	c.do(f.lead["WDI"], safeguard.ActionFindings, lon("2025-10-15 10:00"), safeguard.Input{Risk: "inconclusive", ActionTaken: &no, Summary: "Unclear."}, nil)
	f.refs["C"] = c.l.Reference

	// D: Wakefield only; no further action.
	rd := fixtureRaise("WDI", "2000-01-01", "self_neglect")
	rd.Subject.Gender, rd.Subject.Ethnicity, rd.Subject.SupportNeeds = "other", "asian_indian", []string{}
	rd.LocationOfRisk, rd.SourceOfRisk = "own_home", "other_unknown"
	rd.DesiredOutcomes = &safeguard.DesiredOutcomes{Asked: &no, NotAskedReason: "Declined to speak with staff."}
	d := raiseFixture(t, db, f.lead["WDI"], wakefield, lon("2026-01-05 10:00"), rd)
	d.do(f.lead["WDI"], safeguard.ActionTriage, lon("2026-01-06 10:00"), safeguard.Input{Decision: "no_further_action", Rationale: "Not met."}, nil)
	f.refs["D"] = d.l.Reference

	// E: the last minutes of the year; referred to the LA.
	re := fixtureRaise("LEI", "1990-05-05", "domestic", "physical")
	re.DesiredOutcomes = &safeguard.DesiredOutcomes{Asked: &yes}
	e := raiseFixture(t, db, f.lead["LEI"], leeds, lon("2026-03-31 23:30"), re)
	e.do(f.lead["LEI"], safeguard.ActionTriage, lon("2026-03-31 23:45"), safeguard.Input{Decision: "refer_to_la", Rationale: "LA-led s.42."}, nil)
	f.refs["E"] = e.l.Reference

	// F: the first minutes of the next year.
	fc := raiseFixture(t, db, f.lead["LEI"], leeds, lon("2026-04-01 00:10"), fixtureRaise("LEI", "1970-01-01", "organisational"))
	f.refs["F"] = fc.l.Reference
	return f
}
