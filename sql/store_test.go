package sql

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// Every test in this package runs against both dialects through forEachDB: the store must behave
// the same on the embedded SQLite file and on PostgreSQL.
//
// Subtest names must not contain '%' or '#': sqltest.SQLite builds its URL by string
// concatenation from t.TempDir(), whose name is derived from the test name (see
// TestSQLiteURLFromTempDirStaysInTempDirWhenTheNameHasAHash below).

// openers are the two dialects, each giving a fresh, empty database URL.
var openers = []struct {
	name string
	url  func(testing.TB) string
}{
	{"sqlite", sqltest.SQLite},
	{"postgres", sqltest.Postgres},
}

// forEachDB runs fn as the subtests "sqlite" and "postgres", each on a fresh, migrated database.
func forEachDB(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	forEachEmptyDB(t, func(t *testing.T, db *DB) {
		t.Helper()
		n, err := db.Migrate(context.Background())
		if err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if n == 0 {
			t.Fatal("Migrate on an empty database applied 0 migrations")
		}
		fn(t, db)
	})
}

// forEachEmptyDB runs fn as the subtests "sqlite" and "postgres", each on a fresh database that
// has not been migrated.
func forEachEmptyDB(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	for _, o := range openers {
		t.Run(o.name, func(t *testing.T) {
			db, err := Open(context.Background(), o.url(t))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			if string(db.Dialect) != o.name {
				t.Fatalf("Dialect = %q; want %q", db.Dialect, o.name)
			}
			fn(t, db)
		})
	}
}

// clock is a settable clock for db.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixClock makes db.Now return a fixed time that the test can move.
func fixClock(db *DB, t time.Time) *clock {
	c := &clock{t: t}
	db.Now = c.Now
	return c
}

var ctx = context.Background()

// count runs a SELECT COUNT(*) written with '?' placeholders.
func count(t *testing.T, db *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.GetContext(ctx, &n, db.Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// exec runs a statement written with '?' placeholders.
func exec(t *testing.T, db *DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(ctx, db.Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// wantCode asserts that err is an application error with the given code and returns it.
func wantCode(t *testing.T, err error, code string) *safeguard.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil; want a %q error", code)
	}
	var e *safeguard.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T); want a *safeguard.Error with code %q", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %q (%v); want %q", e.Code, err, code)
	}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func boolp(b bool) *bool { return &b }

// Organisations of the small fixture: two local authorities and a prison in each, plus Wetherby,
// which shares Leeds as host.
const (
	leeds     = "E08000035"
	wakefield = "E08000036"
)

// seedOrgs stores Leeds and Wakefield councils and the prisons LEI, WYI (host Leeds) and WDI
// (host Wakefield).
func seedOrgs(t *testing.T, db *DB) {
	t.Helper()
	for _, o := range []*safeguard.Organisation{
		{Code: leeds, Name: "Leeds City Council", Kind: safeguard.KindLocalAuthority, Inbox: "adults@leeds.example"},
		{Code: wakefield, Name: "Wakefield Council", Kind: safeguard.KindLocalAuthority, Inbox: "adults@wakefield.example"},
		{Code: "LEI", Name: "HMP Leeds", Kind: safeguard.KindPrison, Inbox: "safeguarding@lei.example", HostLA: leeds},
		{Code: "WYI", Name: "HMYOI Wetherby", Kind: safeguard.KindPrison, Inbox: "safeguarding@wyi.example", HostLA: leeds},
		{Code: "WDI", Name: "HMP Wakefield", Kind: safeguard.KindPrison, Inbox: "safeguarding@wdi.example", HostLA: wakefield},
	} {
		if err := db.UpsertOrganisation(ctx, o); err != nil {
			t.Fatalf("UpsertOrganisation(%s): %v", o.Code, err)
		}
	}
}

// newUser creates a user and returns it with its id.
func newUser(t *testing.T, db *DB, email, org string, role safeguard.Role) *safeguard.User {
	t.Helper()
	u := &safeguard.User{Email: email, Name: "Test " + email, OrgCode: org, Role: role}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	if u.ID == 0 {
		t.Fatalf("CreateUser(%s) left ID 0", email)
	}
	return u
}

// seed stores the fixture organisations and a prison lead at LEI, whom it returns.
func seed(t *testing.T, db *DB) *safeguard.User {
	t.Helper()
	seedOrgs(t, db)
	return newUser(t, db, "lead@lei.example", "LEI", safeguard.RolePrisonLead)
}

// validRaise is a complete, valid raise at establishment.
func validRaise(establishment string) safeguard.Raise {
	return safeguard.Raise{
		Establishment: establishment,
		Subject: &safeguard.Subject{
			PrisonNumber: "A1234BC",
			Name:         "John Smith",
			DateOfBirth:  "1958-03-04",
			SupportNeeds: []string{"learning_disability", "older_age"},
		},
		Categories:      []string{"physical", "financial"},
		LocationOfRisk:  "custody",
		SourceOfRisk:    "other_known",
		Summary:         "Another prisoner takes his canteen each week and has pushed him on the landing.",
		ImmediateRisk:   boolp(true),
		ActionsTaken:    "Moved to a different landing; healthcare informed.",
		PoliceInformed:  boolp(false),
		Consent:         &safeguard.Consent{Given: boolp(false), ReasonIfNot: "Lacks capacity to decide at present."},
		CapacityConcern: boolp(true),
		DesiredOutcomes: &safeguard.DesiredOutcomes{Asked: boolp(true), Outcomes: "To keep his canteen and feel safe on the wing."},
	}
}

var hostOf = map[string]string{"LEI": leeds, "WYI": leeds, "WDI": wakefield}

// raise allocates a reference at establishment for the year of at and records a concern raised
// then by u; mutate, if not nil, changes the raise first. It returns the reference.
func raise(t *testing.T, db *DB, u *safeguard.User, establishment string, at time.Time, mutate func(*safeguard.Raise)) string {
	t.Helper()
	ref, _, err := db.AllocateReference(ctx, establishment, at.Year(), nil)
	if err != nil {
		t.Fatalf("AllocateReference: %v", err)
	}
	r := validRaise(establishment)
	if mutate != nil {
		mutate(&r)
	}
	err = db.RecordRaise(ctx, NewConcern{
		Reference: ref, Establishment: establishment, HostLA: hostOf[establishment],
		RaisedBy: u.ID, RaisedAt: at, Raise: r,
		Mail: []Mail{
			{Key: ref + "/raised/host_la", Recipient: "adults@la.example", Subject: "New concern " + ref, Body: "A concern was raised."},
			{Key: ref + "/raised/establishment", Recipient: "safeguarding@est.example", Subject: "Raised " + ref, Body: "Your concern was recorded."},
		},
	})
	if err != nil {
		t.Fatalf("RecordRaise(%s): %v", ref, err)
	}
	return ref
}

func TestMigrateIsIdempotent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		n, err := db.Migrate(ctx)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if n != 0 {
			t.Errorf("second Migrate applied %d migrations; want 0", n)
		}
		if err := db.CheckSchema(ctx); err != nil {
			t.Errorf("CheckSchema after migrate: %v", err)
		}
	})
}

func TestCheckSchemaOnEmptyDatabaseTellsToRunSafeguardMigrate(t *testing.T) {
	forEachEmptyDB(t, func(t *testing.T, db *DB) {
		err := db.CheckSchema(ctx)
		if err == nil {
			t.Fatal("CheckSchema on an empty database = nil; want an error")
		}
		if !strings.Contains(err.Error(), "safeguard migrate") {
			t.Errorf("CheckSchema error %q does not mention 'safeguard migrate'", err)
		}
		// Checking must not have migrated anything behind the caller's back.
		if n, err := db.Migrate(ctx); err != nil || n == 0 {
			t.Errorf("Migrate after CheckSchema = %d, %v; want >0 migrations applied", n, err)
		}
		if err := db.CheckSchema(ctx); err != nil {
			t.Errorf("CheckSchema after migrate: %v", err)
		}
	})
}

func TestPingAnswersOnAnOpenDatabase(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOpenRefusesURLsItCannotServe(t *testing.T) {
	for _, raw := range []string{"mysql://localhost/db", "sqlite://", "/just/a/path.db", "::not a url"} {
		db, err := Open(ctx, raw)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) = nil error; want one", raw)
			continue
		}
		if !strings.Contains(err.Error(), "DATABASE_URL") {
			t.Errorf("Open(%q) error %q does not name DATABASE_URL", raw, err)
		}
	}
}

func TestAuditInsertsARow(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		fixClock(db, at)
		must(t, db.Audit(ctx, AuditEntry{UserID: &u.ID, Action: "read", Reference: "SG-LEI-2026-00001", Outcome: "allowed", Remote: "192.0.2.1"}))
		must(t, db.Audit(ctx, AuditEntry{Action: "sign_in", Outcome: "denied"}))

		if n := count(t, db, `SELECT COUNT(*) FROM audit_log`); n != 2 {
			t.Fatalf("audit_log has %d rows; want 2", n)
		}
		var rows []struct {
			At        time.Time `db:"at"`
			UserID    *int64    `db:"user_id"`
			Action    string    `db:"action"`
			Reference *string   `db:"reference"`
			Outcome   string    `db:"outcome"`
			Remote    string    `db:"remote"`
		}
		must(t, db.SelectContext(ctx, &rows, `SELECT at, user_id, action, reference, outcome, remote FROM audit_log ORDER BY id`))
		r := rows[0]
		if !r.At.Equal(at) || r.UserID == nil || *r.UserID != u.ID || r.Action != "read" || r.Reference == nil ||
			*r.Reference != "SG-LEI-2026-00001" || r.Outcome != "allowed" || r.Remote != "192.0.2.1" {
			t.Errorf("first audit row = %+v", r)
		}
		r = rows[1]
		if r.UserID != nil || r.Reference != nil || r.Action != "sign_in" || r.Outcome != "denied" || r.Remote != "" {
			t.Errorf("second audit row (no user, no reference) = %+v; want NULL user_id and reference", r)
		}
	})
}

// A temporary directory name can hold '#' (repeated subtests) or '%'.
func TestSQLiteURLFromTempDirStaysInTempDirWhenTheNameHasAHash(t *testing.T) {
	for i := 0; i < 2; i++ {
		t.Run("same", func(t *testing.T) { // the second run is named "same#01"
			raw := sqltest.SQLite(t)
			db, err := Open(ctx, raw)
			if err != nil {
				t.Fatalf("Open(%s): %v", raw, err)
			}
			defer db.Close()
			var file string
			must(t, db.GetContext(ctx, &file, `SELECT file FROM pragma_database_list WHERE name = 'main'`))
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if want := u.Path; file != want {
				t.Errorf("database file = %s; want %s", file, want)
			}
		})
	}
}
