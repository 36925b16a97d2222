package sql

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/safeguard-project/safeguard"
)

// DigestReference is the outbox reference of digest mail: it is about an organisation, not a
// concern, so it is never shown in a concern's evidence bundle.
const DigestReference = "digest"

// DigestOrganisations returns the codes of the organisations that have at least one enabled
// manager (prison_manager or la_manager), in order: those the weekly digest goes to.
func (db *DB) DigestOrganisations(ctx context.Context) ([]string, error) {
	var orgs []string
	err := db.SelectContext(ctx, &orgs, db.Rebind(`SELECT DISTINCT org_code FROM users WHERE role IN (?, ?) AND NOT disabled ORDER BY org_code`),
		safeguard.RolePrisonManager, safeguard.RoleLAManager)
	return orgs, err
}

// DigestCounts counts, at now, what the weekly digest tells org's managers, over the concerns in
// the managers' scope (the organisation's, allegations against its own staff included, since
// its prison managers see those): concerns open, counting clocks past due by clock, clocks
// falling due in the coming week, and ladder rungs fired in the past week. Every count is one
// query with the scope inside it; no concern row leaves the database.
func (db *DB) DigestCounts(ctx context.Context, org string, now time.Time) (*safeguard.Digest, error) {
	now = now.UTC()
	d := &safeguard.Digest{Org: org, At: now, Week: safeguard.DigestWeek(now, london), Overdue: map[string]int{}}
	where, sargs := scopeClause(safeguard.Scope{Org: org, SeesStaffAllegations: true})
	with := func(args ...any) []any { return append(args, sargs...) }

	err := db.GetContext(ctx, &d.Open, db.Rebind(`SELECT COUNT(*) FROM concerns c WHERE c.stage NOT IN (?, ?, ?) AND `+where),
		with(safeguard.StageClosed, safeguard.StageNoFurtherAction, safeguard.StageHandedOver)...)
	if err != nil {
		return nil, err
	}
	var overdue []struct {
		Clock string `db:"name"`
		N     int    `db:"n"`
	}
	err = db.SelectContext(ctx, &overdue, db.Rebind(`SELECT k.name, COUNT(*) AS n FROM clocks k JOIN concerns c ON c.reference = k.reference
		WHERE k.state IN (?, ?) AND k.due_at < ? AND `+where+` GROUP BY k.name`),
		with(safeguard.ClockRunning, safeguard.ClockBreached, now)...)
	if err != nil {
		return nil, err
	}
	for _, o := range overdue {
		d.Overdue[o.Clock] = o.N
		d.OverdueTotal += o.N
	}
	err = db.GetContext(ctx, &d.DueThisWeek, db.Rebind(`SELECT COUNT(*) FROM clocks k JOIN concerns c ON c.reference = k.reference
		WHERE k.state IN (?, ?) AND k.due_at >= ? AND k.due_at < ? AND `+where),
		with(safeguard.ClockRunning, safeguard.ClockBreached, now, now.Add(safeguard.DigestWindow))...)
	if err != nil {
		return nil, err
	}
	err = db.GetContext(ctx, &d.EscalationsLastWeek, db.Rebind(`SELECT COUNT(*) FROM timeline t JOIN concerns c ON c.reference = t.reference
		WHERE t.kind = 'ladder_step' AND t.at >= ? AND t.at < ? AND `+where),
		with(now.Add(-safeguard.DigestWindow), now)...)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// RecordDigest writes one organisation's digest messages to the outbox, each under its own
// key, once: a key already written (a retried activity, a second run in the same week) is left
// as it is. It returns the keys under prefix still waiting to be delivered.
func (db *DB) RecordDigest(ctx context.Context, prefix string, mail []Mail) ([]string, error) {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error { return db.enqueue(ctx, tx, DigestReference, db.Now(), mail) })
	if err != nil {
		return nil, err
	}
	return db.PendingMail(ctx, DigestReference, prefix)
}
