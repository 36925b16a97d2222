package http

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/safeguard-project/safeguard"
)

// The reports page: the figures of the reports API (http/reports.go, sql/reports.go) for a
// period, as tables and server-drawn SVG charts, with links to the same figures as CSV. The
// page counts nothing itself: it calls the SQL the API calls, in the caller's scope, audited
// as the API audits it.

// reportsPage is the page's data.
type reportsPage struct {
	From, To        string
	SACCSV          string // the same figures as CSV, for the period shown
	TimescalesCSV   string
	SAC             []sacTable
	Raised          int
	Concluded       int
	SACScope        string
	ShowSAC         bool
	Timescales      []timescaleView
	OnTimeChart     barChart
	DaysChart       barChart
	TimescalesEmpty bool
}

// sacTable is one table of the SAC return (SG1…SG4, custody): its measures in the return's order.
type sacTable struct {
	Table    string
	Measures []sacMeasure
}

type sacMeasure struct {
	ID, Measure, Basis string
	Cells              []safeguard.SACCell
	Total              int
}

// timescaleView is one clock's performance over the whole period, every organisation in scope.
type timescaleView struct {
	Label          string
	Met, MetOnTime int
	OnTime         string // "87%", or "–" when none was met
	Median, P90    int
	HasMet         bool
}

// barChart is a horizontal bar chart drawn as inline SVG: presentation attributes only (the
// Content-Security-Policy forbids style attributes), with a title and description for
// assistive technology and the same figures in a table beside it.
type barChart struct {
	ID, Title, Desc string
	Width, Height   int
	LabelWidth      int
	Bars            []bar
	Legend          []legendItem
}

type bar struct {
	Label     string
	Y, TextY  int
	Segments  []segment
	ValueText string
	ValueX    int
}

type segment struct {
	X, Y, W, H int
	Fill       string
}

type legendItem struct {
	Label               string
	Fill                string
	X, Y, TextX, LabelY int
}

const (
	chartWidth      = 720
	chartLabelWidth = 300
	chartBarHeight  = 22
	chartRowHeight  = 34
	chartBlue       = "#1d70b8"
	chartDarkBlue   = "#003078"
)

// reports is GET /reports?from=YYYY-MM-DD&to=YYYY-MM-DD: performance against timescales for
// managers and the auditor and, for those the policy lets read it (la_manager, auditor), the
// SAC-aligned counts. Without dates, the twelve months to today.
func (s *Server) reports(w http.ResponseWriter, r *http.Request) {
	u, ok := s.authorizeRead(w, r, safeguard.ActionReadPerformance, s.webError)
	if !ok {
		return
	}
	q := r.URL.Query()
	form := &Form{Values: url.Values{"from": {q.Get("from")}, "to": {q.Get("to")}}, Order: []string{"from", "to"}}
	p, err := periodOrLastYear(r, s.Now())
	if err != nil {
		fields, ok := formErrors(err, "")
		if !ok {
			s.webError(w, r, err)
			return
		}
		form.Errors = fields
		s.render(w, r, http.StatusUnprocessableEntity, "reports", View{Title: "Reports", Nav: "reports", Form: form, Data: reportsPage{}})
		return
	}
	form.Values = url.Values{"from": {p.From}, "to": {p.To}}
	scope := safeguard.ScopeOf(u)
	period := url.Values{"from": {p.From}, "to": {p.To}}.Encode()
	v := reportsPage{From: p.From, To: p.To, SACCSV: "/reports/sac.csv?" + period, TimescalesCSV: "/reports/timescales.csv?" + period}

	if safeguard.Authorize(u, safeguard.ActionReadSACReport, nil) == nil {
		rep, err := s.DB.SACReport(r.Context(), scope, p)
		s.audit(r, string(safeguard.ActionReadSACReport), "", err)
		if err != nil {
			s.webError(w, r, orUnavailable(err))
			return
		}
		v.ShowSAC, v.Raised, v.Concluded, v.SACScope = true, rep.Raised, rep.Concluded, rep.Scope
		v.SAC = sacTables(rep)
	}

	rows, err := s.DB.Timescales(r.Context(), scope, p)
	s.audit(r, string(safeguard.ActionReadPerformance), "", err)
	if err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	v.Timescales = timescaleViews(rows)
	v.TimescalesEmpty = true
	for _, t := range v.Timescales {
		v.TimescalesEmpty = v.TimescalesEmpty && !t.HasMet
	}
	v.OnTimeChart, v.DaysChart = timescaleCharts(v.Timescales)
	s.render(w, r, http.StatusOK, "reports", View{Title: "Reports", Nav: "reports", Form: form, Data: v})
}

// sacTables arranges the report's cells as the return lays them out; measures the return does
// not list (the custody breakdown, one row per establishment) follow under their own table.
func sacTables(rep *safeguard.SACReport) []sacTable {
	var out []sacTable
	index := map[string]int{}    // table -> position in out
	measure := map[string]int{}  // table/measure -> position in its table
	basis := map[string]string{} // table/measure -> basis
	for _, m := range safeguard.SACMeasures {
		basis[m.Table+"/"+m.Measure] = m.Basis
	}
	for _, c := range rep.Cells {
		ti, ok := index[c.Table]
		if !ok {
			ti = len(out)
			index[c.Table] = ti
			out = append(out, sacTable{Table: c.Table})
		}
		key := c.Table + "/" + c.Measure
		mi, ok := measure[key]
		if !ok {
			mi = len(out[ti].Measures)
			measure[key] = mi
			b := basis[key]
			if b == "" {
				b = "raised"
			}
			out[ti].Measures = append(out[ti].Measures, sacMeasure{ID: fmt.Sprintf("sac-%d-%d", ti, mi), Measure: c.Measure, Basis: b})
		}
		m := &out[ti].Measures[mi]
		m.Cells = append(m.Cells, c)
		if c.Table != "custody" {
			m.Total += c.Count
		}
	}
	return out
}

// timescaleViews picks each clock's roll-up over the period and every organisation, in the
// lifecycle's order; a clock none met in the period is shown as such.
func timescaleViews(rows []safeguard.TimescaleRow) []timescaleView {
	var out []timescaleView
	for _, name := range safeguard.ClockNames {
		v := timescaleView{Label: clockNames[name], OnTime: "none met"}
		for _, t := range rows {
			if t.Clock == name && t.Month == "all" && t.Organisation == "all" {
				v.Met, v.MetOnTime, v.Median, v.P90, v.HasMet = t.Met, t.MetOnTime, t.MedianWorkingDays, t.P90WorkingDays, t.Met > 0
				v.OnTime = strconv.Itoa(int(math.Round(t.ShareOnTime*100))) + "%"
			}
		}
		out = append(out, v)
	}
	return out
}

// timescaleCharts draws the share met on time and the working days taken (median and 90th
// percentile) for each clock.
func timescaleCharts(ts []timescaleView) (onTime, days barChart) {
	onTime = barChart{ID: "chart-on-time", Title: "Share of deadlines met on time", Width: chartWidth, LabelWidth: chartLabelWidth,
		Desc: "One bar for each deadline: the percentage met by its due time, of those met in the period. The table below gives the same figures."}
	days = barChart{ID: "chart-days", Title: "Working days taken to meet each deadline", Width: chartWidth, LabelWidth: chartLabelWidth,
		Desc:   "Two bars for each deadline: the median and the 90th percentile of working days taken. The table below gives the same figures.",
		Legend: []legendItem{{Label: "Median", Fill: chartBlue}, {Label: "90th percentile", Fill: chartDarkBlue}}}
	span := chartWidth - chartLabelWidth - 70
	maxDays := 1
	for _, t := range ts {
		maxDays = max(maxDays, t.P90)
	}
	y := 10
	for _, t := range ts {
		b := bar{Label: t.Label, Y: y, TextY: y + 16, ValueX: chartLabelWidth + 8}
		if t.HasMet {
			share := float64(t.MetOnTime) / float64(t.Met)
			wd := int(math.Round(share * float64(span)))
			b.Segments = []segment{{X: chartLabelWidth, Y: y, W: wd, H: chartBarHeight, Fill: chartBlue}}
			b.ValueText, b.ValueX = t.OnTime, chartLabelWidth+wd+6
		} else {
			b.ValueText = "none met"
		}
		onTime.Bars = append(onTime.Bars, b)
		y += chartRowHeight
	}
	onTime.Height = y + 6

	y = 40
	for i := range days.Legend {
		days.Legend[i].X, days.Legend[i].Y, days.Legend[i].TextX, days.Legend[i].LabelY = chartLabelWidth+i*160, 8, chartLabelWidth+i*160+22, 21
	}
	for _, t := range ts {
		b := bar{Label: t.Label, Y: y, TextY: y + 20, ValueX: chartLabelWidth + 8}
		if t.HasMet {
			wm := int(math.Round(float64(t.Median) / float64(maxDays) * float64(span)))
			wp := int(math.Round(float64(t.P90) / float64(maxDays) * float64(span)))
			b.Segments = []segment{
				{X: chartLabelWidth, Y: y, W: wm, H: 14, Fill: chartBlue},
				{X: chartLabelWidth, Y: y + 16, W: wp, H: 14, Fill: chartDarkBlue},
			}
			b.ValueText, b.ValueX = fmt.Sprintf("%d and %d", t.Median, t.P90), chartLabelWidth+max(wm, wp)+6
		} else {
			b.ValueText = "none met"
		}
		days.Bars = append(days.Bars, b)
		y += chartRowHeight + 6
	}
	days.Height = y + 6
	return onTime, days
}

// reportCSV serves one report as CSV from a page link (/reports/sac.csv?from=&to=): the same
// question of the policy first, answered as a page if refused, then the API's own handler,
// which reads, audits and writes the CSV exactly as for Accept: text/csv.
func (s *Server) reportCSV(action safeguard.Action, api http.HandlerFunc, period func(*http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.authorizeRead(w, r, action, s.webError); !ok {
			return
		}
		if err := period(r); err != nil {
			s.webError(w, r, err)
			return
		}
		r.Header.Set("Accept", "text/csv")
		api(w, r)
	}
}

func (s *Server) sacCSV() http.HandlerFunc {
	return s.reportCSV(safeguard.ActionReadSACReport, s.sacReport, func(r *http.Request) error {
		_, err := safeguard.ParsePeriod(r.URL.Query().Get("from"), r.URL.Query().Get("to"), london)
		return err
	})
}

func (s *Server) timescalesCSV() http.HandlerFunc {
	return s.reportCSV(safeguard.ActionReadPerformance, s.timescales, func(r *http.Request) error {
		_, err := periodOrLastYear(r, s.Now())
		return err
	})
}
