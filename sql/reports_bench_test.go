package sql

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

// Benchmarks of the reports on seeded volumes (docs/reports.md has the figures and commands):
//
//	SAFEGUARD_BENCH_CONCERNS=100000 go test ./sql/ -run '^$' -bench 'Report|OverdueList' -benchtime 10x
//
// The number of concerns defaults to 10,000 so that a plain -bench run stays short. Each
// dialect's database is seeded once per benchmark; the figure is the time of one whole report.

func benchConcerns(b *testing.B) int {
	n, err := strconv.Atoi(os.Getenv("SAFEGUARD_BENCH_CONCERNS"))
	if err != nil || n <= 0 {
		return 10000
	}
	return n
}

// forEachSeededDB seeds n concerns over the year to 1 March 2026 at the fixture's three
// prisons, once per dialect, then runs fn.
func forEachSeededDB(b *testing.B, fn func(b *testing.B, db *DB, now time.Time)) {
	until := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, o := range openers {
		b.Run(o.name, func(b *testing.B) {
			db, err := Open(ctx, o.url(b))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if _, err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			for _, org := range []*safeguard.Organisation{
				{Code: leeds, Name: "Leeds City Council", Kind: safeguard.KindLocalAuthority},
				{Code: wakefield, Name: "Wakefield Council", Kind: safeguard.KindLocalAuthority},
				{Code: "LEI", Name: "HMP Leeds", Kind: safeguard.KindPrison, HostLA: leeds},
				{Code: "WYI", Name: "HMYOI Wetherby", Kind: safeguard.KindPrison, HostLA: leeds},
				{Code: "WDI", Name: "HMP Wakefield", Kind: safeguard.KindPrison, HostLA: wakefield},
			} {
				if err := db.UpsertOrganisation(ctx, org); err != nil {
					b.Fatal(err)
				}
			}
			u := &safeguard.User{Email: "seed@lei.example", Name: "Seed", OrgCode: "LEI", Role: safeguard.RolePrisonLead}
			if err := db.CreateUser(ctx, u); err != nil {
				b.Fatal(err)
			}
			n := benchConcerns(b)
			start := time.Now()
			if err := db.Seed(ctx, SeedOptions{Concerns: n, Days: 365, Until: until, RaisedBy: u.ID, Seed: 1,
				Establishments: map[string]string{"LEI": leeds, "WYI": leeds, "WDI": wakefield}}); err != nil {
				b.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
				b.Fatal(err)
			}
			b.Logf("seeded %d concerns in %v", n, time.Since(start).Round(time.Millisecond))
			b.ResetTimer()
			fn(b, db, until)
		})
	}
}

func BenchmarkSACReportYear(b *testing.B) {
	forEachSeededDB(b, func(b *testing.B, db *DB, now time.Time) {
		p, _ := safeguard.ParsePeriod("2025-03-01", "2026-02-28", london)
		for _, sc := range []struct {
			name  string
			scope safeguard.Scope
		}{{"national", safeguard.Scope{All: true, SeesStaffAllegations: true}}, {"one_la", safeguard.Scope{Org: leeds, User: 1}}} {
			b.Run(sc.name, func(b *testing.B) {
				for b.Loop() {
					rep, err := db.SACReport(ctx, sc.scope, p)
					if err != nil || rep.Raised == 0 {
						b.Fatalf("report: %v (raised %d)", err, rep.Raised)
					}
				}
			})
		}
	})
}

func BenchmarkTimescalesReportYear(b *testing.B) {
	forEachSeededDB(b, func(b *testing.B, db *DB, now time.Time) {
		p, _ := safeguard.ParsePeriod("2025-03-01", "2026-02-28", london)
		for b.Loop() {
			if _, err := db.Timescales(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkOverdueListAndAudit(b *testing.B) {
	forEachSeededDB(b, func(b *testing.B, db *DB, now time.Time) {
		b.Run("list", func(b *testing.B) {
			for b.Loop() {
				if rows, err := db.Overdue(ctx, safeguard.Scope{Org: leeds, User: 1}, now, 0); err != nil || len(rows) == 0 {
					b.Fatalf("overdue: %v, %d rows", err, len(rows))
				}
			}
		})
		b.Run("audit", func(b *testing.B) {
			for b.Loop() {
				if _, err := db.OverdueAudit(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
