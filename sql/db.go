// Package sql is the record and the read model: organisations, users, tokens, concerns, their
// timelines and the outbox, in PostgreSQL (pgx) or SQLite (modernc, pure Go), through sqlx.
// Every query that returns concerns applies the caller's safeguard.Scope inside the SQL, so
// nothing out of scope is ever fetched.
package sql

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers "sqlite"
)

//go:embed migrations
var migrations embed.FS

// sqlx does not know modernc's driver name; it takes '?' placeholders like other SQLite drivers.
func init() { sqlx.BindDriver("sqlite", sqlx.QUESTION) }

// Dialect names the database behind a DB.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DB is the service's database. Now is the clock used for every timestamp it writes, so that
// tests can fix it.
type DB struct {
	*sqlx.DB
	Dialect Dialect
	Now     func() time.Time
}

// Open connects to url: "postgres://…" (or "postgresql://…") or "sqlite:///path/to/file.db".
// SQLite is opened in WAL mode with a busy timeout and foreign keys on, and its write
// transactions take the lock up front so that concurrent writers queue instead of failing.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	driver, dsn, dialect, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if dialect == SQLite {
		if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
			return nil, fmt.Errorf("sql: create directory for %s: %w", dsn, err)
		}
		dsn = dsn + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	}
	db, err := sqlx.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("sql: open: %w", err)
	}
	if dialect == SQLite {
		// One writer at a time is SQLite's nature; a small pool keeps readers concurrent.
		db.SetMaxOpenConns(8)
	} else {
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sql: connect to %s database: %w", dialect, err)
	}
	return &DB{DB: db, Dialect: dialect, Now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}, nil
}

// parseURL maps DATABASE_URL onto a driver name and its data source name.
func parseURL(raw string) (driver, dsn string, dialect Dialect, err error) {
	u, perr := url.Parse(raw)
	if perr != nil {
		return "", "", "", fmt.Errorf("sql: DATABASE_URL is not a URL")
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		return "pgx", raw, Postgres, nil
	case "sqlite":
		path := u.Path
		if u.Host != "" { // sqlite://relative/path.db
			path = u.Host + u.Path
		}
		if path == "" {
			return "", "", "", fmt.Errorf("sql: DATABASE_URL sqlite:///path needs a file path")
		}
		return "sqlite", path, SQLite, nil
	default:
		return "", "", "", fmt.Errorf("sql: DATABASE_URL must start with postgres:// or sqlite:///, not %q", u.Scheme+"://")
	}
}

// Migrate brings the schema up to date and returns how many migrations it applied. It is safe
// to run on every start: goose records what has been applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	p, err := db.migrations()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("sql: migrate: %w", err)
	}
	return len(res), nil
}

// CheckSchema returns an error if migrations are pending: the split api and worker processes
// do not migrate by themselves, `safeguard migrate` does.
func (db *DB) CheckSchema(ctx context.Context) error {
	p, err := db.migrations()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("sql: read schema version: %w", err)
	}
	if pending {
		return errors.New("sql: the database schema is not up to date: run 'safeguard migrate'")
	}
	return nil
}

func (db *DB) migrations() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectPostgres
	if db.Dialect == SQLite {
		dialect = goose.DialectSQLite3
	}
	// 14 fills sac_counts (made by 00013) from the concerns already recorded: the counting is
	// Go's (saccounts.go), the same that keeps them as concerns are recorded.
	sacCounts := goose.NewGoMigration(14,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return db.rebuildSACCounts(ctx, tx) }},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM sac_counts`)
			return err
		}})
	p, err := goose.NewProvider(dialect, db.DB.DB, sub, goose.WithGoMigrations(sacCounts))
	if err != nil {
		return nil, fmt.Errorf("sql: migrations: %w", err)
	}
	return p, nil
}

// Ping reports whether the database answers, for /readyz.
func (db *DB) Ping(ctx context.Context) error { return db.DB.PingContext(ctx) }

// inTx runs fn in a transaction, committing if it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// isUniqueViolation reports whether err is a primary-key or unique constraint failure.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// isNoRows reports whether a single-row query found nothing.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
