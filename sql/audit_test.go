package sql

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

// The audit trail is tampered with here as an attacker with a direct connection would: the
// append-only triggers are switched off first (tamper), then rows are edited, deleted, inserted
// and moved with plain SQL. Verification must name each change at the row where it was made.

// writeChain appends n audit rows with a variety of fields, one second apart.
func writeChain(t *testing.T, db *DB, n int) {
	t.Helper()
	c := fixClock(db, time.Date(2026, 3, 2, 10, 0, 0, 123456000, time.UTC))
	uid := int64(7)
	for i := 1; i <= n; i++ {
		e := AuditEntry{Action: "read", Reference: fmt.Sprintf("SG-LEI-2026-%05d", i), Outcome: "ok", Remote: "192.0.2.1"}
		switch i % 3 {
		case 0:
			e.UserID = &uid
		case 1:
			e = AuditEntry{Action: "sign_in", Outcome: "denied", Target: "user:3", Detail: "wrong password\nsecond line: with a colon"}
		}
		must(t, db.Audit(ctx, e))
		c.Add(time.Second)
	}
}

// tamper runs sql with the append-only triggers switched off, as an attacker who owns the
// table could.
func tamper(t *testing.T, db *DB, statements ...string) {
	t.Helper()
	if db.Dialect == Postgres {
		statements = append(append([]string{`ALTER TABLE audit_log DISABLE TRIGGER USER`}, statements...), `ALTER TABLE audit_log ENABLE TRIGGER USER`)
	} else {
		statements = append(append([]string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}, statements...),
			`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE is not allowed'); END`,
			`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE is not allowed'); END`)
	}
	for _, s := range statements {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("tamper: %s: %v", s, err)
		}
	}
}

// reseal recomputes the hash and link of every row from id on, as an attacker who knows the
// encoding would after changing a row, so that the chain is consistent in itself again.
func reseal(t *testing.T, db *DB, from int64) {
	t.Helper()
	var rows []auditRow
	must(t, db.SelectContext(ctx, &rows, `SELECT `+auditColumns+` FROM audit_log ORDER BY id`))
	prev := ""
	var stmts []string
	for _, r := range rows {
		if r.ID >= from {
			rec := safeguard.AuditRecord{Seq: r.ID, At: r.At, UserID: r.UserID, Action: r.Action, Reference: r.Reference.String, Outcome: r.Outcome,
				Remote: r.Remote, Target: r.Target, Detail: r.Detail, Flagged: r.Flagged, PrevHash: prev}
			r.Hash = rec.ComputeHash()
			stmts = append(stmts, fmt.Sprintf(`UPDATE audit_log SET prev_hash = '%s', hash = '%s' WHERE id = %d`, prev, r.Hash, r.ID))
		}
		prev = r.Hash
	}
	tamper(t, db, stmts...)
}

// forgeRow inserts a row at id that is sealed correctly onto the row before it: the strongest
// insertion an attacker who knows the encoding can make.
func forgeRow(t *testing.T, db *DB, id int64) {
	t.Helper()
	var prev string
	must(t, db.GetContext(ctx, &prev, db.Rebind(`SELECT hash FROM audit_log WHERE id = ?`), id-1))
	rec := safeguard.AuditRecord{Seq: id, At: time.Date(2026, 3, 2, 10, 0, 4, 500000000, time.UTC), Action: "read", Reference: "SG-LEI-2026-00099",
		Outcome: "ok", PrevHash: prev}
	rec.Hash = rec.ComputeHash()
	_, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, NULL, ?, ?, ?, '', '', '', ?, ?, ?)`),
		rec.Seq, rec.At, rec.Action, rec.Reference, rec.Outcome, false, rec.PrevHash, rec.Hash)
	must(t, err)
}

// checkpoint returns the chain's head now, as the checkpoint writer would sign it.
func checkpoint(t *testing.T, db *DB) safeguard.AuditCheckpoint {
	t.Helper()
	cp, err := db.AuditHead(ctx)
	must(t, err)
	return cp
}

func verify(t *testing.T, db *DB, cps ...safeguard.AuditCheckpoint) safeguard.AuditReport {
	t.Helper()
	rep, err := db.VerifyAudit(ctx, cps, nil)
	must(t, err)
	return rep
}

// found lists a report's problems as "id:kind".
func found(rep safeguard.AuditReport) []string {
	var out []string
	for _, p := range rep.Problems {
		out = append(out, fmt.Sprintf("%d:%s", p.ID, p.Kind))
	}
	return out
}

func TestAuditChainOfUntouchedRowsVerifies(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		writeChain(t, db, 10)
		cp := checkpoint(t, db)
		if cp.Rows != 10 || len(cp.Head) != 64 {
			t.Fatalf("AuditHead = %+v; want 10 rows and a SHA-256 head", cp)
		}
		rep := verify(t, db, cp)
		if !rep.OK || rep.Rows != 10 || rep.Head != cp.Head || rep.CheckpointsChecked != 1 || len(rep.Problems) != 0 {
			t.Fatalf("VerifyAudit of an untouched chain = %+v; want ok, 10 rows, head %s, 1 checkpoint checked", rep, cp.Head)
		}
		empty, err := db.VerifyAudit(ctx, nil, nil)
		must(t, err)
		if !empty.OK || empty.Rows != 10 {
			t.Fatalf("VerifyAudit without checkpoints = %+v", empty)
		}
	})
}

func TestAuditLogRejectsUpdateDeleteAndTruncate(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		writeChain(t, db, 3)
		attempts := []string{`UPDATE audit_log SET outcome = 'ok' WHERE id = 1`, `DELETE FROM audit_log WHERE id = 3`, `DELETE FROM audit_log`}
		if db.Dialect == Postgres {
			attempts = append(attempts, `TRUNCATE audit_log`)
		}
		for _, q := range attempts {
			_, err := db.ExecContext(ctx, q)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v; want the append-only trigger to refuse it", q, err)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log`); n != 3 {
			t.Errorf("audit_log has %d rows after the refused changes; want 3", n)
		}
		if rep := verify(t, db); !rep.OK {
			t.Errorf("VerifyAudit after refused changes = %+v; want ok", rep)
		}
	})
}

func TestAuditVerifyNamesEachTampering(t *testing.T) {
	cases := []struct {
		name string
		// change tampers with a chain of 10 rows, given the checkpoint signed over all ten.
		change func(t *testing.T, db *DB)
		// checkpointed compares the chain with the checkpoint of all ten rows: a change must be
		// named for what it is, not only as a disagreement with the checkpoint.
		checkpointed bool
		want         []string
	}{
		{"edited", func(t *testing.T, db *DB) {
			tamper(t, db, `UPDATE audit_log SET outcome = 'ok' WHERE id = 4`) // row 4 is a sign-in denied
		}, true, []string{"4:edited"}},
		{"edited and re-hashed", func(t *testing.T, db *DB) {
			tamper(t, db, `UPDATE audit_log SET remote = '198.51.100.9' WHERE id = 4`)
			rec := rowAt(t, db, 4)
			rec.Remote = "198.51.100.9"
			tamper(t, db, fmt.Sprintf(`UPDATE audit_log SET hash = '%s' WHERE id = 4`, rec.ComputeHash()))
		}, true, []string{"4:edited"}},
		{"user changed", func(t *testing.T, db *DB) {
			tamper(t, db, `UPDATE audit_log SET user_id = 8 WHERE id = 3`)
		}, true, []string{"3:edited"}},
		{"deleted", func(t *testing.T, db *DB) {
			tamper(t, db, `DELETE FROM audit_log WHERE id = 5`)
		}, true, []string{"5:deleted"}},
		{"two deleted", func(t *testing.T, db *DB) {
			tamper(t, db, `DELETE FROM audit_log WHERE id IN (5, 6)`)
		}, true, []string{"5:deleted"}},
		{"deleted and renumbered", func(t *testing.T, db *DB) {
			tamper(t, db, `DELETE FROM audit_log WHERE id = 5`, `UPDATE audit_log SET id = -id WHERE id > 5`, `UPDATE audit_log SET id = -id - 1 WHERE id < 0`)
		}, true, []string{"5:deleted"}},
		{"inserted and renumbered", func(t *testing.T, db *DB) {
			tamper(t, db, `UPDATE audit_log SET id = -id WHERE id >= 5`, `UPDATE audit_log SET id = -id + 1 WHERE id < 0`)
			forgeRow(t, db, 5)
		}, true, []string{"5:inserted"}},
		{"inserted at the end", func(t *testing.T, db *DB) {
			tamper(t, db, `INSERT INTO audit_log (`+auditColumns+`) SELECT 11, at, user_id, action, reference, outcome, remote, target, detail, flagged, prev_hash, hash FROM audit_log WHERE id = 3`)
		}, true, []string{"11:inserted"}},
		{"reordered", func(t *testing.T, db *DB) {
			tamper(t, db, `UPDATE audit_log SET id = -4 WHERE id = 5`, `UPDATE audit_log SET id = 5 WHERE id = 4`, `UPDATE audit_log SET id = 4 WHERE id = -4`)
		}, true, []string{"4:reordered", "5:reordered"}},
		{"moved further", func(t *testing.T, db *DB) {
			tamper(t, db, `UPDATE audit_log SET id = -3 WHERE id = 7`, `UPDATE audit_log SET id = 7 WHERE id = 3`, `UPDATE audit_log SET id = 3 WHERE id = -3`)
		}, true, []string{"3:reordered", "7:reordered"}},
		{"tail truncated", func(t *testing.T, db *DB) {
			tamper(t, db, `DELETE FROM audit_log WHERE id > 8`)
		}, true, []string{"9:truncated"}},
		{"whole chain rewritten", func(t *testing.T, db *DB) {
			tamper(t, db, `UPDATE audit_log SET outcome = 'forbidden' WHERE id = 3`)
			reseal(t, db, 3)
		}, true, []string{"10:checkpoint_mismatch"}},
		{"truncated and appended to", func(t *testing.T, db *DB) {
			tamper(t, db, `DELETE FROM audit_log WHERE id > 8`)
			must(t, db.Audit(ctx, AuditEntry{Action: "read", Outcome: "ok"}))
			must(t, db.Audit(ctx, AuditEntry{Action: "read", Outcome: "ok"}))
		}, true, []string{"10:checkpoint_mismatch"}},
	}
	forEachDB(t, func(t *testing.T, db *DB) {
		for _, tc := range cases {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				tamper(t, db, `DELETE FROM audit_log`)
				writeChain(t, db, 10)
				cp := checkpoint(t, db)
				tc.change(t, db)
				var cps []safeguard.AuditCheckpoint
				if tc.checkpointed {
					cps = append(cps, cp)
				}
				rep := verify(t, db, cps...)
				if got := found(rep); rep.OK || !slices.Equal(got, tc.want) {
					t.Errorf("VerifyAudit after the chain was %s: ok=%v, problems %v; want %v\n%+v", tc.name, rep.OK, got, tc.want, rep.Problems)
				}
				for _, p := range rep.Problems {
					if p.Message == "" {
						t.Errorf("problem %+v has no message", p)
					}
				}
			})
		}
	})
}

// rowAt reads the row at id as a record.
func rowAt(t *testing.T, db *DB, id int64) safeguard.AuditRecord {
	t.Helper()
	var r auditRow
	must(t, db.GetContext(ctx, &r, db.Rebind(`SELECT `+auditColumns+` FROM audit_log WHERE id = ?`), id))
	return safeguard.AuditRecord{Seq: r.ID, At: r.At, UserID: r.UserID, Action: r.Action, Reference: r.Reference.String, Outcome: r.Outcome,
		Remote: r.Remote, Target: r.Target, Detail: r.Detail, Flagged: r.Flagged, PrevHash: r.PrevHash, Hash: r.Hash}
}

func TestAuditAppendsFromManyWritersKeepOneChain(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		const writers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					errs <- db.Audit(ctx, AuditEntry{Action: "read", Outcome: "ok", Target: fmt.Sprintf("writer:%d/%d", w, i)})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		rep := verify(t, db, checkpoint(t, db))
		if !rep.OK || rep.Rows != writers*each {
			t.Fatalf("after %d concurrent appends VerifyAudit = ok %v, %d rows, problems %v; want one unbroken chain", writers*each, rep.OK, rep.Rows, found(rep))
		}
	})
}

func TestAccessLogPagesNewestFirstWithWhoActed(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		c := fixClock(db, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
		const ref = "SG-LEI-2026-00001"
		for i := range 5 {
			must(t, db.Audit(ctx, AuditEntry{UserID: &u.ID, Action: "read", Reference: ref, Outcome: "ok", Remote: fmt.Sprintf("192.0.2.%d", i)}))
			must(t, db.Audit(ctx, AuditEntry{Action: "read", Reference: "SG-LEI-2026-00002", Outcome: "ok"}))
			c.Add(time.Minute)
		}
		page, next, err := db.AccessLog(ctx, ref, "", 3)
		must(t, err)
		if len(page) != 3 || next == "" || page[0].Remote != "192.0.2.4" || page[0].UserName != u.Name || page[0].UserRole != u.Role || page[0].UserOrg != u.OrgCode {
			t.Fatalf("first page = %+v, next %q; want the 3 newest reads of %s by %s, and a cursor", page, next, ref, u.Name)
		}
		if !page[0].At.Equal(time.Date(2026, 3, 2, 10, 4, 0, 0, time.UTC)) || page[0].At.Location() != time.UTC {
			t.Errorf("At = %v; want 10:04 UTC", page[0].At)
		}
		rest, next, err := db.AccessLog(ctx, ref, next, 3)
		must(t, err)
		if len(rest) != 2 || next != "" || rest[1].Remote != "192.0.2.0" {
			t.Fatalf("second page = %+v, next %q; want the 2 oldest and no cursor", rest, next)
		}
		if _, _, err := db.AccessLog(ctx, ref, "not-a-cursor", 3); safeguard.ErrorCode(err) != safeguard.EINVALID {
			t.Errorf("AccessLog with a made-up cursor: err = %v; want EINVALID on cursor", err)
		}
	})
}

func TestFlaggedReadsListOnlyBreakGlassWithTheReason(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		must(t, db.Audit(ctx, AuditEntry{UserID: &u.ID, Action: "read", Reference: "SG-LEI-2026-00001", Outcome: "ok"}))
		must(t, db.Audit(ctx, AuditEntry{UserID: &u.ID, Action: "break_glass_read", Reference: "SG-LEI-2026-00002", Outcome: "ok",
			Detail: "police request about an incident tonight", Flagged: true}))
		got, next, err := db.FlaggedReads(ctx, "", 10)
		must(t, err)
		if len(got) != 1 || next != "" || got[0].Reference != "SG-LEI-2026-00002" || got[0].Detail != "police request about an incident tonight" || !got[0].Flagged {
			t.Fatalf("FlaggedReads = %+v; want the one break-glass read with its reason", got)
		}
		if rep := verify(t, db); !rep.OK {
			t.Errorf("flagged rows break the chain: %+v", rep)
		}
	})
}

// BenchmarkAudit measures one append to the chain (lock, head, insert, commit), on each
// dialect, one writer at a time and with parallel writers. docs/audit.md has the figures.
func BenchmarkAudit(b *testing.B) {
	for _, o := range openers {
		b.Run(o.name, func(b *testing.B) {
			db, err := Open(context.Background(), o.url(b))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			uid := int64(1)
			e := AuditEntry{UserID: &uid, Action: "read", Reference: "SG-LEI-2026-00001", Outcome: "ok", Remote: "192.0.2.1"}
			// What an audit row cost before the chain: one INSERT, no lock, no head, no hash.
			b.Run("unchained_baseline", func(b *testing.B) {
				id := int64(1 << 40)
				for b.Loop() {
					id++
					_, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO audit_log (id, at, user_id, action, reference, outcome, remote) VALUES (?, ?, ?, ?, ?, ?, ?)`),
						id, db.Now(), e.UserID, e.Action, e.Reference, e.Outcome, e.Remote)
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("serial", func(b *testing.B) {
				for b.Loop() {
					if err := db.Audit(ctx, e); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := db.Audit(ctx, e); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}
