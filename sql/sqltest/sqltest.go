// Package sqltest gives tests a fresh, empty database of each kind: a SQLite file in the test's
// temporary directory, or a new PostgreSQL database dropped when the test ends.
//
// PostgreSQL is found through SAFEGUARD_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). Without a server the tests
// that need it skip on a laptop, but fail under CI=true: CI must run them.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// DefaultPostgres is the administrative connection used when SAFEGUARD_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// SQLite returns a DATABASE_URL for a new SQLite file.
func SQLite(t testing.TB) string {
	// Built as a URL, not by concatenation: a temporary directory's name can hold '#' or '%'.
	return (&url.URL{Scheme: "sqlite", Path: filepath.ToSlash(filepath.Join(t.TempDir(), "safeguard.db"))}).String()
}

// Postgres creates a new database and returns its DATABASE_URL; the database is dropped when
// the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("SAFEGUARD_TEST_POSTGRES")
	if admin == "" {
		admin = DefaultPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sqltest: PostgreSQL is required under CI=true but is not reachable at %s: %v", admin, err)
		}
		t.Skipf("sqltest: no PostgreSQL at %s (set SAFEGUARD_TEST_POSTGRES): %v", admin, err)
	}
	defer db.Close()
	raw := make([]byte, 6)
	rand.Read(raw)
	name := "safeguard_test_" + hex.EncodeToString(raw)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("sqltest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("sqltest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
