package http

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/safeguard-project/safeguard"
)

// The reports for managers (docs/reports.md): each asks Authorize, reads SQL in the caller's
// scope (the scope is inside every query), is audited, and answers JSON or, with
// Accept: text/csv, the same figures as CSV.

// reportWantsCSV reports whether the caller asked for CSV.
func reportWantsCSV(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/csv")
}

func writeReportCSV(w http.ResponseWriter, filename string, header []string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	_ = cw.WriteAll(rows)
}

// sacReport is GET /api/v1/reports/sac?from=YYYY-MM-DD&to=YYYY-MM-DD: the Safeguarding Adults
// Collection–aligned counts for la_manager (the concerns involving their authority) and
// auditor (all).
func (s *Server) sacReport(w http.ResponseWriter, r *http.Request) {
	const action = string(safeguard.ActionReadSACReport)
	u, ok := s.authorizeRead(w, r, safeguard.ActionReadSACReport, s.error)
	if !ok {
		return
	}
	p, err := safeguard.ParsePeriod(r.URL.Query().Get("from"), r.URL.Query().Get("to"), london)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rep, err := s.DB.SACReport(r.Context(), safeguard.ScopeOf(u), p)
	s.audit(r, action, "", err)
	if err != nil {
		s.error(w, r, orUnavailable(err))
		return
	}
	if reportWantsCSV(r) {
		rows := [][]string{
			{"totals", "concerns_raised", "all", strconv.Itoa(rep.Raised)},
			{"totals", "enquiries_concluded", "all", strconv.Itoa(rep.Concluded)},
		}
		for _, c := range rep.Cells {
			rows = append(rows, []string{c.Table, c.Measure, c.Value, strconv.Itoa(c.Count)})
		}
		writeReportCSV(w, "sac-"+p.From+"-"+p.To+".csv", []string{"table", "measure", "value", "count"}, rows)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		*safeguard.SACReport
		Tables map[string]map[string]map[string]int `json:"tables"`
	}{rep, rep.Tables()})
}

// periodOrLastYear reads from and to, or without both, the twelve months to today: the
// current month so far and the eleven before it.
func periodOrLastYear(r *http.Request, now time.Time) (safeguard.Period, error) {
	q := r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	if from == "" && to == "" {
		today := now.In(london)
		first := time.Date(today.Year(), today.Month()-11, 1, 0, 0, 0, 0, london)
		from, to = first.Format("2006-01-02"), today.Format("2006-01-02")
	}
	return safeguard.ParsePeriod(from, to, london)
}

// timescales is GET /api/v1/reports/timescales?from=&to=: for each clock, median and 90th
// percentile working days to meet it and the share met on time, by responsible organisation
// and by month, with roll-ups ("all"). Managers see their organisation's concerns, the auditor
// all. Without from and to: the twelve months to today.
func (s *Server) timescales(w http.ResponseWriter, r *http.Request) {
	const action = string(safeguard.ActionReadPerformance)
	u, ok := s.authorizeRead(w, r, safeguard.ActionReadPerformance, s.error)
	if !ok {
		return
	}
	p, err := periodOrLastYear(r, s.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	rows, err := s.DB.Timescales(r.Context(), safeguard.ScopeOf(u), p)
	s.audit(r, action, "", err)
	if err != nil {
		s.error(w, r, orUnavailable(err))
		return
	}
	if reportWantsCSV(r) {
		out := make([][]string, len(rows))
		for i, t := range rows {
			out[i] = []string{t.Month, t.Clock, t.Organisation, strconv.Itoa(t.Met), strconv.Itoa(t.MetOnTime),
				strconv.FormatFloat(t.ShareOnTime, 'f', 4, 64), strconv.Itoa(t.MedianWorkingDays), strconv.Itoa(t.P90WorkingDays)}
		}
		writeReportCSV(w, "timescales-"+p.From+"-"+p.To+".csv",
			[]string{"month", "clock", "organisation", "met", "met_on_time", "share_on_time", "median_working_days", "p90_working_days"}, out)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": p.From, "to": p.To, "unit": "working_days", "items": rows})
}

// overdueAuditReport is GET /api/v1/reports/overdue: the clocks past due now, in scope, counted by
// responsible organisation, stage, clock and ageing bucket (working days overdue: 0-2, 3-5,
// 6-10, >10), the clocks at risk (due within the next working day), and the escalation history
// of every concern with a clock past due — which step, when, and who was told by organisation
// and role. The list of overdue clocks itself is GET /api/v1/overdue.
func (s *Server) overdueAuditReport(w http.ResponseWriter, r *http.Request) {
	const action = string(safeguard.ActionReadPerformance)
	u, ok := s.authorizeRead(w, r, safeguard.ActionReadPerformance, s.error)
	if !ok {
		return
	}
	now := s.Now()
	groups, err := s.DB.OverdueAudit(r.Context(), safeguard.ScopeOf(u), now)
	var esc []safeguard.Escalation
	if err == nil {
		esc, err = s.DB.Escalations(r.Context(), safeguard.ScopeOf(u), now, "")
	}
	s.audit(r, action, "", err)
	if err != nil {
		s.error(w, r, orUnavailable(err))
		return
	}
	if reportWantsCSV(r) {
		out := make([][]string, len(groups))
		for i, g := range groups {
			out[i] = []string{g.Organisation, g.Stage, g.Clock, g.Bucket, strconv.Itoa(g.Count)}
		}
		writeReportCSV(w, "overdue-audit.csv", []string{"organisation", "stage", "clock", "ageing", "count"}, out)
		return
	}
	var overdue, atRisk []safeguard.OverdueGroup
	for _, g := range groups {
		if g.Bucket == "at_risk" {
			atRisk = append(atRisk, g)
		} else {
			overdue = append(overdue, g)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"at": now.UTC(), "buckets": safeguard.AgeingBuckets,
		"overdue": nonNilItems(overdue), "at_risk": nonNilItems(atRisk), "escalations": nonNilItems(esc)})
}

func nonNilItems[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// evidence is GET /api/v1/concerns/{ref}/evidence: the concern's evidence bundle (chronology,
// clocks and contributions, ladder steps, every message from the outbox, the access log with
// its audit hashes) for the managers of an organisation involved and the auditor. Outside
// scope the concern does not exist (404). Reading it is audited, before the bundle is read, so
// the bundle's access log ends with this very read.
func (s *Server) evidence(w http.ResponseWriter, r *http.Request) {
	b, err := s.readEvidence(r, mux.Vars(r)["ref"])
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}
