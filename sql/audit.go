package sql

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/safeguard-project/safeguard"
)

// AuditEntry is one row of the audit trail: who did what to which record, from where, and
// whether it was allowed. Remote is the client address.
type AuditEntry struct {
	UserID    *int64
	Action    string
	Reference string
	Outcome   string
	Remote    string
	// Target names what else the entry is about: "user:12", "token:5", "session:3".
	Target string
	// Detail is a short explanation: a break-glass reason, why a sign-in failed. Never the
	// personal details of the adult a concern is about.
	Detail string
	// Flagged marks a read to be reviewed: an admin breaking glass.
	Flagged bool
}

// auditLockKey is the PostgreSQL advisory lock that serialises appends to the chain; any
// constant unique to this table will do.
const auditLockKey = 0x5afe_a0d1_7000_0001

// Audit appends an entry to the audit trail, sealed into the hash chain: it takes the append
// lock (PostgreSQL: a transaction-scoped advisory lock; SQLite: the write lock its
// transactions take up front), reads the head, and inserts the row at the next position with
// the head's hash as its link. Concurrent appends from any number of processes queue on the
// lock, so the chain never forks and has no gaps.
func (db *DB) Audit(ctx context.Context, e AuditEntry) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if db.Dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditLockKey)); err != nil {
				return fmt.Errorf("sql: audit lock: %w", err)
			}
		}
		var head struct {
			ID   int64  `db:"id"`
			Hash string `db:"hash"`
		}
		err := tx.GetContext(ctx, &head, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`)
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("sql: audit head: %w", err)
		}
		// Taken under the lock, so that times follow the chain's order on one clock.
		rec := safeguard.AuditRecord{
			Seq: head.ID + 1, At: db.Now().UTC().Truncate(time.Microsecond), UserID: e.UserID, Action: e.Action,
			Reference: e.Reference, Outcome: e.Outcome, Remote: e.Remote, Target: e.Target, Detail: e.Detail,
			Flagged: e.Flagged, PrevHash: head.Hash,
		}
		rec.Hash = rec.ComputeHash()
		var ref any
		if rec.Reference != "" {
			ref = rec.Reference
		}
		_, err = tx.ExecContext(ctx, db.Rebind(`INSERT INTO audit_log (id, at, user_id, action, reference, outcome, remote, target, detail, flagged, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			rec.Seq, rec.At, rec.UserID, rec.Action, ref, rec.Outcome, rec.Remote, rec.Target, rec.Detail, rec.Flagged, rec.PrevHash, rec.Hash)
		return err
	})
}

// AuditHead returns the chain's length and head hash now, for a checkpoint.
func (db *DB) AuditHead(ctx context.Context) (safeguard.AuditCheckpoint, error) {
	cp := safeguard.AuditCheckpoint{At: db.Now().UTC()}
	err := db.QueryRowxContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&cp.Rows, &cp.Head)
	if isNoRows(err) {
		return cp, nil
	}
	return cp, err
}

type auditRow struct {
	ID        int64          `db:"id"`
	At        time.Time      `db:"at"`
	UserID    *int64         `db:"user_id"`
	Action    string         `db:"action"`
	Reference sql.NullString `db:"reference"`
	Outcome   string         `db:"outcome"`
	Remote    string         `db:"remote"`
	Target    string         `db:"target"`
	Detail    string         `db:"detail"`
	Flagged   bool           `db:"flagged"`
	PrevHash  string         `db:"prev_hash"`
	Hash      string         `db:"hash"`
}

const auditColumns = `id, at, user_id, action, reference, outcome, remote, target, detail, flagged, prev_hash, hash`

// VerifyAudit reads the whole chain, in order and one row at a time, through a
// safeguard.AuditVerifier together with the checkpoints (and the problems found reading
// them). The checkpoints must have been read before the call: a checkpoint written while the
// rows are read could name rows the read does not see.
func (db *DB) VerifyAudit(ctx context.Context, checkpoints []safeguard.AuditCheckpoint, problems []safeguard.AuditProblem) (safeguard.AuditReport, error) {
	v := safeguard.NewAuditVerifier(checkpoints, problems)
	rows, err := db.QueryxContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY id`)
	if err != nil {
		return safeguard.AuditReport{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var r auditRow
		if err := rows.StructScan(&r); err != nil {
			return safeguard.AuditReport{}, err
		}
		v.Add(safeguard.AuditRecord{
			Seq: r.ID, At: r.At, UserID: r.UserID, Action: r.Action, Reference: r.Reference.String, Outcome: r.Outcome,
			Remote: r.Remote, Target: r.Target, Detail: r.Detail, Flagged: r.Flagged, PrevHash: r.PrevHash, Hash: r.Hash,
		})
	}
	if err := rows.Err(); err != nil {
		return safeguard.AuditReport{}, err
	}
	return v.Finish(), nil
}

// AccessLog returns one page of a concern's audit rows, newest first, with the name, role and
// organisation of whoever acted, and the cursor of the next page ("" on the last). The caller
// must have asked the access policy (safeguard.ActionReadAccessLog).
func (db *DB) AccessLog(ctx context.Context, ref, cursor string, limit int) ([]safeguard.AuditLogEntry, string, error) {
	return db.auditPage(ctx, "a.reference = ?", []any{ref}, cursor, limit, false)
}

// FlaggedReads returns one page of the reads flagged for review (admins breaking glass),
// newest first, with the concern and the reason given.
func (db *DB) FlaggedReads(ctx context.Context, cursor string, limit int) ([]safeguard.AuditLogEntry, string, error) {
	return db.auditPage(ctx, "a.flagged", nil, cursor, limit, true)
}

func (db *DB) auditPage(ctx context.Context, where string, args []any, cursor string, limit int, withDetail bool) ([]safeguard.AuditLogEntry, string, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if cursor != "" {
		before, err := decodeAuditCursor(cursor)
		if err != nil {
			return nil, "", safeguard.FieldErrors(map[string]string{"cursor": "is not a cursor this service gave out"})
		}
		where, args = where+" AND a.id < ?", append(args, before)
	}
	var rows []struct {
		auditRow
		UserName sql.NullString `db:"user_name"`
		UserRole sql.NullString `db:"user_role"`
		UserOrg  sql.NullString `db:"user_org"`
	}
	err := db.SelectContext(ctx, &rows, db.Rebind(`SELECT a.id, a.at, a.user_id, a.action, a.reference, a.outcome, a.remote, a.target, a.detail,
			a.flagged, a.prev_hash, a.hash, u.name AS user_name, u.role AS user_role, u.org_code AS user_org
		FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
		WHERE `+where+` ORDER BY a.id DESC LIMIT ?`), append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeAuditCursor(rows[len(rows)-1].ID)
	}
	out := make([]safeguard.AuditLogEntry, 0, len(rows))
	for _, r := range rows {
		e := safeguard.AuditLogEntry{
			ID: r.ID, At: r.At.UTC(), UserID: r.UserID, UserName: r.UserName.String, UserRole: safeguard.Role(r.UserRole.String),
			UserOrg: r.UserOrg.String, Action: r.Action, Outcome: r.Outcome, Remote: r.Remote, Flagged: r.Flagged,
		}
		if withDetail {
			e.Reference, e.Detail = r.Reference.String, r.Detail
		}
		out = append(out, e)
	}
	return out, next, nil
}

// Audit cursors are opaque to callers: the last row's ID, so pages stay put while rows arrive.
func encodeAuditCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("audit:" + strconv.FormatInt(id, 10)))
}

func decodeAuditCursor(s string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	id, ok := strings.CutPrefix(string(raw), "audit:")
	if !ok {
		return 0, fmt.Errorf("not an audit cursor")
	}
	return strconv.ParseInt(id, 10, 64)
}
