package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/config"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

const seedSynopsis = `seed --concerns N [--establishments LEI,WDI] [--days 365] [--seed 1] [--force]

Writes N realistic concerns straight into the configured database (sql.DB.Seed, docs/reports.md):
spread over the days before now at the establishments given (default: every prison with a host
LA), with their organisations, types of risk, reporting columns and clocks, most met and some
running past due; then it recounts the SAC return's kept counts (sac_counts) from every
concern in the database. It is for measuring the reports and the overdue list, never for a live
service: the seeded concerns have no Temporal workflows, so no timer fires, no mail is sent and
no action can be taken on them. It refuses a database that already holds concerns unless
--force is given. Run "safeguard migrate" first.`

// seedUserEmail is the account the seeded concerns are raised by. It is created disabled, with
// no password and no token: nobody can sign in as it.
const seedUserEmail = "seeded-concerns@safeguard.invalid"

func seed(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("seed", seedSynopsis, stderr)
	n := fs.Int("concerns", 0, "how many concerns to write (required, > 0)")
	force := fs.Bool("force", false, "seed even though the database already holds concerns")
	ests := fs.String("establishments", "", "comma-separated establishment codes (default: every prison with a host LA)")
	days := fs.Int("days", 365, "spread the concerns over this many days before now")
	randSeed := fs.Uint64("seed", 1, "random seed: the same seed gives the same concerns")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if *n <= 0 || *days <= 0 {
		fs.Usage()
		return errUsage
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	var existing, seeded int
	if err := db.GetContext(ctx, &existing, `SELECT COUNT(*) FROM concerns`); err != nil {
		return err
	}
	if existing > 0 && !*force {
		return fmt.Errorf("the database already holds %d concerns; seeded concerns have no workflows and are for measuring only — use --force to add to them anyway", existing)
	}
	if err := db.GetContext(ctx, &seeded, `SELECT COUNT(*) FROM concerns WHERE reference LIKE '%-SEED-%'`); err != nil {
		return err
	}
	places, err := seedEstablishments(ctx, db, *ests)
	if err != nil {
		return err
	}
	u, err := seedUser(ctx, db, places)
	if err != nil {
		return err
	}

	step := max(*n/20, 1) // about every 5%
	next := step
	start := time.Now()
	err = db.Seed(ctx, sgsql.SeedOptions{Concerns: *n, Days: *days, Until: time.Now(), Establishments: places,
		RaisedBy: u.ID, Seed: *randSeed, First: seeded,
		Progress: func(done, total int) {
			if done >= next || done == total {
				fmt.Fprintf(stderr, "seeded %d of %d concerns (%d%%) in %v\n", done, total, done*100/total, time.Since(start).Round(time.Second))
				next = (done/step + 1) * step
			}
		}})
	if err != nil {
		return err
	}
	// Fresh statistics, or the planner judges the new volumes by the empty tables; on
	// PostgreSQL the visibility map too, which autovacuum would set in its own time and without
	// which no index-only scan is possible (the overdue list's walk is one).
	analyze := "ANALYZE"
	if db.Dialect == sgsql.Postgres {
		analyze = "VACUUM ANALYZE"
	}
	if _, err := db.ExecContext(ctx, analyze); err != nil {
		return err
	}
	cliAudit(ctx, db, "seed", "", fmt.Sprintf("%d concerns seeded at %d establishments", *n, len(places)))
	fmt.Fprintf(stdout, "seeded %d concerns at %d establishments in %v (no workflows: for measuring only)\n",
		*n, len(places), time.Since(start).Round(time.Millisecond))
	return nil
}

// seedEstablishments returns the establishments to seed (code -> host LA): those named, or
// every prison with a host LA.
func seedEstablishments(ctx context.Context, db *sgsql.DB, names string) (map[string]string, error) {
	out := map[string]string{}
	if names != "" {
		for _, code := range strings.Split(names, ",") {
			o, err := db.FindOrganisation(ctx, strings.ToUpper(strings.TrimSpace(code)))
			if err != nil {
				return nil, err
			}
			if o.HostLA == "" {
				return nil, fmt.Errorf("%s is not an establishment with a host LA", o.Code)
			}
			out[o.Code] = o.HostLA
		}
		return out, nil
	}
	for offset := 0; ; offset += 500 {
		orgs, more, err := db.ListOrganisations(ctx, 500, offset)
		if err != nil {
			return nil, err
		}
		for _, o := range orgs {
			if o.Kind == safeguard.KindPrison && o.HostLA != "" {
				out[o.Code] = o.HostLA
			}
		}
		if !more {
			break
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no prison with a host LA: run \"safeguard migrate\" (it loads the reference list) or name --establishments")
	}
	return out, nil
}

// seedUser finds or creates the disabled account that raises the seeded concerns.
func seedUser(ctx context.Context, db *sgsql.DB, places map[string]string) (*safeguard.User, error) {
	u, err := db.FindUserByEmail(ctx, seedUserEmail)
	if err == nil {
		return u, nil
	} else if safeguard.ErrorCode(err) != safeguard.ENOTFOUND {
		return nil, err
	}
	codes := make([]string, 0, len(places))
	for c := range places {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	u = &safeguard.User{Email: seedUserEmail, Name: "Seeded concerns (not a person)", OrgCode: codes[0], Role: safeguard.RolePrisonLead}
	if err := db.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, db.SetUserDisabled(ctx, u.ID, true)
}
