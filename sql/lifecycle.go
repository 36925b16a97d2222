package sql

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/safeguard-project/safeguard"
)

// ChangeRecord is one lifecycle action to store: the Change the domain decided, the key that
// makes a retry harmless (the workflow Update's ID), and the mail it sends.
type ChangeRecord struct {
	Reference string
	EventKey  string
	Change    *safeguard.Change
	Mail      []Mail
}

// RecordChange stores an action in one transaction: the concern's stage and owners, the clocks
// it started or ended, the organisations that joined, a contribution asked or answered, the
// timeline entry and the outbox mail. Recording the same EventKey twice changes nothing.
func (db *DB) RecordChange(ctx context.Context, r ChangeRecord) error {
	ch := r.Change
	detail, err := json.Marshal(ch.Detail)
	if err != nil {
		return err
	}
	at := ch.At.UTC().Truncate(time.Microsecond)
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		var seen int
		if err := tx.GetContext(ctx, &seen, db.Rebind(`SELECT COUNT(*) FROM timeline WHERE reference = ? AND event_key = ?`), r.Reference, r.EventKey); err != nil {
			return err
		}
		if seen > 0 {
			return nil // recorded by an earlier attempt
		}
		before, err := db.sacFactsOf(ctx, tx, r.Reference)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, db.Rebind(`UPDATE concerns SET stage = ?, establishment = ?, host_la = ?, updated_at = ? WHERE reference = ?`),
			ch.Stage, ch.Establishment, ch.HostLA, at, r.Reference)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return safeguard.Errorf(safeguard.ENOTFOUND, "concern %s is not recorded", r.Reference)
		}
		if err := db.saveClocks(ctx, tx, r.Reference, append(append([]*safeguard.ClockInstance{}, ch.Started...), ch.Ended...)); err != nil {
			return err
		}
		if err := db.recordOutcome(ctx, tx, r.Reference, ch, at); err != nil {
			return err
		}
		if err := db.join(ctx, tx, r.Reference, ch.Joined); err != nil {
			return err
		}
		if c := ch.Contribution; c != nil {
			if err := db.saveContribution(ctx, tx, r.Reference, c, ch); err != nil {
				return err
			}
		}
		if err := db.countForSAC(ctx, tx, r.Reference, before); err != nil {
			return err
		}
		actor := ch.ActorID
		if err := db.addEvent(ctx, tx, r.Reference, r.EventKey, at, ch.Event, &actor, ch.ActorOrg, detail); err != nil {
			return err
		}
		return db.enqueue(ctx, tx, r.Reference, at, r.Mail)
	})
}

// recordOutcome fills the reporting columns an action settles (docs/reports.md): findings
// conclude the enquiry (SG2c), a closure proposal records Making Safeguarding Personal
// outcomes (SG4), and reopening takes the concern out of the concluded count until new
// findings are recorded.
func (db *DB) recordOutcome(ctx context.Context, tx *sqlx.Tx, ref string, ch *safeguard.Change, at time.Time) error {
	str := func(k string) any {
		if v, ok := ch.Detail[k].(string); ok && v != "" {
			return v
		}
		return nil
	}
	var err error
	switch ch.Action {
	case safeguard.ActionFindings:
		taken, _ := ch.Detail["action_taken"].(bool)
		var sar any
		if v, ok := ch.Detail["sar_referral"].(bool); ok {
			sar = v
		}
		_, err = tx.ExecContext(ctx, db.Rebind(`UPDATE concerns SET risk_finding = ?, action_taken = ?, risk_outcome = ?, sar_referral = ?, concluded_at = ? WHERE reference = ?`),
			str("risk"), taken, str("risk_outcome"), sar, at, ref)
	case safeguard.ActionProposeClosure:
		_, err = tx.ExecContext(ctx, db.Rebind(`UPDATE concerns SET msp_outcome = ? WHERE reference = ?`), str("msp_outcomes"), ref)
	case safeguard.ActionReopen:
		_, err = tx.ExecContext(ctx, db.Rebind(`UPDATE concerns SET risk_finding = NULL, action_taken = NULL, risk_outcome = NULL,
			sar_referral = NULL, concluded_at = NULL, msp_outcome = NULL WHERE reference = ?`), ref)
	}
	return err
}

// saveClocks writes each clock instance as it now stands. A clock met gets its time to meet in
// working days (leaving out time paused) and whether it was met by its due time, for
// performance against timescales.
func (db *DB) saveClocks(ctx context.Context, tx *sqlx.Tx, ref string, clocks []*safeguard.ClockInstance) error {
	for _, c := range clocks {
		var ended *time.Time
		var workingDays, onTime any
		if !c.Ended.IsZero() {
			e := c.Ended.UTC()
			ended = &e
			if c.State == safeguard.ClockMet {
				workingDays = england.WorkingDaysBetween(c.Started.Add(c.PausedFor), c.Ended)
				onTime = !c.Ended.After(c.Due)
			}
		}
		_, err := tx.ExecContext(ctx, db.Rebind(`
			INSERT INTO clocks (reference, id, name, org_code, started_at, due_at, state, step, ended_at, paused_seconds, working_days, met_on_time)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (reference, id) DO UPDATE SET org_code = excluded.org_code, due_at = excluded.due_at,
				state = excluded.state, ended_at = excluded.ended_at, paused_seconds = excluded.paused_seconds,
				working_days = excluded.working_days, met_on_time = excluded.met_on_time`),
			ref, c.ID, c.Name, c.Org, c.Started.UTC(), c.Due.UTC(), c.State, c.Steps, ended, int64(c.PausedFor/time.Second), workingDays, onTime)
		if err != nil {
			return err
		}
	}
	return nil
}

// join records organisations taking part. A new establishment or host LA (a transfer) replaces
// the old one, which stays as "previous": it keeps sight of the history but no longer acts.
func (db *DB) join(ctx context.Context, tx *sqlx.Tx, ref string, joined map[string]string) error {
	for org, relation := range joined {
		if relation == "establishment" || relation == "host_la" {
			if _, err := tx.ExecContext(ctx, db.Rebind(`DELETE FROM concern_orgs WHERE reference = ? AND relation = ? AND org_code <> ?`), ref, relation, org); err != nil {
				return err
			}
		}
	}
	for org, relation := range joined {
		if org == "" {
			continue
		}
		_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO concern_orgs (reference, org_code, relation, raised_at)
			SELECT ?, ?, ?, raised_at FROM concerns WHERE reference = ? ON CONFLICT DO NOTHING`), ref, org, relation, ref)
		if err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) saveContribution(ctx context.Context, tx *sqlx.Tx, ref string, c *safeguard.ContributionState, ch *safeguard.Change) error {
	if c.AnsweredAt.IsZero() {
		_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO contributions (reference, clock_id, org_code, question, requested_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (reference, clock_id) DO NOTHING`), ref, c.ClockID, c.Org, c.Question, c.RequestedAt.UTC())
		return err
	}
	_, err := tx.ExecContext(ctx, db.Rebind(`UPDATE contributions SET advice = ?, care_assessment = ?, answered_at = ?, answered_by = ? WHERE reference = ? AND clock_id = ?`),
		c.Advice, c.CareAssessment, c.AnsweredAt.UTC(), ch.ActorID, ref, c.ClockID)
	return err
}

// StepRecord is one rung of a clock's escalation ladder, fired.
type StepRecord struct {
	Reference string
	ClockID   string
	Index     int // 0-based rung
	At        time.Time
	Breached  bool // the rung is at or after the due time
	Mail      []Mail
	Detail    map[string]any
}

// RecordStep stores a fired ladder rung: its mail, a timeline entry and the clock's progress. It
// returns false, and writes nothing, if the rung was already recorded or the clock is no
// longer counting (met, stopped or paused), so a rung sends its mail once at most.
func (db *DB) RecordStep(ctx context.Context, s StepRecord) (bool, error) {
	detail, err := json.Marshal(s.Detail)
	if err != nil {
		return false, err
	}
	at := s.At.UTC().Truncate(time.Microsecond)
	recorded := false
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		var clock struct {
			State string `db:"state"`
			Step  int    `db:"step"`
		}
		if err := tx.GetContext(ctx, &clock, db.Rebind(`SELECT state, step FROM clocks WHERE reference = ? AND id = ?`), s.Reference, s.ClockID); err != nil {
			if isNoRows(err) {
				return safeguard.Errorf(safeguard.ENOTFOUND, "no clock %s on %s", s.ClockID, s.Reference)
			}
			return err
		}
		if clock.Step > s.Index || (clock.State != safeguard.ClockRunning && clock.State != safeguard.ClockBreached) {
			return nil
		}
		state, breachedAt := clock.State, any(nil)
		if s.Breached {
			state, breachedAt = safeguard.ClockBreached, at
		}
		if _, err := tx.ExecContext(ctx, db.Rebind(`UPDATE clocks SET step = ?, state = ?, breached_at = COALESCE(breached_at, ?) WHERE reference = ? AND id = ?`),
			s.Index+1, state, breachedAt, s.Reference, s.ClockID); err != nil {
			return err
		}
		key := s.ClockID + "/step-" + strconv.Itoa(s.Index)
		if err := db.addEvent(ctx, tx, s.Reference, key, at, "ladder_step", nil, "", detail); err != nil {
			return err
		}
		recorded = true
		return db.enqueue(ctx, tx, s.Reference, at, s.Mail)
	})
	return recorded, err
}

// Inbox returns an organisation's safeguarding inbox, or "" if it has none. Ladder recipients
// are organisations' inboxes and staff addresses, never anything of the adult's.
func (db *DB) Inbox(ctx context.Context, org string) (string, error) {
	var inbox string
	err := db.GetContext(ctx, &inbox, db.Rebind(`SELECT inbox FROM organisations WHERE code = ?`), org)
	if isNoRows(err) {
		return "", nil
	}
	return inbox, err
}

// ManagerEmails returns the addresses of an organisation's enabled managers.
func (db *DB) ManagerEmails(ctx context.Context, org string) ([]string, error) {
	var emails []string
	err := db.SelectContext(ctx, &emails, db.Rebind(`SELECT email FROM users WHERE org_code = ? AND role IN (?, ?) AND NOT disabled ORDER BY email`),
		org, safeguard.RolePrisonManager, safeguard.RoleLAManager)
	return emails, err
}

// UserEmail returns an enabled user's address, or "" if there is none.
func (db *DB) UserEmail(ctx context.Context, id int64) (string, error) {
	var email string
	err := db.GetContext(ctx, &email, db.Rebind(`SELECT email FROM users WHERE id = ? AND NOT disabled`), id)
	if isNoRows(err) {
		return "", nil
	}
	return email, err
}

// OverdueClock is one clock past due in the overdue audit.
type OverdueClock struct {
	Reference     string     `db:"reference" json:"reference"`
	ID            string     `db:"id" json:"-"` // the clock's id within its concern
	Establishment string     `db:"establishment" json:"establishment"`
	Stage         string     `db:"stage" json:"stage"`
	Clock         string     `db:"name" json:"clock"`
	Organisation  string     `db:"org_code" json:"organisation"`
	Due           time.Time  `db:"due_at" json:"due"`
	Step          int        `db:"step" json:"step"`
	BreachedAt    *time.Time `db:"breached_at" json:"breached_at,omitempty"`
}

// countingClocks is the condition on clocks k that are counting (running, or breached and still
// running), exactly as the partial index clocks_counting_due states it.
const countingClocks = "k.state IN ('" + safeguard.ClockRunning + "', '" + safeguard.ClockBreached + "')"

// Overdue returns every counting clock past due at now, among concerns in scope, most overdue
// first. limit caps the rows (0: 1000).
func (db *DB) Overdue(ctx context.Context, scope safeguard.Scope, now time.Time, limit int) ([]OverdueClock, error) {
	if limit <= 0 {
		limit = 1000
	}
	return db.OverdueList(ctx, scope, now, OverdueQuery{Limit: limit})
}

// The overdue list's sorts (OverdueQuery.Sort).
const (
	OverdueMostOverdue  = "most_overdue"
	OverdueLeastOverdue = "least_overdue"
	OverdueStep         = "step"
	OverdueReference    = "reference"
)

// OverdueQuery filters, sorts and pages the overdue list, all inside the query.
type OverdueQuery struct {
	// Organisation keeps the clocks that organisation must stop, or of concerns raised at it.
	Organisation string
	Stage        string // the concern's stage
	Clock        string // the clock's name
	// DueBefore, when not zero, keeps the clocks due at or before it, less those due in
	// [SkipDueFrom, SkipDueTo): "at least n working days late at now" is
	// calendar.Calendar.OverdueBound(now, n).
	DueBefore, SkipDueFrom, SkipDueTo time.Time
	MinStep                           int    // keeps the clocks whose escalation reached at least this step
	Sort                              string // one of the Overdue… sorts; "" is most overdue first
	// After, when not nil, keeps only the rows after it in the sort order (a keyset page: it is
	// the last row of the previous page).
	After *OverdueClock
	// Limit caps the rows (0: 1000; at most 10,000); Offset skips rows first.
	Limit, Offset int
}

// overdueKey is one column of a sort: the rows' order and the keyset's comparison.
type overdueKey struct {
	col  string
	desc bool
	val  func(*OverdueClock) any
}

func overdueKeys(sort string) []overdueKey {
	due := overdueKey{"k.due_at", false, func(o *OverdueClock) any { return o.Due.UTC() }}
	ref := overdueKey{"k.reference", false, func(o *OverdueClock) any { return o.Reference }}
	id := overdueKey{"k.id", false, func(o *OverdueClock) any { return o.ID }}
	switch sort {
	case OverdueLeastOverdue:
		return []overdueKey{{"k.due_at", true, due.val}, ref, id}
	case OverdueStep:
		return []overdueKey{{"k.step", true, func(o *OverdueClock) any { return o.Step }}, due, ref, id}
	case OverdueReference:
		return []overdueKey{ref, due, id}
	}
	return []overdueKey{due, ref, id}
}

// where is the overdue list's condition for q, scope inside: the states are written out, not
// bound, so that both planners can prove the query matches the partial index clocks_counting_due
// (migration 00012).
func (q OverdueQuery) where(scope safeguard.Scope, now time.Time) (string, []any) {
	scoped, sargs := scopeClauseOn(scope, "k.reference")
	conds := []string{countingClocks, "k.due_at < ?"}
	args := []any{now.UTC()}
	if q.Organisation != "" {
		conds, args = append(conds, "(k.org_code = ? OR c.establishment = ?)"), append(args, q.Organisation, q.Organisation)
	}
	if q.Stage != "" {
		conds, args = append(conds, "c.stage = ?"), append(args, q.Stage)
	}
	if q.Clock != "" {
		conds, args = append(conds, "k.name = ?"), append(args, q.Clock)
	}
	if !q.DueBefore.IsZero() {
		// Stored to the microsecond: due <= DueBefore is due <= DueBefore truncated.
		conds, args = append(conds, "k.due_at <= ?"), append(args, q.DueBefore.UTC().Truncate(time.Microsecond))
		if q.SkipDueFrom.Before(q.SkipDueTo) {
			conds = append(conds, "(k.due_at < ? OR k.due_at >= ?)")
			args = append(args, q.SkipDueFrom.UTC(), q.SkipDueTo.UTC())
		}
	}
	if q.MinStep > 0 {
		conds, args = append(conds, "k.step >= ?"), append(args, q.MinStep)
	}
	conds, args = append(conds, scoped), append(args, sargs...)
	if q.After != nil {
		// (a, b, c) after (A, B, C): a > A OR (a = A AND (b > B OR (b = B AND c > C))), with
		// "<" for the descending columns.
		keys := overdueKeys(q.Sort)
		var cond string
		var kargs []any
		for i := len(keys) - 1; i >= 0; i-- {
			k, op := keys[i], ">"
			if k.desc {
				op = "<"
			}
			v := k.val(q.After)
			if cond == "" {
				cond, kargs = k.col+" "+op+" ?", []any{v}
			} else {
				cond, kargs = "("+k.col+" "+op+" ? OR ("+k.col+" = ? AND "+cond+"))", append([]any{v, v}, kargs...)
			}
		}
		conds, args = append(conds, cond), append(args, kargs...)
	}
	return strings.Join(conds, " AND "), args
}

// OverdueList returns the counting clocks past due at now among concerns in scope that q keeps,
// in q's order, one page of them: every filter, the sort and the page are in the query, so no
// clock beyond the page is read into memory and none is missed. The order ends on the clock's
// key, so that pages neither repeat nor skip a row.
func (db *DB) OverdueList(ctx context.Context, scope safeguard.Scope, now time.Time, q OverdueQuery) ([]OverdueClock, error) {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	q.Limit = min(q.Limit, 10000)
	where, args := q.where(scope, now)
	var order []string
	for _, k := range overdueKeys(q.Sort) {
		if k.desc {
			order = append(order, k.col+" DESC")
		} else {
			order = append(order, k.col)
		}
	}
	args = append(args, q.Limit, max(q.Offset, 0))
	var rows []OverdueClock
	// Most overdue first, the partial index is read in due order and the read stops at the
	// limit, instead of every counting clock past due being fetched and sorted.
	err := db.SelectContext(ctx, &rows, db.Rebind(`
		SELECT k.reference, k.id, c.establishment, c.stage, k.name, k.org_code, k.due_at, k.step, k.breached_at
		FROM clocks k JOIN concerns c ON c.reference = k.reference
		WHERE `+where+`
		ORDER BY `+strings.Join(order, ", ")+` LIMIT ? OFFSET ?`), args...)
	for i := range rows {
		rows[i].Due = rows[i].Due.UTC()
	}
	return rows, err
}

// OverdueCount counts the clocks OverdueList would return for q without a limit (q's sort,
// limit, offset and After do not matter), but stops counting at upTo when it is above zero: the
// answer is then at most upTo, and a page can say "more than" without reading every overdue
// clock in the country to say how many.
func (db *DB) OverdueCount(ctx context.Context, scope safeguard.Scope, now time.Time, q OverdueQuery, upTo int) (int, error) {
	q.After = nil
	where, args := q.where(scope, now)
	query := `SELECT COUNT(*) FROM clocks k JOIN concerns c ON c.reference = k.reference WHERE ` + where
	if upTo > 0 {
		query = `SELECT COUNT(*) FROM (SELECT 1 FROM clocks k JOIN concerns c ON c.reference = k.reference WHERE ` + where + ` LIMIT ?) upto`
		args = append(args, upTo)
	}
	var n int
	err := db.GetContext(ctx, &n, db.Rebind(query), args...)
	return n, err
}

// loadClocks fills a concern's clocks and contributions.
func (db *DB) loadClocks(ctx context.Context, c *safeguard.Concern) error {
	err := db.SelectContext(ctx, &c.Clocks, db.Rebind(`SELECT id, name, org_code, state, started_at, due_at, step, breached_at, ended_at
		FROM clocks WHERE reference = ? ORDER BY started_at, id`), c.Reference)
	if err != nil {
		return err
	}
	for i := range c.Clocks {
		k := &c.Clocks[i]
		k.Started, k.Due = k.Started.UTC(), k.Due.UTC()
	}
	return db.SelectContext(ctx, &c.Contributions, db.Rebind(`SELECT org_code, question, requested_at,
		COALESCE(advice, '') AS advice, COALESCE(care_assessment, '') AS care_assessment, answered_at
		FROM contributions WHERE reference = ? ORDER BY requested_at, clock_id`), c.Reference)
}
