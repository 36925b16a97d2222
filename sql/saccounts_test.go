package sql

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

// try is do for a random walk: an action the lifecycle refuses at this point is skipped.
func (d *concernDriver) try(u *safeguard.User, a safeguard.Action, at time.Time, in safeguard.Input, target *safeguard.Organisation) bool {
	d.t.Helper()
	ch, err := d.l.Apply(safeguard.Command{Action: a, Actor: *u, Input: in, Target: target}, at, due)
	if err != nil {
		return false
	}
	d.seq++
	must(d.t, d.db.RecordChange(ctx, ChangeRecord{Reference: d.l.Reference, EventKey: fmt.Sprintf("%s-%d", a, d.seq), Change: ch}))
	d.l = ch.Lifecycle
	return true
}

// randomConcerns raises n concerns over 40 days from 1 March 2026 with random facts and walks
// each through a random part of the lifecycle: transfers, pauses, findings of every kind (with
// and without a review referral), closure, sign-off and reopening.
func randomConcerns(t *testing.T, db *DB, rng *rand.Rand, n int) {
	t.Helper()
	seedOrgs(t, db)
	leads, managers := map[string]*safeguard.User{}, map[string]*safeguard.User{}
	orgs := map[string]*safeguard.Organisation{}
	for _, est := range []string{"LEI", "WYI", "WDI"} {
		leads[est] = newUser(t, db, "lead@"+est+".example", est, safeguard.RolePrisonLead)
		managers[est] = newUser(t, db, "manager@"+est+".example", est, safeguard.RolePrisonManager)
		o, err := db.FindOrganisation(ctx, est)
		must(t, err)
		orgs[est] = o
	}
	practitioner := map[string]*safeguard.User{
		leeds:     newUser(t, db, "practitioner@leeds.example", leeds, safeguard.RoleLAPractitioner),
		wakefield: newUser(t, db, "practitioner@wakefield.example", wakefield, safeguard.RoleLAPractitioner),
	}
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	cats := safeguard.SACMeasures[5].Values
	start := lon("2026-03-01 00:00")
	findings := 0
	for range n {
		est := pick("LEI", "WYI", "WDI")
		r := fixtureRaise(est, fmt.Sprintf("%d-0%d-1%d", 1930+rng.IntN(75), 1+rng.IntN(9), rng.IntN(9)))
		r.Categories = nil
		for _, c := range rng.Perm(len(cats))[:1+rng.IntN(3)] {
			r.Categories = append(r.Categories, cats[c])
		}
		r.Subject.Gender = pick("", "male", "female", "other")
		r.Subject.Ethnicity = pick("", "white_irish", "asian_indian", "black_caribbean", "refused")
		r.Subject.SupportNeeds = [][]string{{}, {"autism"}, {"mental_health"}, {"older_age", "autism"}}[rng.IntN(4)]
		r.LocationOfRisk, r.SourceOfRisk = pick("custody", "own_home", "community"), pick(safeguard.SourcesOfRisk...)
		r.LackedCapacity = pick("", "yes", "no", "not_known")
		if r.LackedCapacity == "yes" {
			r.Advocacy = pick("", "advocate", "family_or_friend", "none")
		}
		// Around the clock, so that London's day and UTC's differ for some.
		at := start.Add(time.Duration(rng.IntN(40*24*60)) * time.Minute)
		d := raiseFixture(t, db, leads[est], hostOf[est], at, r)
		step := func() time.Time { at = at.Add(time.Duration(1+rng.IntN(72)) * time.Hour); return at }
		if rng.IntN(6) == 0 {
			continue // still at notification
		}
		d.try(practitioner[hostOf[est]], safeguard.ActionAcknowledge, step(), safeguard.Input{}, nil)
		switch rng.IntN(5) {
		case 0:
			d.try(leads[est], safeguard.ActionTriage, step(), safeguard.Input{Decision: "no_further_action", Rationale: "Not met."}, nil)
			continue
		case 1:
			d.try(leads[est], safeguard.ActionTriage, step(), safeguard.Input{Decision: "refer_to_la", Rationale: "LA-led."}, nil)
			continue
		}
		d.try(leads[est], safeguard.ActionTriage, step(), safeguard.Input{Decision: "enquiry", Rationale: "All three tests are met."}, nil)
		if rng.IntN(3) == 0 {
			to := pick("LEI", "WYI", "WDI")
			if d.try(leads[est], safeguard.ActionTransfer, step(), safeguard.Input{ToEstablish: to}, orgs[to]) {
				d.try(leads[to], safeguard.ActionAcknowledge, step(), safeguard.Input{}, nil)
				est = to
			}
		}
		for round := 0; round < 1+rng.IntN(2); round++ {
			// Every finding with and without action, in turn.
			findings++
			taken := findings/len(safeguard.RiskFindings)%2 == 0
			in := safeguard.Input{Risk: safeguard.RiskFindings[findings%len(safeguard.RiskFindings)], ActionTaken: &taken, Summary: "Found."}
			if in.Risk == "identified" {
				in.RiskOutcome = pick("removed", "reduced", "remains")
			}
			if rng.IntN(3) > 0 {
				sar := rng.IntN(2) == 0
				in.SARReferral = &sar
			}
			if !d.try(leads[est], safeguard.ActionFindings, step(), in, nil) || rng.IntN(4) == 0 {
				break
			}
			fb := true
			if !d.try(leads[est], safeguard.ActionProposeClosure, step(), safeguard.Input{MSPOutcomes: pick("fully", "partially", "not_achieved", "not_asked"), FeedbackGiven: &fb}, nil) {
				break
			}
			if !d.try(managers[est], safeguard.ActionSignOffClosure, step(), safeguard.Input{}, nil) || rng.IntN(2) == 0 {
				break
			}
			d.try(leads[est], safeguard.ActionReopen, step(), safeguard.Input{Reason: "New information."}, nil)
		}
	}
}

// keptCounts is sac_counts without its zero rows.
func keptCounts(t *testing.T, db *DB) map[sacKey]int {
	t.Helper()
	var rows []struct {
		Scope   string `db:"scope"`
		Day     string `db:"day"`
		Measure string `db:"measure"`
		Value   string `db:"value"`
		N       int    `db:"n"`
	}
	must(t, db.SelectContext(ctx, &rows, `SELECT scope, day, measure, value, n FROM sac_counts WHERE n <> 0`))
	out := map[sacKey]int{}
	for _, r := range rows {
		out[sacKey{r.Scope, r.Day, r.Measure, r.Value}] = r.N
	}
	return out
}

func diffKept(t *testing.T, what string, got, want map[sacKey]int) {
	t.Helper()
	bad := 0
	for k, n := range want {
		if got[k] != n && bad < 10 {
			t.Errorf("%s: %v = %d; want %d", what, k, got[k], n)
			bad++
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok && bad < 10 {
			t.Errorf("%s: %v = %d; want none", what, k, n)
			bad++
		}
	}
}

// The counts kept as concerns are recorded give the same return as counting the concerns,
// for every scope and period, and the same rows as recounting them from scratch (migration 14,
// and after seeding) — after transfers, reopenings and findings recorded twice.
func TestSACKeptCountsAgreeWithCountingTheConcerns(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		rng := rand.New(rand.NewPCG(7, 11))
		randomConcerns(t, db, rng, 120)
		kept := keptCounts(t, db)
		if len(kept) == 0 {
			t.Fatal("no counts were kept")
		}
		var periods []safeguard.Period
		for _, span := range [][2]string{{"2026-03-01", "2026-04-30"}, {"2026-03-10", "2026-03-29"}, {"2026-03-29", "2026-03-29"}, {"2026-04-05", "2026-05-31"}} {
			p, err := safeguard.ParsePeriod(span[0], span[1], london)
			must(t, err)
			periods = append(periods, p)
		}
		scopes := []safeguard.Scope{{All: true, SeesStaffAllegations: true}, {Org: leeds, User: 1}, {Org: wakefield, User: 1},
			{Org: "LEI", User: 1, SeesStaffAllegations: true}, {Org: "WDI", User: 1, SeesStaffAllegations: true}}
		for _, s := range scopes {
			for _, p := range periods {
				fast, err := db.sacFromCounts(ctx, s, p)
				must(t, err)
				slow, err := db.sacCounted(ctx, s, p)
				must(t, err)
				got, want := sacReportOf(s, p, fast), sacReportOf(s, p, slow)
				if want.Raised == 0 {
					continue
				}
				if got.Raised != want.Raised || got.Concluded != want.Concluded {
					t.Errorf("%+v %s–%s: kept raised %d concluded %d; counted %d, %d", s, p.From, p.To, got.Raised, got.Concluded, want.Raised, want.Concluded)
				}
				diffCells(t, nonZero(got), nonZero(want))
			}
		}
		// The whole range has every kind of finding, a review referral and a transfer in it.
		p := periods[0]
		rep, err := db.SACReport(ctx, scopes[0], p)
		must(t, err)
		cells := nonZero(rep)
		for _, c := range []string{"SG2c/action_and_result/ceased_at_request_action_taken", "SG2c/action_and_result/ceased_at_request_no_action",
			"SG5/review_referral/referred", "SG5/review_referral/not_referred", "SG5/review_referral/not_recorded",
			"custody/LEI/transferred_out", "SG2c/risk_outcome/reduced"} {
			if cells[c] == 0 {
				t.Errorf("the random concerns never counted %s: the test does not cover it", c)
			}
		}

		must(t, db.RebuildSACCounts(ctx))
		diffKept(t, "rebuilt", keptCounts(t, db), kept)

		// Migration 14 down and up again fills the table afresh from the concerns.
		prov, err := db.migrations()
		must(t, err)
		if _, err := prov.DownTo(ctx, 13); err != nil {
			t.Fatalf("down to 13: %v", err)
		}
		if n := len(keptCounts(t, db)); n != 0 {
			t.Fatalf("after migration 14 down, %d counts are left", n)
		}
		if _, err := prov.Up(ctx); err != nil {
			t.Fatalf("up: %v", err)
		}
		diffKept(t, "migration 14", keptCounts(t, db), kept)
	})
}

// A reader who may not see an allegation against staff of their own organisation is never
// answered from the kept counts, which count it: the return is counted directly for them.
func TestSACReportLeavesOutAStaffAllegationTheReaderMayNotSee(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		lead := seed(t, db)
		other := newUser(t, db, "other@lei.example", "LEI", safeguard.RolePrisonLead)
		at := lon("2026-03-10 10:00")
		raise(t, db, lead, "LEI", at, nil)
		raise(t, db, lead, "LEI", at.Add(time.Hour), func(r *safeguard.Raise) { r.AllegationAgainstStaff = true })
		p, err := safeguard.ParsePeriod("2026-03-01", "2026-03-31", london)
		must(t, err)
		for _, c := range []struct {
			who   string
			scope safeguard.Scope
			want  int
		}{
			{"another lead at LEI", safeguard.Scope{Org: "LEI", User: other.ID}, 1},
			{"the lead who raised it", safeguard.Scope{Org: "LEI", User: lead.ID}, 2},
			{"a manager who sees staff allegations", safeguard.Scope{Org: "LEI", User: other.ID, SeesStaffAllegations: true}, 2},
			{"the host LA", safeguard.Scope{Org: leeds, User: other.ID}, 2},
			{"national", safeguard.Scope{All: true, SeesStaffAllegations: true}, 2},
		} {
			rep, err := db.SACReport(ctx, c.scope, p)
			must(t, err)
			if rep.Raised != c.want {
				t.Errorf("%s: raised %d; want %d", c.who, rep.Raised, c.want)
			}
		}
		kept, err := db.sacCountsServe(ctx, safeguard.Scope{Org: "LEI", User: other.ID})
		must(t, err)
		if kept {
			t.Error("the kept counts would answer a reader who may not see the allegation")
		}
	})
}

// Findings of every SG2c kind and a review referral are counted on the day concluded, and a
// reopening takes them out until findings are recorded again.
func TestSACCountsCeasedEnquiriesAndReviewReferrals(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		seedOrgs(t, db)
		lead := newUser(t, db, "lead@LEI.example", "LEI", safeguard.RolePrisonLead)
		manager := newUser(t, db, "manager@LEI.example", "LEI", safeguard.RolePrisonManager)
		d := raiseFixture(t, db, lead, leeds, lon("2026-03-02 10:00"), fixtureRaise("LEI", "1960-01-01", "neglect"))
		yes, no := true, false
		d.do(lead, safeguard.ActionTriage, lon("2026-03-03 10:00"), safeguard.Input{Decision: "enquiry", Rationale: "Met."}, nil)
		d.do(lead, safeguard.ActionFindings, lon("2026-03-10 10:00"), safeguard.Input{Risk: "ceased_at_request", ActionTaken: &no, SARReferral: &yes, Summary: "Asked us to stop."}, nil)
		p, err := safeguard.ParsePeriod("2026-03-01", "2026-03-31", london)
		must(t, err)
		national := safeguard.Scope{All: true, SeesStaffAllegations: true}
		check := func(when string, want map[string]int) {
			t.Helper()
			rep, err := db.SACReport(ctx, national, p)
			must(t, err)
			got := nonZero(rep)
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%s: %s = %d; want %d", when, k, got[k], n)
				}
			}
		}
		check("ceased", map[string]int{"SG2c/action_and_result/ceased_at_request_no_action": 1, "SG5/review_referral/referred": 1})
		fb := true
		d.do(lead, safeguard.ActionProposeClosure, lon("2026-03-11 10:00"), safeguard.Input{MSPOutcomes: "partially", FeedbackGiven: &fb}, nil)
		d.do(manager, safeguard.ActionSignOffClosure, lon("2026-03-12 10:00"), safeguard.Input{}, nil)
		d.do(lead, safeguard.ActionReopen, lon("2026-03-13 10:00"), safeguard.Input{Reason: "New information."}, nil)
		check("reopened", map[string]int{"SG2c/action_and_result/ceased_at_request_no_action": 0, "SG5/review_referral/referred": 0, "SG4/outcomes_achieved/partially": 0})
		d.do(lead, safeguard.ActionFindings, lon("2026-03-20 10:00"), safeguard.Input{Risk: "identified", ActionTaken: &yes, RiskOutcome: "removed", Summary: "Found."}, nil)
		check("found again", map[string]int{"SG2c/action_and_result/risk_identified_action_taken": 1, "SG2c/risk_outcome/removed": 1, "SG5/review_referral/not_recorded": 1})
		direct, err := db.sacCounted(ctx, national, p)
		must(t, err)
		kept, err := db.sacFromCounts(ctx, national, p)
		must(t, err)
		diffCells(t, nonZero(sacReportOf(national, p, kept)), nonZero(sacReportOf(national, p, direct)))
	})
}
