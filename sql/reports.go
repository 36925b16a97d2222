package sql

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/calendar"
)

// The reports for managers (docs/reports.md). Every query counts indexed reporting columns,
// with the caller's scope inside the WHERE clause exactly as the lists apply it
// (scopeClause): nothing out of scope is fetched and then filtered.

// england is the calendar time to meet a clock is counted in; london is where report periods
// and ages are judged.
var (
	england = calendar.EnglandAndWales()
	london  = england.Location()
)

// SACReport counts the concerns in scope for the Safeguarding Adults Collection–aligned return:
// those raised in the period (SG1, SG2a, SG2b, SG3, SG4 asked, custody) and those whose
// enquiry concluded (findings recorded) in the period (SG2c, SG4 outcomes, SG5). A concern is
// counted once, under the establishment and host LA where it was raised, even if it was
// transferred since. The counts kept in sac_counts answer (saccounts.go), unless the reader's
// scope leaves out a concern they would count; then the concerns are counted directly.
func (db *DB) SACReport(ctx context.Context, scope safeguard.Scope, p safeguard.Period) (*safeguard.SACReport, error) {
	kept, err := db.sacCountsServe(ctx, scope)
	if err != nil {
		return nil, err
	}
	var rows []sacRaw
	if kept {
		rows, err = db.sacFromCounts(ctx, scope, p)
	} else {
		rows, err = db.sacCounted(ctx, scope, p)
	}
	if err != nil {
		return nil, err
	}
	return sacReportOf(scope, p, rows), nil
}

// sacReportOf maps raw counts onto the return.
func sacReportOf(scope safeguard.Scope, p safeguard.Period, rows []sacRaw) *safeguard.SACReport {
	label := "national"
	if !scope.All {
		label = scope.Org
	}
	rep := safeguard.NewSACReport(p, label)
	for _, r := range rows {
		addSACCell(rep, r.Measure, r.Value.String, r.N)
	}
	return rep
}

// sacRaw is a raw count of the return: a measure (addSACCell's names), the value as the column
// holds it (NULL for unrecorded), and how many concerns.
type sacRaw struct {
	Measure string         `db:"measure"`
	Value   sql.NullString `db:"value"`
	N       int            `db:"n"`
}

// sacCounted counts the return's raw cells from the concerns themselves, with the scope inside
// the queries: for a scope the kept counts cannot answer, and the reference the kept counts are
// tested against.
func (db *DB) sacCounted(ctx context.Context, scope safeguard.Scope, p safeguard.Period) ([]sacRaw, error) {
	where, sargs := scopeClause(scope)
	rargs := append([]any{p.Start.UTC(), p.End.UTC()}, sargs...)
	concluded := "c.concluded_at >= ? AND c.concluded_at < ? AND " + where
	cargs := append([]any{p.Start.UTC(), p.End.UTC()}, sargs...)

	// Raised in the period: the concerns in scope are read once, through the covering index
	// concerns_report_raised and one probe of concern_orgs each, into a materialised set that
	// every measure then groups (a UNION ALL of one GROUP BY per measure). Each measure reading
	// the period itself would repeat the range and the scope's probes for each of them.
	var branches []string
	for _, m := range []struct{ col, cond string }{
		{"age_band", ""}, {"gender", ""}, {"ethnicity", ""}, {"support_reason", ""}, {"autism", ""},
		{"location_of_risk", ""}, {"source_of_risk", ""}, {"lacked_capacity", ""}, {"advocacy", "lacked_capacity = 'yes'"},
		{"msp_asked", ""},
	} {
		where := ""
		if m.cond != "" {
			where = " WHERE " + m.cond
		}
		branches = append(branches, `SELECT '`+m.col+`' AS measure, `+m.col+` AS value, COUNT(*) AS n FROM s`+where+` GROUP BY `+m.col)
	}
	branches = append(branches,
		`SELECT 'category' AS measure, cc.category AS value, COUNT(*) AS n FROM s JOIN concern_categories cc ON cc.reference = s.reference GROUP BY cc.category`,
		`SELECT 'custody' AS measure, est || ':' || stage || ':' || CAST(moved AS TEXT) AS value, COUNT(*) AS n FROM s GROUP BY est, stage, moved`)
	var out []sacRaw
	err := db.SelectContext(ctx, &out, db.Rebind(`WITH s AS MATERIALIZED (
			SELECT c.reference, c.age_band, c.gender, c.ethnicity, c.support_reason, `+db.boolText("c.autism")+` AS autism,
				c.location_of_risk, c.source_of_risk, c.lacked_capacity, c.advocacy, c.msp_asked, c.stage,
				COALESCE(c.raised_establishment, c.establishment) AS est,
				CASE WHEN c.establishment <> COALESCE(c.raised_establishment, c.establishment) THEN 1 ELSE 0 END AS moved
			FROM concerns c WHERE c.raised_at >= ? AND c.raised_at < ? AND `+where+`)
		`+strings.Join(branches, "\n\t\tUNION ALL ")), rargs...)
	if err != nil {
		return nil, err
	}

	// Concluded in the period: read through concerns_report_concluded.
	var concludedN int
	if err := db.GetContext(ctx, &concludedN, db.Rebind(`SELECT COUNT(*) FROM concerns c WHERE `+concluded), cargs...); err != nil {
		return nil, err
	}
	out = append(out, sacRaw{Measure: "concluded", N: concludedN})
	for _, s := range []struct{ measure, expr, cond string }{
		{"action_and_result", "c.risk_finding || ':' || " + db.boolText("c.action_taken"), concluded},
		{"risk_outcome", "c.risk_outcome", concluded + " AND c.risk_finding = 'identified' AND c.action_taken AND c.risk_outcome IS NOT NULL"},
		{"msp_outcome", "c.msp_outcome", concluded + " AND c.msp_outcome IN ('fully', 'partially', 'not_achieved')"},
		{"sar_referral", db.boolText("c.sar_referral"), concluded},
	} {
		var rows []sacRaw
		if err := db.SelectContext(ctx, &rows, db.Rebind(`SELECT '`+s.measure+`' AS measure, `+s.expr+` AS value, COUNT(*) AS n
			FROM concerns c WHERE `+s.cond+` GROUP BY `+s.expr), cargs...); err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// addCustody adds n concerns raised at est, now at stage and moved or not since, to the custody
// breakdown: each establishment where concerns were raised, and where they went.
func addCustody(rep *safeguard.SACReport, est string, stage safeguard.Stage, moved bool, n int) {
	for _, v := range safeguard.CustodyRoutes {
		rep.Add("custody", est, v, 0) // every establishment has every column
	}
	rep.Add("custody", est, "raised", n)
	switch stage {
	case safeguard.StageHandedOver:
		rep.Add("custody", est, "handed_over", n)
	case safeguard.StageNoFurtherAction:
		rep.Add("custody", est, "no_further_action", n)
	default:
		rep.Add("custody", est, "prison_led", n)
	}
	if moved {
		rep.Add("custody", est, "transferred_out", n)
	}
}

// boolText renders a boolean column as text the same way on both databases ("1"/"0" on SQLite,
// "true"/"false" on PostgreSQL), so that it can be grouped and concatenated.
func (db *DB) boolText(col string) string { return "CAST(" + col + " AS TEXT)" }

// Timescales is performance against timescales: for every clock met in the period, in scope,
// the time it took in working days and whether it was met on time, tallied by month (Europe/
// London), clock and responsible organisation, with the roll-ups. Each month is one indexed
// range query (clocks_met) whose GROUP BY returns a histogram, so the database does the
// counting and the percentiles are exact.
func (db *DB) Timescales(ctx context.Context, scope safeguard.Scope, p safeguard.Period) ([]safeguard.TimescaleRow, error) {
	where, sargs := scopeClause(scope)
	tallies := map[safeguard.TimescaleKey]*safeguard.TimescaleTally{}
	for _, m := range p.Months() {
		var rows []struct {
			Clock  string `db:"name"`
			Org    string `db:"org_code"`
			Days   int    `db:"working_days"`
			OnTime int    `db:"on_time"`
			N      int    `db:"n"`
		}
		err := db.SelectContext(ctx, &rows, db.Rebind(`
			SELECT k.name, k.org_code, k.working_days, CASE WHEN k.met_on_time THEN 1 ELSE 0 END AS on_time, COUNT(*) AS n
			FROM clocks k JOIN concerns c ON c.reference = k.reference
			WHERE k.state = ? AND k.ended_at >= ? AND k.ended_at < ? AND k.working_days IS NOT NULL AND `+where+`
			GROUP BY k.name, k.org_code, k.working_days, CASE WHEN k.met_on_time THEN 1 ELSE 0 END`),
			append([]any{safeguard.ClockMet, m.Start.UTC(), m.End.UTC()}, sargs...)...)
		if err != nil {
			return nil, err
		}
		month := m.Start.Format("2006-01")
		for _, r := range rows {
			k := safeguard.TimescaleKey{Month: month, Clock: r.Clock, Org: r.Org}
			t := tallies[k]
			if t == nil {
				t = &safeguard.TimescaleTally{Days: map[int]int{}}
				tallies[k] = t
			}
			t.Days[r.Days] += r.N
			if r.OnTime == 1 {
				t.OnTime += r.N
			}
		}
	}
	return safeguard.SummariseTimescales(tallies), nil
}

// OverdueAudit counts, in scope, the counting clocks past due at now by responsible
// organisation, stage, clock and ageing bucket (working days overdue: 0-2, 3-5, 6-10, >10),
// and those at risk: due from now until one working day ahead (bucket "at_risk"). The
// buckets are computed in the query from thresholds worked out in England's calendar, so
// no clock row leaves the database.
func (db *DB) OverdueAudit(ctx context.Context, scope safeguard.Scope, now time.Time) ([]safeguard.OverdueGroup, error) {
	now = now.UTC()
	at := func(n int) time.Time { return england.Add(now, calendar.WorkingDays(-n)).UTC() }
	where, sargs := scopeClause(scope)
	args := []any{at(11), at(6), at(3), safeguard.ClockRunning, safeguard.ClockBreached, now}
	var out []safeguard.OverdueGroup
	err := db.SelectContext(ctx, &out, db.Rebind(`
		SELECT k.org_code, c.stage, k.name,
			CASE WHEN k.due_at <= ? THEN '>10' WHEN k.due_at <= ? THEN '6-10' WHEN k.due_at <= ? THEN '3-5' ELSE '0-2' END AS bucket,
			COUNT(*) AS n
		FROM clocks k JOIN concerns c ON c.reference = k.reference
		WHERE k.state IN (?, ?) AND k.due_at < ? AND `+where+`
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`), append(args, sargs...)...)
	if err != nil {
		return nil, err
	}
	var risk []safeguard.OverdueGroup
	err = db.SelectContext(ctx, &risk, db.Rebind(`
		SELECT k.org_code, c.stage, k.name, 'at_risk' AS bucket, COUNT(*) AS n FROM clocks k JOIN concerns c ON c.reference = k.reference
		WHERE k.state IN (?, ?) AND k.due_at >= ? AND k.due_at < ? AND `+where+`
		GROUP BY k.org_code, c.stage, k.name ORDER BY k.org_code, c.stage, k.name`),
		append([]any{safeguard.ClockRunning, safeguard.ClockBreached, now, england.Add(now, calendar.WorkingDays(1)).UTC()}, sargs...)...)
	return append(out, risk...), err
}

// Escalations returns the ladder rungs that fired on the concerns in scope that have a clock
// past due at now (or, with ref, on that one concern, in scope), oldest first: which step,
// when, and who was told by organisation and role.
func (db *DB) Escalations(ctx context.Context, scope safeguard.Scope, now time.Time, ref string) ([]safeguard.Escalation, error) {
	where, sargs := scopeClause(scope)
	cond, args := `t.reference IN (SELECT k.reference FROM clocks k WHERE k.state IN (?, ?) AND k.due_at < ?)`,
		[]any{safeguard.ClockRunning, safeguard.ClockBreached, now.UTC()}
	if ref != "" {
		cond, args = `t.reference = ?`, []any{ref}
	}
	var rows []struct {
		Ref    string    `db:"reference"`
		At     time.Time `db:"at"`
		Detail string    `db:"detail"`
		Est    string    `db:"establishment"`
		HostLA string    `db:"host_la"`
		Org    string    `db:"org_code"`
	}
	err := db.SelectContext(ctx, &rows, db.Rebind(`
		SELECT t.reference, t.at, COALESCE(t.detail, '') AS detail, c.establishment, c.host_la, COALESCE(k.org_code, '') AS org_code
		FROM timeline t JOIN concerns c ON c.reference = t.reference
		LEFT JOIN clocks k ON k.reference = t.reference AND k.id = `+jsonText(db.Dialect, "t.detail", "clock_id")+`
		WHERE t.kind = 'ladder_step' AND `+cond+` AND `+where+` ORDER BY t.reference, t.at, t.id`), append(args, sargs...)...)
	if err != nil {
		return nil, err
	}
	out := make([]safeguard.Escalation, 0, len(rows))
	for _, r := range rows {
		var d struct {
			Clock      string   `json:"clock"`
			ClockID    string   `json:"clock_id"`
			Step       int      `json:"step"`
			Notified   []string `json:"notified"`
			Recipients int      `json:"recipients"`
			Org        string   `json:"organisation"`
			Partner    string   `json:"partner"`
		}
		_ = json.Unmarshal([]byte(r.Detail), &d)
		// Rungs recorded before the detail named the organisations: the clock's responsible
		// organisation now, and the other side of the concern as its partner.
		if d.Org == "" {
			d.Org = r.Org
		}
		if d.Partner == "" {
			d.Partner = r.HostLA
			if d.Org == r.HostLA {
				d.Partner = r.Est
			}
		}
		out = append(out, safeguard.Escalation{Reference: r.Ref, Clock: d.Clock, ClockID: d.ClockID, Step: d.Step + 1, At: r.At.UTC(),
			Notified: safeguard.NotifiedOf(d.Notified, d.Org, d.Partner), Recipients: d.Recipients})
	}
	return out, nil
}

// jsonText extracts a top-level string field of a JSON text column.
func jsonText(d Dialect, col, field string) string {
	if d == Postgres {
		return "(" + col + "::jsonb->>'" + field + "')"
	}
	return "json_extract(" + col + ", '$." + field + "')"
}

// Evidence gathers a concern's evidence bundle, in scope (ENOTFOUND outside it): the concern
// with its timeline, clocks and contributions, its ladder steps, every outbox message and
// every audit row that names it, oldest first, with the hash chain fields.
func (db *DB) Evidence(ctx context.Context, scope safeguard.Scope, ref string) (*safeguard.EvidenceBundle, error) {
	c, err := db.FindConcern(ctx, scope, ref)
	if err != nil {
		return nil, err
	}
	b := &safeguard.EvidenceBundle{GeneratedAt: db.Now().UTC(), Concern: c, Mail: []safeguard.EvidenceMail{}, AccessLog: []safeguard.EvidenceAccess{}}
	if b.Escalations, err = db.Escalations(ctx, scope, time.Time{}, ref); err != nil {
		return nil, err
	}
	if err := db.SelectContext(ctx, &b.Mail, db.Rebind(`SELECT key, recipient, subject, status, created_at, sent_at
		FROM outbox WHERE reference = ? ORDER BY id`), ref); err != nil {
		return nil, err
	}
	for i := range b.Mail {
		m := &b.Mail[i]
		m.CreatedAt = m.CreatedAt.UTC()
		if m.SentAt != nil {
			t := m.SentAt.UTC()
			m.SentAt = &t
		}
		// Ladder mail is keyed <reference>/<clock id>/step-<n>/<recipient hash>.
		parts := strings.Split(m.Key, "/")
		if len(parts) == 4 && strings.HasPrefix(parts[2], "step-") {
			if n, err := strconv.Atoi(strings.TrimPrefix(parts[2], "step-")); err == nil {
				m.Step = n + 1
				if i := strings.LastIndex(parts[1], "-"); i > 0 {
					m.Clock = parts[1][:i]
				}
			}
		}
	}
	err = db.SelectContext(ctx, &b.AccessLog, db.Rebind(`SELECT a.id, a.at, a.user_id, COALESCE(u.role, '') AS user_role,
			COALESCE(u.org_code, '') AS user_org, a.action, a.outcome, a.remote, a.flagged, a.prev_hash, a.hash
		FROM audit_log a LEFT JOIN users u ON u.id = a.user_id WHERE a.reference = ? ORDER BY a.id`), ref)
	for i := range b.AccessLog {
		b.AccessLog[i].At = b.AccessLog[i].At.UTC()
	}
	return b, err
}
