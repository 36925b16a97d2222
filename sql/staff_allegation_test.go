package sql

import (
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

// An allegation against staff is withheld, inside every query, from the establishment's other
// staff: its other prison leads do not find it, list it or see it overdue; the lead who raised
// it, the establishment's managers, the host LA and the auditor do.
func TestAllegationAgainstStaffIsHiddenFromTheEstablishmentsOtherLeads(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		raiser := seed(t, db)
		colleague := newUser(t, db, "colleague@lei.example", "LEI", safeguard.RolePrisonLead)
		manager := newUser(t, db, "governor@lei.example", "LEI", safeguard.RolePrisonManager)
		practitioner := newUser(t, db, "prac@leeds.example", leeds, safeguard.RoleLAPractitioner)
		auditor := newUser(t, db, "auditor@leeds.example", leeds, safeguard.RoleAuditor)

		plain, _ := allocate(t, db, "LEI", 2026, nil)
		must(t, db.RecordRaise(ctx, newConcern(raiser, plain, raisedAt)))
		alleged, _ := allocate(t, db, "LEI", 2026, nil)
		nc := newConcern(raiser, alleged, raisedAt.Add(time.Minute))
		nc.Raise.AllegationAgainstStaff = true
		nc.Clocks = []*safeguard.ClockInstance{{ID: "la_ack", Name: "la_acknowledgement", Org: leeds, State: safeguard.ClockRunning,
			Started: raisedAt, Due: raisedAt.Add(24 * time.Hour)}}
		must(t, db.RecordRaise(ctx, nc))

		inv, err := db.Involvement(ctx, alleged)
		must(t, err)
		if inv.StaffAllegationAt != "LEI" || inv.RaisedBy != raiser.ID {
			t.Fatalf("Involvement = %+v; want the allegation at LEI raised by %d", inv, raiser.ID)
		}
		later := raisedAt.Add(72 * time.Hour)
		for _, tc := range []struct {
			who   *safeguard.User
			sees  bool
			label string
		}{
			{raiser, true, "the lead who raised it"},
			{colleague, false, "another lead of the establishment"},
			{manager, true, "the establishment's manager"},
			{practitioner, true, "the host LA's practitioner"},
			{auditor, true, "the auditor"},
		} {
			scope := safeguard.ScopeOf(tc.who)
			_, err := db.FindConcern(ctx, scope, alleged)
			if found := err == nil; found != tc.sees {
				t.Errorf("%s: FindConcern found = %v (%v); want %v", tc.label, found, err, tc.sees)
			}
			if err != nil && safeguard.ErrorCode(err) != safeguard.ENOTFOUND {
				t.Errorf("%s: FindConcern = %v; want not found", tc.label, err)
			}
			if got := safeguard.ErrorCode(safeguard.Authorize(tc.who, safeguard.ActionRead, inv)) == ""; got != tc.sees {
				t.Errorf("%s: Authorize(read) allowed = %v; want %v (the policy and the query disagree)", tc.label, got, tc.sees)
			}
			refs, _ := list(t, db, scope, safeguard.ConcernFilter{})
			want := []string{alleged, plain}
			if !tc.sees {
				want = []string{plain}
			}
			if len(refs) != len(want) || refs[0] != want[0] {
				t.Errorf("%s: list = %v; want %v", tc.label, refs, want)
			}
			overdue, err := db.Overdue(ctx, scope, later, 0)
			must(t, err)
			if got := len(overdue) == 1; got != tc.sees {
				t.Errorf("%s: overdue = %+v; want the allegation listed: %v", tc.label, overdue, tc.sees)
			}
		}
	})
}
