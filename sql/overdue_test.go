package sql

import (
	"slices"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

// The overdue list filters, sorts, counts and pages in SQL: every clock is reachable beyond a
// small limit, each filter matches hand-counted rows, and another organisation's clocks are
// never listed or counted.
func TestOverdueListFiltersSortsCountsAndPagesInSQL(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		lead := seed(t, db)
		now := lon("2026-03-10 08:30") // Tuesday, before 09:00
		// name: establishment, clock org, due, step. Saturday's clock counts from Monday 09:00.
		clocks := []struct {
			name, est, org string
			due            time.Time
			step           int
		}{
			{"fri", "LEI", leeds, lon("2026-03-06 16:00"), 2},     // 1 working day late
			{"sat", "LEI", leeds, lon("2026-03-07 10:00"), 0},     // 0: counts from Monday 09:00
			{"mon0830", "LEI", leeds, lon("2026-03-09 08:30"), 1}, // 1, just
			{"mon0831", "WYI", leeds, lon("2026-03-09 08:31"), 0}, // 0
			{"thu", "WYI", "LEI", lon("2026-03-05 12:00"), 3},     // 2
			{"tue", "LEI", leeds, lon("2026-03-10 08:00"), 0},     // 0
			{"wdi", "WDI", wakefield, lon("2026-03-04 12:00"), 1}, // Wakefield's: out of Leeds's scope
			{"notyet", "LEI", leeds, lon("2026-03-10 09:00"), 0},  // not overdue
		}
		ref := map[string]string{}
		for i, c := range clocks {
			r, _ := allocate(t, db, c.est, 2026, nil)
			nc := newConcern(lead, r, raisedAt.Add(time.Duration(i)*time.Minute))
			nc.Establishment, nc.HostLA, nc.Raise = c.est, hostOf[c.est], validRaise(c.est)
			nc.Clocks = []*safeguard.ClockInstance{{ID: "k", Name: safeguard.ClockLAAcknowledgement, Org: c.org, State: safeguard.ClockRunning, Started: raisedAt, Due: c.due}}
			must(t, db.RecordRaise(ctx, nc))
			exec(t, db, "UPDATE clocks SET step = ? WHERE reference = ?", c.step, r)
			ref[c.name] = r
		}
		names := func(rows []OverdueClock) []string {
			var out []string
			for _, o := range rows {
				for n, r := range ref {
					if r == o.Reference {
						out = append(out, n)
					}
				}
			}
			return out
		}
		scope := safeguard.Scope{Org: leeds, User: 99}
		all := safeguard.Scope{All: true, SeesStaffAllegations: true}
		bound, skipFrom, skipTo := england.OverdueBound(now, 1)
		bound2, skip2From, skip2To := england.OverdueBound(now, 2)
		for _, tc := range []struct {
			label string
			scope safeguard.Scope
			q     OverdueQuery
			want  []string
		}{
			{"most overdue first", scope, OverdueQuery{}, []string{"thu", "fri", "sat", "mon0830", "mon0831", "tue"}},
			{"least overdue first", scope, OverdueQuery{Sort: OverdueLeastOverdue}, []string{"tue", "mon0831", "mon0830", "sat", "fri", "thu"}},
			{"highest step first", scope, OverdueQuery{Sort: OverdueStep}, []string{"thu", "fri", "mon0830", "sat", "mon0831", "tue"}},
			{"every scope", all, OverdueQuery{}, []string{"wdi", "thu", "fri", "sat", "mon0830", "mon0831", "tue"}},
			{"organisation: responsible or establishment", scope, OverdueQuery{Organisation: "LEI"}, []string{"thu", "fri", "sat", "mon0830", "tue"}},
			{"organisation out of scope", scope, OverdueQuery{Organisation: "WDI"}, nil},
			{"organisation in every scope", all, OverdueQuery{Organisation: wakefield}, []string{"wdi"}},
			{"step", scope, OverdueQuery{MinStep: 2}, []string{"thu", "fri"}},
			{"clock", scope, OverdueQuery{Clock: safeguard.ClockTriageDecision}, nil},
			{"stage", scope, OverdueQuery{Stage: "no_such_stage"}, nil},
			{"a working day late: Saturday's is not", scope, OverdueQuery{DueBefore: bound, SkipDueFrom: skipFrom, SkipDueTo: skipTo}, []string{"thu", "fri", "mon0830"}},
			{"two working days late", scope, OverdueQuery{DueBefore: bound2, SkipDueFrom: skip2From, SkipDueTo: skip2To}, []string{"thu"}},
		} {
			got, err := db.OverdueList(ctx, tc.scope, now, tc.q)
			must(t, err)
			if !slices.Equal(names(got), tc.want) {
				t.Errorf("%s: OverdueList = %v; want %v", tc.label, names(got), tc.want)
			}
			n, err := db.OverdueCount(ctx, tc.scope, now, tc.q, 0)
			must(t, err)
			if n != len(tc.want) {
				t.Errorf("%s: OverdueCount = %d; want %d", tc.label, n, len(tc.want))
			}
			// Counting stops at the bound asked for, and not before it.
			for _, upTo := range []int{1, 2} {
				n, err := db.OverdueCount(ctx, tc.scope, now, tc.q, upTo)
				must(t, err)
				if want := min(upTo, len(tc.want)); n != want {
					t.Errorf("%s: OverdueCount up to %d = %d; want %d", tc.label, upTo, n, want)
				}
			}
			// Pages of two, by offset and by keyset, reach every row once, in order.
			var byOffset, byKey []string
			q := tc.q
			q.Limit = 2
			for q.Offset = 0; ; q.Offset += 2 {
				page, err := db.OverdueList(ctx, tc.scope, now, q)
				must(t, err)
				byOffset = append(byOffset, names(page)...)
				if len(page) < 2 {
					break
				}
			}
			q.Offset = 0
			for {
				page, err := db.OverdueList(ctx, tc.scope, now, q)
				must(t, err)
				byKey = append(byKey, names(page)...)
				if len(page) < 2 {
					break
				}
				q.After = &page[len(page)-1]
			}
			if !slices.Equal(byOffset, tc.want) || !slices.Equal(byKey, tc.want) {
				t.Errorf("%s: pages of 2 by offset = %v, by keyset = %v; want %v", tc.label, byOffset, byKey, tc.want)
			}
		}
		// The min_days bound is WorkingDaysBetween's judgement of every clock.
		for _, c := range clocks {
			if c.name == "notyet" || c.name == "wdi" {
				continue
			}
			in := func(b, f, to time.Time) bool { return !c.due.After(b) && (c.due.Before(f) || !c.due.Before(to)) }
			if want := england.WorkingDaysBetween(c.due, now) >= 1; in(bound, skipFrom, skipTo) != want {
				t.Errorf("%s: in the 1-day bound = %v; WorkingDaysBetween says %v", c.name, !want, want)
			}
		}
	})
}
