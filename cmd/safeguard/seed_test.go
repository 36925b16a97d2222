package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	sgsql "github.com/safeguard-project/safeguard/sql"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

func TestSeedCommandWritesConcernsAndRefusesAFullDatabaseWithoutForce(t *testing.T) {
	dbURL := sqltest.SQLite(t)
	e := env{"DATABASE_URL": dbURL, "SAFEGUARD_DATA_DIR": t.TempDir()}
	if code, _, errOut := cli(t, e, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	if code, _, _ := cli(t, e, "", "seed"); code != 2 {
		t.Errorf("seed without --concerns: exit %d; want 2", code)
	}
	code, out, errOut := cli(t, e, "", "seed", "--concerns", "450")
	if code != 0 || !strings.Contains(out, "seeded 450 concerns") {
		t.Fatalf("seed: %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "(100%)") || strings.Count(errOut, "seeded ") < 2 {
		t.Errorf("seed printed no progress:\n%s", errOut)
	}

	ctx := context.Background()
	count := func() (concerns, clocks, ests int) {
		t.Helper()
		db, err := sgsql.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for q, v := range map[string]*int{
			`SELECT COUNT(*) FROM concerns`:                      &concerns,
			`SELECT COUNT(*) FROM clocks`:                        &clocks,
			`SELECT COUNT(DISTINCT establishment) FROM concerns`: &ests,
		} {
			if err := db.GetContext(ctx, v, q); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if concerns, clocks, ests := count(); concerns != 450 || clocks != 900 || ests < 50 {
		t.Fatalf("after seeding 450: %d concerns, %d clocks, %d establishments; want 450, 900 and the reference prisons", concerns, clocks, ests)
	}

	// The seeded volumes are what the reports and the overdue list read.
	db, err := sgsql.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Overdue(ctx, safeguard.Scope{All: true, SeesStaffAllegations: true}, time.Now(), 0)
	if err != nil || len(rows) == 0 {
		t.Errorf("overdue list over the seeded concerns: %v, %d rows", err, len(rows))
	}
	u, err := db.FindUserByEmail(ctx, seedUserEmail)
	if err != nil || !u.Disabled {
		t.Errorf("the account that raised the seeded concerns: %+v, %v; want it disabled", u, err)
	}
	db.Close()

	code, out, errOut = cli(t, e, "", "seed", "--concerns", "10")
	if code != 1 || !strings.Contains(errOut, "already holds 450 concerns") || !strings.Contains(errOut, "--force") {
		t.Errorf("seeding a database that holds concerns: %d\n%s\n%s", code, out, errOut)
	}
	if concerns, _, _ := count(); concerns != 450 {
		t.Fatalf("a refused seed wrote concerns: %d", concerns)
	}
	if code, out, errOut := cli(t, e, "", "seed", "--concerns", "50", "--force", "--establishments", "LEI,WDI"); code != 0 {
		t.Fatalf("seed --force: %d\n%s\n%s", code, out, errOut)
	}
	if concerns, clocks, _ := count(); concerns != 500 || clocks != 1000 {
		t.Errorf("after seeding 50 more with --force: %d concerns, %d clocks; want 500 and 1000", concerns, clocks)
	}
}
