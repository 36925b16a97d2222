package sql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/calendar"
)

// SeedOptions says what Seed generates: Concerns spread evenly over the Days before Until, at
// the Establishments given (code -> host LA), raised by RaisedBy, from a fixed random Seed so
// that runs are repeatable. References are numbered from First (SG-<EST>-SEED-<number>), so
// that a second seeding of the same database does not collide with the first. Progress, if
// set, is called after each batch with the concerns written so far.
type SeedOptions struct {
	Concerns       int
	Days           int
	Until          time.Time
	Establishments map[string]string
	RaisedBy       int64
	Seed           uint64
	First          int
	Progress       func(done, total int)
}

// Seed writes realistic volumes of concerns straight into SQL, for benchmarks of the reports
// and the overdue list (docs/reports.md): each concern with its organisations, one to three
// types of risk, the reporting columns, and its clocks — most met (some late), some still
// running past due — in batches of multi-row INSERTs. No workflow is started and no mail is
// written: it is for measuring reads, never for a live service. The people are fictional and
// the details blob is a placeholder.
func (db *DB) Seed(ctx context.Context, o SeedOptions) error {
	if o.Days <= 0 {
		o.Days = 365
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5afe))
	var ests []string
	for e := range o.Establishments {
		ests = append(ests, e)
	}
	slices.Sort(ests) // map order is random; the same Seed must give the same concerns
	if len(ests) == 0 {
		return fmt.Errorf("sql: seed needs at least one establishment")
	}
	pick := func(vs []string) string { return vs[rng.IntN(len(vs))] }
	ages := []string{"18-64", "18-64", "18-64", "65-74", "75-84", "85-94"}
	ethnicities := []string{"white_british", "white_other", "mixed_other", "asian_indian", "black_caribbean", "other", "not_known"}
	reasons := []string{"physical", "sensory", "memory_and_cognition", "learning_disability", "mental_health", "social_support", "no_support_reason"}
	stages := []string{"notification", "enquiry", "closure", "closed", "closed", "closed", "no_further_action", "handed_over"}
	cats := safeguard.SACMeasures[5].Values
	const batch = 200
	span := time.Duration(o.Days) * 24 * time.Hour
	for start := 0; start < o.Concerns; start += batch {
		n := min(batch, o.Concerns-start)
		var concerns, orgs, categories, clocks []string
		var cargs, oargs, kargs, clargs []any
		for i := start; i < start+n; i++ {
			est := ests[i%len(ests)]
			la := o.Establishments[est]
			ref := fmt.Sprintf("SG-%s-SEED-%07d", est, o.First+i)
			at := o.Until.Add(-span + time.Duration(float64(span)*float64(i)/float64(o.Concerns))).UTC().Truncate(time.Second)
			stage := pick(stages)
			var risk, outcome, msp, concluded, sar any
			var taken any
			if stage == "closure" || stage == "closed" {
				risk, taken, concluded = pick([]string{"identified", "identified", "inconclusive", "not_identified", "ceased_at_request"}), rng.IntN(3) > 0, at.Add(time.Duration(5+rng.IntN(25))*24*time.Hour)
				if rng.IntN(4) > 0 {
					sar = rng.IntN(50) == 0
				}
				if risk == "identified" && taken == true {
					outcome = pick([]string{"removed", "reduced", "remains"})
				}
				msp = pick([]string{"fully", "partially", "not_achieved", "not_asked"})
			}
			concerns = append(concerns, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			cargs = append(cargs, ref, est, la, stage, o.RaisedBy, at, at, fmt.Sprintf("A%04dBC", i%10000), "seeded person", false, `{"seeded":true}`,
				est, la, pick(ages), pick(safeguard.Genders), pick(ethnicities), pick(reasons), rng.IntN(10) == 0,
				pick([]string{"custody", "custody", "custody", "community", "other"}), pick(safeguard.SourcesOfRisk),
				pick(safeguard.CapacityAnswers), pick(safeguard.AdvocacySupport), pick([]string{"asked_outcomes_expressed", "asked_none_expressed", "not_asked"}),
				risk, taken, outcome, concluded, msp, sar)
			orgs = append(orgs, "(?, ?, 'establishment', ?)", "(?, ?, 'host_la', ?)")
			oargs = append(oargs, ref, est, at, ref, la, at)
			for _, c := range rng.Perm(len(cats))[:1+rng.IntN(3)] {
				categories = append(categories, "(?, ?)")
				kargs = append(kargs, ref, cats[c])
			}
			// Acknowledgement and triage: met, one in five late; or, for a concern still in
			// notification, running and past due once the raise is more than a few days old.
			for k, name := range []string{safeguard.ClockLAAcknowledgement, safeguard.ClockTriageDecision} {
				org := la
				if k == 1 {
					org = est
				}
				dueAt := england.Add(at, safeguardDays(k+1))
				state, step := safeguard.ClockMet, 0
				var ended, wd, onTime any
				if stage == "notification" {
					state = safeguard.ClockRunning
					if dueAt.Before(o.Until) {
						state, step = safeguard.ClockBreached, 2+rng.IntN(2)
					}
				} else {
					days := rng.IntN(k + 2)
					if rng.IntN(5) == 0 {
						days += 2
					}
					e := england.Add(at, safeguardDays(days)).Add(time.Duration(rng.IntN(3600)) * time.Second).UTC()
					ended, wd, onTime = e, days, !e.After(dueAt)
				}
				clocks = append(clocks, "(?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)")
				clargs = append(clargs, ref, fmt.Sprintf("%s-%d", name, k+1), name, org, at, dueAt.UTC(), state, step, ended, wd, onTime)
			}
		}
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			for _, q := range []struct {
				sql  string
				rows []string
				args []any
			}{
				{`INSERT INTO concerns (reference, establishment, host_la, stage, raised_by, raised_at, updated_at, subject_prison_number,
					subject_name_lower, immediate_risk, details, raised_establishment, raised_host_la, age_band, gender, ethnicity,
					support_reason, autism, location_of_risk, source_of_risk, lacked_capacity, advocacy, msp_asked, risk_finding,
					action_taken, risk_outcome, concluded_at, msp_outcome, sar_referral) VALUES `, concerns, cargs},
				{`INSERT INTO concern_orgs (reference, org_code, relation, raised_at) VALUES `, orgs, oargs},
				{`INSERT INTO concern_categories (reference, category) VALUES `, categories, kargs},
				{`INSERT INTO clocks (reference, id, name, org_code, started_at, due_at, state, step, ended_at, paused_seconds, working_days, met_on_time) VALUES `, clocks, clargs},
			} {
				if _, err := tx.ExecContext(ctx, db.Rebind(q.sql+strings.Join(q.rows, ", ")), q.args...); err != nil {
					return fmt.Errorf("sql: seed: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if o.Progress != nil {
			o.Progress(start+n, o.Concerns)
		}
	}
	// The rows went in without RecordRaise, so the SAC return's kept counts are made afresh.
	return db.RebuildSACCounts(ctx)
}

func safeguardDays(n int) calendar.Offset { return calendar.WorkingDays(n) }
