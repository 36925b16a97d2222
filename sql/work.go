package sql

import (
	"context"

	"github.com/safeguard-project/safeguard"
)

// LiveClocks returns one page of the clocks still counting (running or breached; not paused or
// ended) among concerns in scope, soonest due first: a person's work list. org, when not "",
// keeps only the clocks that organisation is responsible for stopping. It returns at most limit
// rows (1 to 200) after skipping offset, and whether more follow.
func (db *DB) LiveClocks(ctx context.Context, scope safeguard.Scope, org string, limit, offset int) ([]OverdueClock, bool, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	offset = max(offset, 0)
	where, args := scopeClause(scope)
	args = append([]any{safeguard.ClockRunning, safeguard.ClockBreached}, args...)
	cond := ""
	if org != "" {
		cond = " AND k.org_code = ?"
		args = append(args, org)
	}
	args = append(args, limit+1, offset)
	var rows []OverdueClock
	err := db.SelectContext(ctx, &rows, db.Rebind(`
		SELECT k.reference, c.establishment, c.stage, k.name, k.org_code, k.due_at, k.step, k.breached_at
		FROM clocks k JOIN concerns c ON c.reference = k.reference
		WHERE k.state IN (?, ?) AND `+where+cond+`
		ORDER BY k.due_at, k.reference, k.id LIMIT ? OFFSET ?`), args...)
	if err != nil {
		return nil, false, err
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	for i := range rows {
		rows[i].Due = rows[i].Due.UTC()
	}
	return rows, more, nil
}
