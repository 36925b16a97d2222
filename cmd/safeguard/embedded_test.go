package main

import (
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// TestEmbeddedTemporalRunsInWALMode checks the journal mode the embedded Temporal server's
// SQLite file is really in. The pragmas once reached SQLite misspelled and were ignored, and
// the server ran on the rollback journal at a third of the throughput (docs/performance.md).
func TestEmbeddedTemporalRunsInWALMode(t *testing.T) {
	svc := startService(t, env{})
	db, err := sql.Open("sqlite", "file:"+filepath.Join(svc.cfg.DataDir, "temporal.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("the embedded Temporal database is in journal mode %q, want wal", mode)
	}
}
