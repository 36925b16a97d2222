package sql

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/safeguard-project/safeguard"
)

// The SAC return's counts, kept as concerns are recorded (migration 00013, docs/reports.md
// "Speed"). Each concern adds one to a cell per measure, for each scope that may see it —
// national ("") and every organisation it involves — on the day in England it was raised (the
// raised-basis measures) or concluded (the concluded-basis ones). RecordRaise and RecordChange
// read the concern's facts before and after, in their own transaction, and apply the
// difference, so the counts are exactly what counting the concerns would give; a year's return
// then sums a few thousand rows. Cells hold raw column values: addSACCell maps them onto the
// return when it is read, for the counts and for the direct count alike.

// sacFacts is what the return reads of one concern.
type sacFacts struct {
	Reference           string
	RaisedAt            time.Time
	Stage               string
	Establishment       string
	RaisedEstablishment sql.NullString
	AgeBand             sql.NullString
	Gender              sql.NullString
	Ethnicity           sql.NullString
	SupportReason       sql.NullString
	Autism              sql.NullBool
	LocationOfRisk      sql.NullString
	SourceOfRisk        sql.NullString
	LackedCapacity      sql.NullString
	Advocacy            sql.NullString
	MSPAsked            sql.NullString
	ConcludedAt         sql.NullTime
	RiskFinding         sql.NullString
	ActionTaken         sql.NullBool
	RiskOutcome         sql.NullString
	MSPOutcome          sql.NullString
	SARReferral         sql.NullBool
	Categories          []string
	Orgs                []string
}

// sacCell is one count of one concern: the day in England, the measure (a column's name, as
// addSACCell knows it) and the raw value ("" for unrecorded).
type sacCell struct{ Day, Measure, Value string }

// sacKey is a row of sac_counts.
type sacKey struct{ Scope, Day, Measure, Value string }

func londonDay(t time.Time) string { return t.In(london).Format("2006-01-02") }

func nullText(v sql.NullString) string {
	if v.Valid {
		return v.String
	}
	return ""
}

func nullBoolText(v sql.NullBool) string {
	switch {
	case !v.Valid:
		return ""
	case v.Bool:
		return "1"
	}
	return "0"
}

// cells are the counts the concern adds to the return: the same conditions as the direct
// count's queries in SACReport.
func (f *sacFacts) cells() []sacCell {
	day := londonDay(f.RaisedAt)
	est := f.Establishment
	if f.RaisedEstablishment.Valid {
		est = f.RaisedEstablishment.String
	}
	moved := "0"
	if f.Establishment != est {
		moved = "1"
	}
	out := []sacCell{
		{day, "age_band", nullText(f.AgeBand)},
		{day, "gender", nullText(f.Gender)},
		{day, "ethnicity", nullText(f.Ethnicity)},
		{day, "support_reason", nullText(f.SupportReason)},
		{day, "autism", nullBoolText(f.Autism)},
		{day, "location_of_risk", nullText(f.LocationOfRisk)},
		{day, "source_of_risk", nullText(f.SourceOfRisk)},
		{day, "lacked_capacity", nullText(f.LackedCapacity)},
		{day, "msp_asked", nullText(f.MSPAsked)},
		{day, "custody", est + ":" + f.Stage + ":" + moved},
	}
	if nullText(f.LackedCapacity) == "yes" {
		out = append(out, sacCell{day, "advocacy", nullText(f.Advocacy)})
	}
	for _, c := range f.Categories {
		out = append(out, sacCell{day, "category", c})
	}
	if !f.ConcludedAt.Valid {
		return out
	}
	day = londonDay(f.ConcludedAt.Time)
	result := ""
	if f.RiskFinding.Valid && f.ActionTaken.Valid {
		result = f.RiskFinding.String + ":" + nullBoolText(f.ActionTaken)
	}
	out = append(out, sacCell{day, "concluded", ""}, sacCell{day, "action_and_result", result}, sacCell{day, "sar_referral", nullBoolText(f.SARReferral)})
	if f.RiskFinding.String == "identified" && f.ActionTaken.Valid && f.ActionTaken.Bool && f.RiskOutcome.Valid {
		out = append(out, sacCell{day, "risk_outcome", f.RiskOutcome.String})
	}
	if o := nullText(f.MSPOutcome); o == "fully" || o == "partially" || o == "not_achieved" {
		out = append(out, sacCell{day, "msp_outcome", o})
	}
	return out
}

// scopes are the sac_counts scopes that count the concern: national, and each organisation
// it involves (the lists' scope: concern_orgs).
func (f *sacFacts) scopes() []string {
	out := []string{""}
	for _, o := range f.Orgs {
		if o != "" && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// addSACCell maps a raw count onto the return's cell. Booleans arrive as 1/0 (SQLite, and the
// counts) or true/false (PostgreSQL's text of a boolean).
func addSACCell(rep *safeguard.SACReport, measure, v string, n int) {
	orNotKnown := func(v string) string {
		if v == "" {
			return "not_known"
		}
		return v
	}
	truth := func(v string) (known, yes bool) {
		switch v {
		case "1", "true":
			return true, true
		case "0", "false":
			return true, false
		}
		return false, false
	}
	switch measure {
	case "age_band":
		rep.Add("SG1", "age_band", orNotKnown(v), n)
		rep.Raised += n // every concern has one age band, known or not
	case "gender":
		rep.Add("SG1", "gender", orNotKnown(v), n)
	case "ethnicity":
		rep.Add("SG1", "ethnicity", safeguard.EthnicGroup(v), n)
	case "support_reason":
		rep.Add("SG1", "primary_support_reason", orNotKnown(v), n)
	case "autism":
		value := "not_known"
		if known, yes := truth(v); known && yes {
			value = "yes"
		} else if known {
			value = "no"
		}
		rep.Add("SG1", "autism", value, n)
	case "location_of_risk":
		rep.Add("SG2b", "location_of_risk", safeguard.SACLocation(orNotKnown(v)), n)
	case "source_of_risk":
		rep.Add("SG2b", "source_of_risk", orNotKnown(v), n)
	case "lacked_capacity":
		rep.Add("SG3", "lacked_capacity", orNotKnown(v), n)
	case "advocacy":
		rep.Add("SG3", "support_if_lacked_capacity", orNotKnown(v), n)
	case "msp_asked":
		rep.Add("SG4", "outcomes_asked", orNotKnown(v), n)
	case "category":
		rep.Add("SG2a", "type_of_risk", v, n)
	case "custody":
		parts := strings.SplitN(v, ":", 3)
		if len(parts) == 3 {
			addCustody(rep, parts[0], safeguard.Stage(parts[1]), parts[2] == "1", n)
		}
	case "concluded":
		rep.Concluded += n
	case "action_and_result":
		risk, taken, _ := strings.Cut(v, ":")
		_, yes := truth(taken)
		rep.Add("SG2c", "action_and_result", safeguard.ActionAndResult(risk, yes), n)
	case "risk_outcome":
		rep.Add("SG2c", "risk_outcome", v, n)
	case "msp_outcome":
		rep.Add("SG4", "outcomes_achieved", v, n)
	case "sar_referral":
		value := "not_recorded"
		if known, yes := truth(v); known && yes {
			value = "referred"
		} else if known {
			value = "not_referred"
		}
		rep.Add("SG5", "review_referral", value, n)
	}
}

// queryer is a transaction or the database: sqlx's and database/sql's alike.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// sacFactsWhere reads the facts of the concerns c matching cond.
func (db *DB) sacFactsWhere(ctx context.Context, q queryer, cond string, args ...any) ([]*sacFacts, error) {
	rows, err := q.QueryContext(ctx, db.Rebind(`SELECT c.reference, c.raised_at, c.stage, c.establishment, c.raised_establishment,
			c.age_band, c.gender, c.ethnicity, c.support_reason, c.autism, c.location_of_risk, c.source_of_risk,
			c.lacked_capacity, c.advocacy, c.msp_asked, c.concluded_at, c.risk_finding, c.action_taken, c.risk_outcome,
			c.msp_outcome, c.sar_referral
		FROM concerns c WHERE `+cond), args...)
	if err != nil {
		return nil, err
	}
	var out []*sacFacts
	byRef := map[string]*sacFacts{}
	for rows.Next() {
		f := &sacFacts{}
		if err := rows.Scan(&f.Reference, &f.RaisedAt, &f.Stage, &f.Establishment, &f.RaisedEstablishment,
			&f.AgeBand, &f.Gender, &f.Ethnicity, &f.SupportReason, &f.Autism, &f.LocationOfRisk, &f.SourceOfRisk,
			&f.LackedCapacity, &f.Advocacy, &f.MSPAsked, &f.ConcludedAt, &f.RiskFinding, &f.ActionTaken, &f.RiskOutcome,
			&f.MSPOutcome, &f.SARReferral); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, f)
		byRef[f.Reference] = f
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	for _, side := range []struct {
		query string
		add   func(f *sacFacts, v string)
	}{
		{`SELECT x.reference, x.category FROM concern_categories x JOIN concerns c ON c.reference = x.reference WHERE ` + cond,
			func(f *sacFacts, v string) { f.Categories = append(f.Categories, v) }},
		{`SELECT x.reference, x.org_code FROM concern_orgs x JOIN concerns c ON c.reference = x.reference WHERE ` + cond,
			func(f *sacFacts, v string) { f.Orgs = append(f.Orgs, v) }},
	} {
		rows, err := q.QueryContext(ctx, db.Rebind(side.query), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var ref, v string
			if err := rows.Scan(&ref, &v); err != nil {
				rows.Close()
				return nil, err
			}
			if f := byRef[ref]; f != nil {
				side.add(f, v)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sacFactsOf reads one concern's facts, or nil if it is not recorded.
func (db *DB) sacFactsOf(ctx context.Context, q queryer, ref string) (*sacFacts, error) {
	fs, err := db.sacFactsWhere(ctx, q, "c.reference = ?", ref)
	if err != nil || len(fs) == 0 {
		return nil, err
	}
	return fs[0], nil
}

// countForSAC moves the kept counts from what the concern counted before (nil: nothing, it is
// new) to what it counts now, inside the transaction that changed it.
func (db *DB) countForSAC(ctx context.Context, q queryer, ref string, before *sacFacts) error {
	after, err := db.sacFactsOf(ctx, q, ref)
	if err != nil {
		return err
	}
	d := sacDelta{}
	d.add(-1, before)
	d.add(1, after)
	return db.applySACDelta(ctx, q, d)
}

// sacDelta is a change to sac_counts: how much each row moves.
type sacDelta map[sacKey]int

// add counts each concern's cells, sign times, in every scope that sees it.
func (d sacDelta) add(sign int, fs ...*sacFacts) {
	for _, f := range fs {
		if f == nil {
			continue
		}
		cells := f.cells()
		for _, s := range f.scopes() {
			for _, c := range cells {
				d[sacKey{s, c.Day, c.Measure, c.Value}] += sign
			}
		}
	}
}

// apply writes the delta, rows in key order so that two transactions changing the same rows
// take their locks in the same order (PostgreSQL) and cannot deadlock.
func (db *DB) applySACDelta(ctx context.Context, q queryer, d sacDelta) error {
	keys := make([]sacKey, 0, len(d))
	for k, n := range d {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b sacKey) int {
		return strings.Compare(a.Scope+"\x00"+a.Day+"\x00"+a.Measure+"\x00"+a.Value, b.Scope+"\x00"+b.Day+"\x00"+b.Measure+"\x00"+b.Value)
	})
	const batch = 500
	for len(keys) > 0 {
		chunk := keys[:min(batch, len(keys))]
		keys = keys[len(chunk):]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO sac_counts (scope, day, measure, value, n) VALUES `)
		args := make([]any, 0, 5*len(chunk))
		for i, k := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, k.Scope, k.Day, k.Measure, k.Value, d[k])
		}
		sb.WriteString(` ON CONFLICT (scope, day, measure, value) DO UPDATE SET n = sac_counts.n + excluded.n`)
		if _, err := q.ExecContext(ctx, db.Rebind(sb.String()), args...); err != nil {
			return fmt.Errorf("sql: sac counts: %w", err)
		}
	}
	return nil
}

// rebuildSACCounts fills sac_counts afresh from every concern recorded, a week of raising at
// a time (migration 14, and after `safeguard seed` writes concerns straight into SQL). On
// PostgreSQL the table is locked first: a concern recorded meanwhile waits, then adds its own
// counts to the rebuilt ones.
func (db *DB) rebuildSACCounts(ctx context.Context, q queryer) error {
	if db.Dialect == Postgres {
		if _, err := q.ExecContext(ctx, `LOCK TABLE sac_counts IN EXCLUSIVE MODE`); err != nil {
			return err
		}
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM sac_counts`); err != nil {
		return err
	}
	// The first and last raising, read as columns (SQLite's MIN() would give text).
	var first, last sql.NullTime
	for _, e := range []struct {
		order string
		into  *sql.NullTime
	}{{"", &first}, {" DESC", &last}} {
		rows, err := q.QueryContext(ctx, `SELECT raised_at FROM concerns ORDER BY raised_at`+e.order+` LIMIT 1`)
		if err != nil {
			return err
		}
		if rows.Next() {
			err = rows.Scan(e.into)
		}
		rows.Close()
		if err != nil {
			return err
		}
	}
	if !first.Valid {
		return nil
	}
	const window = 7 * 24 * time.Hour
	for from := first.Time.UTC().Truncate(24 * time.Hour); !from.After(last.Time); from = from.Add(window) {
		fs, err := db.sacFactsWhere(ctx, q, "c.raised_at >= ? AND c.raised_at < ?", from, from.Add(window))
		if err != nil {
			return err
		}
		d := sacDelta{}
		d.add(1, fs...)
		if err := db.applySACDelta(ctx, q, d); err != nil {
			return err
		}
	}
	return nil
}

// RebuildSACCounts recounts the SAC return's kept counts from the concerns, in one
// transaction: for data written without RecordRaise and RecordChange (safeguard seed).
func (db *DB) RebuildSACCounts(ctx context.Context) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := db.rebuildSACCounts(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// sacFromCounts reads the return's raw cells for the period from sac_counts.
func (db *DB) sacFromCounts(ctx context.Context, scope safeguard.Scope, p safeguard.Period) ([]sacRaw, error) {
	key := scope.Org
	if scope.All {
		key = ""
	}
	var rows []sacRaw
	err := db.SelectContext(ctx, &rows, db.Rebind(`SELECT measure, value, SUM(n) AS n FROM sac_counts
		WHERE scope = ? AND day >= ? AND day < ? GROUP BY measure, value`), key, londonDay(p.Start), londonDay(p.End))
	return rows, err
}

// sacCountsServe reports whether the kept counts answer for scope: they count every concern
// an organisation is involved in, so not for a reader who may not see an allegation against
// staff of their own organisation when there is one (the return is then counted directly).
func (db *DB) sacCountsServe(ctx context.Context, scope safeguard.Scope) (bool, error) {
	if scope.SeesStaffAllegations {
		return true, nil
	}
	var n int
	err := db.GetContext(ctx, &n, db.Rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM concerns WHERE staff_allegation_at = ? LIMIT 1) x`), scope.Org)
	return n == 0, err
}
