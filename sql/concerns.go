package sql

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/safeguard-project/safeguard"
)

// IdempotencyKey is a caller's key for one raise, with the hash of the body it came with.
type IdempotencyKey struct {
	UserID      int64
	Key         string
	RequestHash string
}

// AllocateReference returns the next reference for a concern raised at establishment in year.
// With a key it is idempotent: a repeat of the same key and body returns the first reference
// and replay=true; the same key with a different body is ECONFLICT. The counter and the key
// are written in one transaction.
func (db *DB) AllocateReference(ctx context.Context, establishment string, year int, key *IdempotencyKey) (ref string, replay bool, err error) {
	ref, replay, err = db.allocateReference(ctx, establishment, year, key)
	if key != nil && isUniqueViolation(err) {
		// The same key arrived twice at once and the other request stored it first: this one
		// is a replay of it.
		return db.allocateReference(ctx, establishment, year, key)
	}
	return ref, replay, err
}

func (db *DB) allocateReference(ctx context.Context, establishment string, year int, key *IdempotencyKey) (ref string, replay bool, err error) {
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if key != nil {
			var prior struct {
				Hash string `db:"request_hash"`
				Ref  string `db:"reference"`
			}
			err := tx.GetContext(ctx, &prior, db.Rebind(`SELECT request_hash, reference FROM idempotency_keys WHERE user_id = ? AND key = ?`), key.UserID, key.Key)
			switch {
			case err == nil && prior.Hash == key.RequestHash:
				ref, replay = prior.Ref, true
				return nil
			case err == nil:
				return safeguard.Errorf(safeguard.ECONFLICT, "this Idempotency-Key was used with a different request body")
			case !isNoRows(err):
				return err
			}
		}
		var seq int
		err := tx.GetContext(ctx, &seq, db.Rebind(`
			INSERT INTO reference_counters (establishment, year, next_seq) VALUES (?, ?, 2)
			ON CONFLICT (establishment, year) DO UPDATE SET next_seq = reference_counters.next_seq + 1
			RETURNING next_seq - 1`), establishment, year)
		if err != nil {
			return err
		}
		if seq > 99999 {
			return safeguard.Errorf(safeguard.ECONFLICT, "%s has used every reference number for %d", establishment, year)
		}
		ref = safeguard.FormatReference(establishment, year, seq)
		if key != nil {
			_, err = tx.ExecContext(ctx, db.Rebind(`INSERT INTO idempotency_keys (user_id, key, request_hash, reference, created_at) VALUES (?, ?, ?, ?, ?)`),
				key.UserID, key.Key, key.RequestHash, ref, db.Now())
		}
		return err
	})
	return ref, replay, err
}

// Mail is a message to put in the outbox alongside a change, under a key that is unique for
// what it announces (e.g. "SG-LEI-2026-00001/raised/host_la").
type Mail struct {
	Key       string
	Recipient string
	Subject   string
	Body      string
}

// NewConcern is everything recorded when a concern is raised.
type NewConcern struct {
	Reference     string
	Establishment string
	HostLA        string
	RaisedBy      int64
	RaisedAt      time.Time
	Raise         safeguard.Raise
	Clocks        []*safeguard.ClockInstance // the clocks that start at raising
	Mail          []Mail
}

// RecordRaise stores a new concern, the organisations involved, its first timeline entry and its
// outbox mail in one transaction. It is idempotent: recording the same reference again changes
// nothing, so the activity that calls it can be retried.
func (db *DB) RecordRaise(ctx context.Context, c NewConcern) error {
	details, err := json.Marshal(c.Raise)
	if err != nil {
		return err
	}
	// PostgreSQL keeps microseconds; SQLite would keep nanoseconds. Store what both can.
	c.RaisedAt = c.RaisedAt.UTC().Truncate(time.Microsecond)
	var staffAllegationAt any
	if c.Raise.AllegationAgainstStaff {
		staffAllegationAt = c.Establishment
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind(`
			INSERT INTO concerns (reference, establishment, host_la, stage, raised_by, raised_at, updated_at,
				subject_prison_number, subject_name_lower, immediate_risk, details, staff_allegation_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reference) DO NOTHING`),
			c.Reference, c.Establishment, c.HostLA, safeguard.StageNotification, c.RaisedBy, c.RaisedAt, c.RaisedAt,
			c.Raise.Subject.PrisonNumber, strings.ToLower(c.Raise.Subject.Name), *c.Raise.ImmediateRisk, string(details), staffAllegationAt)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // recorded by an earlier attempt
		}
		if err := db.recordFacts(ctx, tx, c); err != nil {
			return err
		}
		for _, rel := range []struct{ org, relation string }{{c.Establishment, "establishment"}, {c.HostLA, "host_la"}} {
			if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO concern_orgs (reference, org_code, relation, raised_at) VALUES (?, ?, ?, ?)`),
				c.Reference, rel.org, rel.relation, c.RaisedAt); err != nil {
				return err
			}
		}
		if err := db.countForSAC(ctx, tx, c.Reference, nil); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"categories": c.Raise.Categories, "immediate_risk": c.Raise.ImmediateRisk})
		if err := db.addEvent(ctx, tx, c.Reference, "raised", c.RaisedAt, "raised", &c.RaisedBy, c.Establishment, detail); err != nil {
			return err
		}
		if err := db.saveClocks(ctx, tx, c.Reference, c.Clocks); err != nil {
			return err
		}
		return db.enqueue(ctx, tx, c.Reference, c.RaisedAt, c.Mail)
	})
}

// recordFacts fills a new concern's reporting columns and its types of risk (docs/reports.md):
// the reports count these, never the details blob.
func (db *DB) recordFacts(ctx context.Context, tx *sqlx.Tx, c NewConcern) error {
	f := c.Raise.Facts(c.RaisedAt, london)
	var ethnicity any
	if f.Ethnicity != "" {
		ethnicity = f.Ethnicity
	}
	_, err := tx.ExecContext(ctx, db.Rebind(`UPDATE concerns SET raised_establishment = ?, raised_host_la = ?, age_band = ?, gender = ?,
			ethnicity = ?, support_reason = ?, autism = ?, location_of_risk = ?, source_of_risk = ?, lacked_capacity = ?, advocacy = ?, msp_asked = ?
		WHERE reference = ?`),
		c.Establishment, c.HostLA, f.AgeBand, f.Gender, ethnicity, f.SupportReason, f.Autism, f.LocationOfRisk, f.SourceOfRisk,
		f.LackedCapacity, f.Advocacy, f.MSPAsked, c.Reference)
	if err != nil {
		return err
	}
	for _, cat := range c.Raise.Categories {
		if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO concern_categories (reference, category) VALUES (?, ?) ON CONFLICT DO NOTHING`),
			c.Reference, cat); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) addEvent(ctx context.Context, tx *sqlx.Tx, ref, key string, at time.Time, kind string, actor *int64, org string, detail []byte) error {
	_, err := tx.ExecContext(ctx, db.Rebind(`
		INSERT INTO timeline (reference, event_key, at, kind, actor_id, org_code, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (reference, event_key) DO NOTHING`), ref, key, at, kind, actor, org, string(detail))
	return err
}

// concernRow is a concern as stored: the raised fields are one JSON document.
type concernRow struct {
	Reference     string    `db:"reference"`
	Stage         string    `db:"stage"`
	Establishment string    `db:"establishment"`
	HostLA        string    `db:"host_la"`
	RaisedBy      int64     `db:"raised_by"`
	RaisedAt      time.Time `db:"raised_at"`
	UpdatedAt     time.Time `db:"updated_at"`
	Details       string    `db:"details"`
}

func (r *concernRow) concern() (*safeguard.Concern, error) {
	c := &safeguard.Concern{
		Reference: r.Reference, Stage: safeguard.Stage(r.Stage), Establishment: r.Establishment, HostLA: r.HostLA,
		RaisedBy: r.RaisedBy, RaisedAt: r.RaisedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Clocks: []safeguard.Clock{}, Contributions: []safeguard.Contribution{}, Timeline: []safeguard.Event{},
	}
	if err := json.Unmarshal([]byte(r.Details), &c.Raise); err != nil {
		return nil, fmt.Errorf("concern %s: details: %w", r.Reference, err)
	}
	return c, nil
}

const concernColumns = `c.reference, c.stage, c.establishment, c.host_la, c.raised_by, c.raised_at, c.updated_at, c.details`

// scopeClause returns the SQL condition, and its argument, that limits concerns (aliased c) to
// the scope: every concern for a national scope, otherwise those involving the organisation.
func scopeClause(s safeguard.Scope) (string, []any) {
	return scopeClauseOn(s, "c.reference")
}

// scopeClauseOn is scopeClause with the organisations' probe keyed on ref, another column equal
// to c.reference: keyed on the driving table's own column, the planner can test the scope
// before it fetches the concern's row (the overdue list, where most clocks walked are not).
func scopeClauseOn(s safeguard.Scope, ref string) (string, []any) {
	var conds []string
	var args []any
	if !s.All {
		conds = append(conds, "EXISTS (SELECT 1 FROM concern_orgs co WHERE co.reference = "+ref+" AND co.org_code = ?)")
		args = append(args, s.Org)
	}
	if !s.SeesStaffAllegations {
		// Withheld: allegations against staff of the viewer's own establishment that the viewer
		// did not raise (safeguard.Involvement.StaffAllegationAt).
		conds = append(conds, "(c.staff_allegation_at IS NULL OR c.staff_allegation_at <> ? OR c.raised_by = ?)")
		args = append(args, s.Org, s.User)
	}
	if len(conds) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(conds, " AND "), args
}

// FindConcern returns the concern with its timeline, or ENOTFOUND if it does not exist or is
// outside scope: the scope is part of the query.
func (db *DB) FindConcern(ctx context.Context, scope safeguard.Scope, ref string) (*safeguard.Concern, error) {
	where, args := scopeClause(scope)
	var row concernRow
	err := db.GetContext(ctx, &row, db.Rebind(`SELECT `+concernColumns+` FROM concerns c WHERE c.reference = ? AND `+where),
		append([]any{ref}, args...)...)
	if isNoRows(err) {
		return nil, safeguard.Errorf(safeguard.ENOTFOUND, "concern not found")
	} else if err != nil {
		return nil, err
	}
	c, err := row.concern()
	if err != nil {
		return nil, err
	}
	var events []struct {
		At      time.Time `db:"at"`
		Kind    string    `db:"kind"`
		ActorID *int64    `db:"actor_id"`
		Org     string    `db:"org_code"`
		Detail  string    `db:"detail"`
	}
	err = db.SelectContext(ctx, &events, db.Rebind(`SELECT at, kind, actor_id, COALESCE(org_code, '') AS org_code, COALESCE(detail, '') AS detail
		FROM timeline WHERE reference = ? ORDER BY at, id`), ref)
	for _, e := range events {
		ev := safeguard.Event{At: e.At.UTC(), Kind: e.Kind, ActorID: e.ActorID, Org: e.Org}
		if json.Valid([]byte(e.Detail)) {
			ev.Detail = json.RawMessage(e.Detail)
		}
		c.Timeline = append(c.Timeline, ev)
	}
	if err != nil {
		return nil, err
	}
	return c, db.loadClocks(ctx, c)
}

// Involvement returns how organisations are tied to a concern, for the access policy. It is read
// without scope on purpose: the policy decides, and answers ENOTFOUND for what is out of scope.
func (db *DB) Involvement(ctx context.Context, ref string) (*safeguard.Involvement, error) {
	var rows []struct {
		Org      string `db:"org_code"`
		Relation string `db:"relation"`
	}
	if err := db.SelectContext(ctx, &rows, db.Rebind(`SELECT org_code, relation FROM concern_orgs WHERE reference = ?`), ref); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, safeguard.Errorf(safeguard.ENOTFOUND, "concern not found")
	}
	inv := &safeguard.Involvement{}
	err := db.QueryRowxContext(ctx, db.Rebind(`SELECT COALESCE(staff_allegation_at, ''), raised_by FROM concerns WHERE reference = ?`), ref).
		Scan(&inv.StaffAllegationAt, &inv.RaisedBy)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		switch r.Relation {
		case "establishment":
			inv.Establishment = r.Org
		case "host_la":
			inv.HostLA = r.Org
		case "previous":
			inv.Previous = append(inv.Previous, r.Org)
		default:
			inv.Others = append(inv.Others, r.Org)
		}
	}
	return inv, nil
}

// ListConcerns returns one page of concerns in scope, newest first, and the cursor of the next
// page ("" on the last). The cursor is opaque to callers: it encodes the last row's raising time
// and reference, so pages stay stable while new concerns arrive.
func (db *DB) ListConcerns(ctx context.Context, scope safeguard.Scope, f safeguard.ConcernFilter) ([]*safeguard.Concern, string, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	where, args := scopeClause(scope)
	conds := []string{where}
	if f.Stage != "" {
		conds, args = append(conds, "c.stage = ?"), append(args, f.Stage)
	}
	if f.Establishment != "" {
		conds, args = append(conds, "c.establishment = ?"), append(args, f.Establishment)
	}
	if f.Overdue {
		conds = append(conds, "EXISTS (SELECT 1 FROM clocks k WHERE k.reference = c.reference AND k.state IN (?, ?) AND k.due_at < ?)")
		args = append(args, safeguard.ClockRunning, safeguard.ClockBreached, f.Now.UTC())
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		conds = append(conds, "(c.reference = ? OR c.subject_prison_number = ? OR c.subject_name_lower LIKE ? ESCAPE '\\')")
		args = append(args, strings.ToUpper(q), strings.ToUpper(q), "%"+escapeLike(strings.ToLower(q))+"%")
	}
	if f.Cursor != "" {
		at, ref, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", safeguard.FieldErrors(map[string]string{"cursor": "is not a cursor this service gave out"})
		}
		conds = append(conds, "(c.raised_at < ? OR (c.raised_at = ? AND c.reference < ?))")
		args = append(args, at, at, ref)
	}
	args = append(args, f.Limit+1)
	var rows []concernRow
	err := db.SelectContext(ctx, &rows, db.Rebind(`SELECT `+concernColumns+` FROM concerns c WHERE `+
		strings.Join(conds, " AND ")+` ORDER BY c.raised_at DESC, c.reference DESC LIMIT ?`), args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		next = encodeCursor(last.RaisedAt, last.Reference)
	}
	out := make([]*safeguard.Concern, 0, len(rows))
	for i := range rows {
		c, err := rows[i].concern()
		if err != nil {
			return nil, "", err
		}
		out = append(out, c)
	}
	return out, next, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func encodeCursor(at time.Time, ref string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + ref))
}

func decodeCursor(s string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", err
	}
	at, ref, ok := strings.Cut(string(raw), "|")
	if !ok {
		return time.Time{}, "", fmt.Errorf("cursor has no separator")
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	return t, ref, err
}
