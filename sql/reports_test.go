package sql

import (
	"maps"
	"slices"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/safeguard-project/safeguard"
)

// nonZero is a report's non-zero cells as "table/measure/value" -> count.
func nonZero(r *safeguard.SACReport) map[string]int {
	out := map[string]int{}
	for _, c := range r.Cells {
		if c.Count != 0 {
			out[c.Table+"/"+c.Measure+"/"+c.Value] += c.Count
		}
	}
	return out
}

func diffCells(t *testing.T, got, want map[string]int) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("%s = %d; want %d", k, got[k], want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("%s = %d; want 0", k, got[k])
		}
	}
}

func TestSACReportCountsTheYearByHand(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newReportFixture(t, db)
		rep, err := db.SACReport(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, f.period)
		must(t, err)
		// Raised in the year: A, C, D, E (B and F fall a minute either side). Concluded: A, C.
		if rep.Raised != 4 || rep.Concluded != 2 || rep.Scope != "national" {
			t.Errorf("raised %d, concluded %d, scope %q; want 4, 2, national", rep.Raised, rep.Concluded, rep.Scope)
		}
		diffCells(t, nonZero(rep), map[string]int{
			// A is 74 at raising, C 85, D 26, E 35.
			"SG1/age_band/18-64": 2, "SG1/age_band/65-74": 1, "SG1/age_band/85-94": 1,
			"SG1/gender/male": 1, "SG1/gender/female": 1, "SG1/gender/other": 1, "SG1/gender/not_known": 1,
			"SG1/ethnicity/white": 1, "SG1/ethnicity/asian_asian_british": 1, "SG1/ethnicity/undeclared_not_known": 2,
			// A and E: learning disability first; C: older age is physical support; D: none recorded.
			"SG1/primary_support_reason/learning_disability": 2, "SG1/primary_support_reason/physical": 1,
			"SG1/primary_support_reason/no_support_reason": 1,
			"SG1/autism/yes": 1, "SG1/autism/no": 3,
			// A counts in each of its three types; E in both of its two.
			"SG2a/type_of_risk/physical": 2, "SG2a/type_of_risk/financial": 1, "SG2a/type_of_risk/sexual": 1,
			"SG2a/type_of_risk/psychological": 1, "SG2a/type_of_risk/self_neglect": 1, "SG2a/type_of_risk/domestic": 1,
			// Custody is "other" in the return.
			"SG2b/location_of_risk/other": 3, "SG2b/location_of_risk/own_home": 1,
			"SG2b/source_of_risk/other_known": 3, "SG2b/source_of_risk/other_unknown": 1,
			"SG2c/action_and_result/risk_identified_action_taken": 1, "SG2c/action_and_result/inconclusive_no_action": 1,
			"SG2c/risk_outcome/reduced": 1,
			"SG3/lacked_capacity/yes":   1, "SG3/lacked_capacity/no": 1, "SG3/lacked_capacity/not_known": 2,
			"SG3/support_if_lacked_capacity/advocate":     1,
			"SG4/outcomes_asked/asked_outcomes_expressed": 2, "SG4/outcomes_asked/asked_none_expressed": 1,
			"SG4/outcomes_asked/not_asked": 1,
			"SG4/outcomes_achieved/fully":  1,
			// Neither A's findings nor C's said whether the case went to the Board for a review.
			"SG5/review_referral/not_recorded": 2,
			// C is counted where it was raised (WYI), as transferred out, and not at WDI.
			"custody/LEI/raised": 2, "custody/LEI/prison_led": 1, "custody/LEI/handed_over": 1,
			"custody/WYI/raised": 1, "custody/WYI/prison_led": 1, "custody/WYI/transferred_out": 1,
			"custody/WDI/raised": 1, "custody/WDI/no_further_action": 1,
		})
		// The shape of the return: every cell of every measure is present, zeros included.
		have := map[string]bool{}
		for _, c := range rep.Cells {
			have[c.Table+"/"+c.Measure+"/"+c.Value] = true
		}
		for _, m := range safeguard.SACMeasures {
			for _, v := range m.Values {
				if !have[m.Table+"/"+m.Measure+"/"+v] {
					t.Errorf("cell %s/%s/%s is missing", m.Table, m.Measure, v)
				}
			}
		}
	})
}

func TestSACReportIsScopedToTheLocalAuthorityInTheQuery(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newReportFixture(t, db)
		// Leeds hosts LEI and WYI: A, C (transferred away, still involving Leeds) and E.
		rep, err := db.SACReport(ctx, safeguard.Scope{Org: leeds, User: 99}, f.period)
		must(t, err)
		got := nonZero(rep)
		if rep.Raised != 3 || rep.Concluded != 2 || rep.Scope != leeds {
			t.Errorf("Leeds: raised %d, concluded %d, scope %q; want 3, 2, %s", rep.Raised, rep.Concluded, rep.Scope, leeds)
		}
		if got["custody/WDI/raised"] != 0 || got["SG2a/type_of_risk/self_neglect"] != 0 {
			t.Errorf("Leeds's report counts D, a Wakefield-only concern: %v", got)
		}
		// Wakefield: D, and C since its transfer to WDI.
		rep, err = db.SACReport(ctx, safeguard.Scope{Org: wakefield, User: 99}, f.period)
		must(t, err)
		got = nonZero(rep)
		if rep.Raised != 2 || got["custody/WYI/raised"] != 1 || got["custody/WDI/raised"] != 1 || got["custody/LEI/raised"] != 0 {
			t.Errorf("Wakefield: raised %d, cells %v; want C and D only", rep.Raised, got)
		}
	})
}

func TestSACReportPeriodBoundariesAreDaysInLondon(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		newReportFixture(t, db)
		// The day before the year holds only B (23:59 BST on 31 March 2025, 22:59 UTC).
		p, err := safeguard.ParsePeriod("2025-03-31", "2025-03-31", london)
		must(t, err)
		rep, err := db.SACReport(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, p)
		must(t, err)
		if rep.Raised != 1 || nonZero(rep)["SG2a/type_of_risk/neglect"] != 1 {
			t.Errorf("31 March 2025: raised %d; want B alone", rep.Raised)
		}
		// 1 April 2026 holds only F, raised at 00:10 BST (23:10 UTC on 31 March).
		p, err = safeguard.ParsePeriod("2026-04-01", "2026-04-01", london)
		must(t, err)
		rep, err = db.SACReport(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, p)
		must(t, err)
		if rep.Raised != 1 || nonZero(rep)["SG2a/type_of_risk/organisational"] != 1 {
			t.Errorf("1 April 2026: raised %d; want F alone", rep.Raised)
		}
	})
}

func TestTimescalesCountWorkingDaysToMeetLeavingOutPauses(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newReportFixture(t, db)
		rows, err := db.Timescales(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, f.period)
		must(t, err)
		byKey := map[string]safeguard.TimescaleRow{}
		for _, r := range rows {
			byKey[r.Month+"/"+r.Clock+"/"+r.Organisation] = r
		}
		check := func(key string, met, onTime, median, p90 int) {
			t.Helper()
			r, ok := byKey[key]
			if !ok {
				t.Errorf("no row %s; rows %v", key, slices.Sorted(maps.Keys(byKey)))
				return
			}
			if r.Met != met || r.MetOnTime != onTime || r.MedianWorkingDays != median || r.P90WorkingDays != p90 {
				t.Errorf("%s = met %d, on time %d, median %d, p90 %d; want %d, %d, %d, %d", key, r.Met, r.MetOnTime, r.MedianWorkingDays, r.P90WorkingDays, met, onTime, median, p90)
			}
		}
		// Triage: A Tue 00:30 -> Wed 10:00 = 1 wd; C Wed 10:00 -> Thu 10:00 = 1; D Mon 10:00 ->
		// Tue 10:00 = 1; E Tue 23:30 -> 23:45 the same night = 0 (31 March 2026 is in March).
		check("2025-04/triage_decision/LEI", 1, 1, 1, 1)
		check("2025-09/triage_decision/WYI", 1, 1, 1, 1)
		check("2026-01/triage_decision/WDI", 1, 1, 1, 1)
		check("2026-03/triage_decision/LEI", 1, 1, 0, 0)
		check("all/triage_decision/all", 4, 4, 1, 1)
		check("all/triage_decision/LEI", 2, 2, 0, 1)
		// The enquiry: A Wed 2 Apr 10:00 -> Wed 16 Apr 10:00 = 10 wd. C Thu 11 Sep 10:00 -> Wed 15
		// Oct 10:00 is 24 wd, less its pause of Mon 15 -> Mon 22 Sep (5 wd) = 19, on time (due moved).
		check("2025-04/enquiry_completion/LEI", 1, 1, 10, 10)
		check("2025-10/enquiry_completion/WDI", 1, 1, 19, 19)
		check("all/enquiry_completion/all", 2, 2, 10, 19)
		// The host LA acknowledged A at 11:00 the morning it was raised: 0 wd, on time.
		check("2025-04/la_acknowledgement/"+leeds, 1, 1, 0, 0)
	})
}

func TestOverdueAuditBucketsByWorkingDaysAndNamesEscalationsByRole(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newReportFixture(t, db)
		// On Fri 16 Jan 2026 10:00: B was never acted on (raised March 2025), C's host LA never
		// acknowledged it (Wakefield's since the transfer), A's closure was never signed off; D
		// ended at triage, and E and F lie ahead. Each clock's bucket is worked out here from
		// the calendar, clock by clock, and must match the buckets the query computes.
		now := lon("2026-01-16 10:00")
		groups, err := db.OverdueAudit(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, now)
		must(t, err)
		got := map[string]int{}
		for _, g := range groups {
			got[g.Organisation+"/"+g.Stage+"/"+g.Clock+"/"+g.Bucket] += g.Count
		}
		want := map[string]int{}
		for _, ref := range f.refs {
			c, err := db.FindConcern(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, ref)
			must(t, err)
			for _, k := range c.Clocks {
				if (k.State == safeguard.ClockRunning || k.State == safeguard.ClockBreached) && k.Due.Before(now) {
					want[k.Organisation+"/"+string(c.Stage)+"/"+k.Name+"/"+safeguard.AgeingBucket(england.WorkingDaysBetween(k.Due, now))]++
				}
			}
		}
		if got[leeds+"/notification/la_acknowledgement/>10"] != 1 || got["LEI/notification/triage_decision/>10"] != 1 ||
			got[wakefield+"/closure/la_acknowledgement/>10"] != 1 || got["LEI/closure/closure_signoff/>10"] != 1 || len(got) != 4 {
			t.Errorf("overdue = %v; want B's two clocks, C's acknowledgement and A's sign-off, all >10 wd", got)
		}
		diffCells(t, got, want)
		// Escalations: a rung of B's acknowledgement clock to the managers on both sides, and
		// one of its triage clock recorded before rung details named organisations.
		b := f.refs["B"]
		ok, err := db.RecordStep(ctx, StepRecord{Reference: b, ClockID: "la_acknowledgement-1", Index: 2, At: lon("2025-04-03 10:00"), Breached: true,
			Detail: map[string]any{"clock": "la_acknowledgement", "clock_id": "la_acknowledgement-1", "step": 2,
				"notified": []string{"responsible_managers", "partner_managers"}, "recipients": 3, "organisation": leeds, "partner": "LEI"}})
		must(t, err)
		ok2, err := db.RecordStep(ctx, StepRecord{Reference: b, ClockID: "triage_decision-2", Index: 0, At: lon("2025-04-01 10:00"),
			Detail: map[string]any{"clock": "triage_decision", "clock_id": "triage_decision-2", "step": 0, "notified": []string{"responsible_inbox", "partner_managers"}, "recipients": 1}})
		must(t, err)
		if !ok || !ok2 {
			t.Fatal("fixture: rungs not recorded")
		}
		esc, err := db.Escalations(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, now, "")
		must(t, err)
		if len(esc) != 2 || esc[0].Clock != "triage_decision" || esc[0].Step != 1 ||
			!slices.Equal(esc[0].Notified, []safeguard.Notified{{Organisation: "LEI", Role: "safeguarding_inbox"}, {Organisation: leeds, Role: "managers"}}) ||
			esc[1].Step != 3 || !slices.Equal(esc[1].Notified, []safeguard.Notified{{Organisation: leeds, Role: "managers"}, {Organisation: "LEI", Role: "managers"}}) || esc[1].Recipients != 3 {
			t.Errorf("escalations = %+v", esc)
		}
		if esc, err := db.Escalations(ctx, safeguard.Scope{Org: wakefield, User: 99}, now, ""); err != nil || len(esc) != 0 {
			t.Errorf("Wakefield sees Leeds's escalations: %+v, %v", esc, err)
		}
		// Leeds sees no Wakefield-only clock.
		groups, err = db.OverdueAudit(ctx, safeguard.Scope{Org: wakefield, User: 99}, now)
		must(t, err)
		for _, g := range groups {
			if g.Organisation == leeds && g.Stage == "notification" {
				t.Errorf("Wakefield's audit counts B, a Leeds concern: %+v", g)
			}
		}
	})
}

func TestEvidenceBundleHoldsTheTimelineOutboxAndAuditChain(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newReportFixture(t, db)
		ref := f.refs["A"]
		// Mail and an audited read, as the service would write them.
		must(t, db.inTx(ctx, func(tx *sqlx.Tx) error {
			return db.enqueue(ctx, tx, ref, lon("2025-04-01 00:30"), []Mail{
				{Key: ref + "/raised/host_la", Recipient: "adults@leeds.example", Subject: "New concern " + ref, Body: "Link."},
				{Key: ref + "/triage_decision-2/step-1/abc", Recipient: "safeguarding@lei.example", Subject: "Overdue " + ref, Body: "Link."},
			})
		}))
		uid := f.lead["LEI"].ID
		must(t, db.Audit(ctx, AuditEntry{UserID: &uid, Action: "read", Reference: f.refs["C"], Outcome: "ok"}))
		must(t, db.Audit(ctx, AuditEntry{UserID: &uid, Action: "read", Reference: ref, Outcome: "ok"}))

		b, err := db.Evidence(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, ref)
		must(t, err)
		c, err := db.FindConcern(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, ref)
		must(t, err)
		var kinds, want []string
		for _, e := range b.Concern.Timeline {
			kinds = append(kinds, e.Kind)
		}
		for _, e := range c.Timeline {
			want = append(want, e.Kind)
		}
		if !slices.Equal(kinds, want) || !slices.Equal(kinds, []string{"raised", "acknowledged", "triaged", "findings_recorded", "closure_proposed"}) {
			t.Errorf("chronology = %v; want the timeline %v", kinds, want)
		}
		if len(b.Concern.Clocks) != len(c.Clocks) || len(b.Concern.Clocks) == 0 {
			t.Errorf("clocks = %d; want %d", len(b.Concern.Clocks), len(c.Clocks))
		}
		if len(b.Mail) != 2 || b.Mail[0].Recipient != "adults@leeds.example" || b.Mail[0].Step != 0 ||
			b.Mail[1].Step != 2 || b.Mail[1].Clock != "triage_decision" {
			t.Errorf("mail = %+v; want the two outbox rows, the second at step 2 of triage_decision", b.Mail)
		}
		if len(b.AccessLog) != 1 || b.AccessLog[0].Hash == "" || b.AccessLog[0].UserRole != string(safeguard.RolePrisonLead) {
			t.Fatalf("access log = %+v; want the one read of %s, with its hash", b.AccessLog, ref)
		}
		var prev string
		must(t, db.GetContext(ctx, &prev, db.Rebind(`SELECT hash FROM audit_log WHERE id = ?`), b.AccessLog[0].Seq-1))
		if b.AccessLog[0].PrevHash != prev {
			t.Errorf("prev_hash %q is not the hash of the row before (%q)", b.AccessLog[0].PrevHash, prev)
		}
		// Out of scope it does not exist.
		_, err = db.Evidence(ctx, safeguard.Scope{Org: wakefield, User: 99}, ref)
		wantCode(t, err, safeguard.ENOTFOUND)
	})
}

func TestReportPeriodErrorsNameTheField(t *testing.T) {
	for _, c := range []struct{ from, to, field string }{
		{"", "2026-03-31", "from"}, {"2025-04-01", "", "to"}, {"2025-13-01", "2026-03-31", "from"},
		{"2026-04-01", "2025-04-01", "to"}, {"01/04/2025", "31/03/2026", "to"},
	} {
		_, err := safeguard.ParsePeriod(c.from, c.to, london)
		if e := wantCode(t, err, safeguard.EINVALID); e != nil && e.Fields[c.field] == "" {
			t.Errorf("ParsePeriod(%q, %q) fields %v; want %s named", c.from, c.to, e.Fields, c.field)
		}
	}
}
