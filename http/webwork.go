package http

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-project/safeguard"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// My work, the overdue audit and the pages that are the same for everyone.

// clockActions is the action that stops each clock: what the person it waits on must do.
var clockActions = map[string]safeguard.Action{
	safeguard.ClockLAAcknowledgement:       safeguard.ActionAcknowledge,
	safeguard.ClockTriageDecision:          safeguard.ActionTriage,
	safeguard.ClockLAContribution:          safeguard.ActionContribute,
	safeguard.ClockEnquiryCompletion:       safeguard.ActionFindings,
	safeguard.ClockClosureSignoff:          safeguard.ActionSignOffClosure,
	safeguard.ClockHandoverAcknowledgement: safeguard.ActionAcknowledge,
}

// workItem is one line of my work: a clock my organisation must stop, and whether I may.
type workItem struct {
	Reference, Establishment, Stage, Organisation string
	Clock                                         clockView
	Mine                                          bool // the policy lets this user take the action that stops it
}

type workPage struct {
	Overdue, DueSoon, Later []workItem
	Page                    int
	Prev, Next              string
	CanRaise, CanAudit      bool
	Everyone                bool // the list is national (auditor), not one organisation's
}

const workPageSize = 25

// myWork is GET /: the clocks the user's organisation must stop, soonest first, in three
// groups — overdue, due within a working day, later — with the ones the user may act on
// marked. An auditor, who acts on nothing, sees every organisation's.
func (s *Server) myWork(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if err := safeguard.Authorize(u, safeguard.ActionList, nil); err != nil {
		s.webError(w, r, err)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	scope := safeguard.ScopeOf(u)
	org := u.OrgCode
	if scope.All {
		org = ""
	}
	rows, more, err := s.DB.LiveClocks(r.Context(), scope, org, workPageSize, (page-1)*workPageSize)
	s.audit(r, "list", "", err)
	if err != nil {
		s.webError(w, r, unavailable(err))
		return
	}
	now := s.Now()
	v := workPage{Page: page, Everyone: scope.All,
		CanRaise: safeguard.Authorize(u, safeguard.ActionRaise, nil) == nil,
		CanAudit: safeguard.Authorize(u, safeguard.ActionReadOverdue, nil) == nil}
	invs := map[string]*safeguard.Involvement{}
	for _, o := range rows {
		inv, ok := invs[o.Reference]
		if !ok {
			if inv, err = s.DB.Involvement(r.Context(), o.Reference); err != nil {
				s.webError(w, r, orUnavailable(err))
				return
			}
			invs[o.Reference] = inv
		}
		k := viewClock(safeguard.Clock{Name: o.Clock, Organisation: o.Organisation, State: safeguard.ClockRunning, Due: o.Due, Step: o.Step}, now)
		it := workItem{Reference: o.Reference, Establishment: o.Establishment, Stage: o.Stage, Organisation: o.Organisation, Clock: k,
			Mine: safeguard.Authorize(u, clockActions[o.Clock], inv) == nil}
		switch {
		case !o.Due.After(now):
			v.Overdue = append(v.Overdue, it)
		case england.WorkingDaysBetween(now, o.Due) <= 1:
			v.DueSoon = append(v.DueSoon, it)
		default:
			v.Later = append(v.Later, it)
		}
	}
	if page > 1 {
		v.Prev = "/?page=" + strconv.Itoa(page-1)
	}
	if more {
		v.Next = "/?page=" + strconv.Itoa(page+1)
	}
	s.render(w, r, http.StatusOK, "work", View{Title: "Your work", Nav: "home", Data: v})
}

// overdueFilter is the overdue audit's filters, sort and page, read from the query string:
// codes and numbers only, never anything about the adult.
type overdueFilter struct {
	Organisation, Stage, Clock, Sort string
	MinDays, Step, Page              int
}

const overduePageSize = 50

// overdueCountAhead is how far past the current page the overdue audit counts.
var overdueCountAhead = 1_000

var overdueSorts = []option{
	{"most_overdue", "Most overdue first", ""},
	{"least_overdue", "Least overdue first", ""},
	{"step", "Highest escalation step first", ""},
	{"reference", "Reference", ""},
}

func parseOverdueFilter(q url.Values) (overdueFilter, map[string]string) {
	f := overdueFilter{Organisation: strings.ToUpper(strings.TrimSpace(q.Get("organisation"))), Stage: q.Get("stage"), Clock: q.Get("clock"), Sort: q.Get("sort"), Page: 1}
	errs := map[string]string{}
	number := func(name string, dst *int, min int) {
		if s := strings.TrimSpace(q.Get(name)); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < min || n > 10000 {
				errs[name] = fieldLabels[name] + " must be a whole number from " + strconv.Itoa(min) + " upwards"
				return
			}
			*dst = n
		}
	}
	number("min_days", &f.MinDays, 0)
	number("step", &f.Step, 0)
	number("page", &f.Page, 1)
	if f.Stage != "" && !safeguard.Stage(f.Stage).Valid() {
		errs["stage"] = "Select a stage from the list"
	}
	if _, ok := clockNames[f.Clock]; f.Clock != "" && !ok {
		errs["clock"] = "Select a clock from the list"
	}
	if !slices.ContainsFunc(overdueSorts, func(o option) bool { return o.Value == f.Sort }) {
		f.Sort = "most_overdue"
	}
	return f, errs
}

// sqlQuery is the filter as the database's query, page aside: min_days becomes a bound on the
// due time in England's calendar, so that the filter is in SQL and sees every overdue clock.
func (f overdueFilter) sqlQuery(now time.Time) sgsql.OverdueQuery {
	q := sgsql.OverdueQuery{Organisation: f.Organisation, Stage: f.Stage, Clock: f.Clock, MinStep: f.Step, Sort: f.Sort}
	if f.MinDays > 0 {
		q.DueBefore, q.SkipDueFrom, q.SkipDueTo = england.OverdueBound(now, f.MinDays)
	}
	return q
}

// query is the filter as a query string, with page p (0: none).
func (f overdueFilter) query(p int) string {
	q := url.Values{}
	for k, v := range map[string]string{"organisation": f.Organisation, "stage": f.Stage, "clock": f.Clock, "sort": f.Sort} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.MinDays > 0 {
		q.Set("min_days", strconv.Itoa(f.MinDays))
	}
	if f.Step > 0 {
		q.Set("step", strconv.Itoa(f.Step))
	}
	if p > 0 {
		q.Set("page", strconv.Itoa(p))
	}
	return q.Encode()
}

type overduePage struct {
	Rows                  []overdueView
	Total, From, To, Page int
	More                  bool // more than Total: counting stopped there
	Prev, Next            string
	CSV, CSVAll           string
	Stages, Clocks, Sorts []option
}

type overdueView struct {
	overdueRow
	ClockLabel, Late string
}

// overduePageHandler is GET /overdue (managers, auditors) and, as CSV, GET /overdue.csv with
// the same filters: the CSV holds exactly the rows the page shows (or, with all=1, every page
// of them), read by the API's own query.
func (s *Server) overdueAudit(w http.ResponseWriter, r *http.Request) {
	f, errs := parseOverdueFilter(r.URL.Query())
	csvOut := strings.HasSuffix(r.URL.Path, ".csv")
	if len(errs) > 0 && csvOut {
		s.webError(w, r, safeguard.FieldErrors(errs))
		return
	}
	if csvOut && r.URL.Query().Get("all") == "1" {
		q := f.sqlQuery(s.Now())
		if err := s.streamOverdue(w, r, q, func() { startOverdueCSV(w) }, func(_ int, o overdueRow) error { return writeOverdueCSVRow(w, o) }); err != nil {
			s.webError(w, r, err)
		}
		return
	}
	scope, now, err := s.overdueRead(r)
	if err != nil {
		s.webError(w, r, err)
		return
	}
	q := f.sqlQuery(now)
	// The total is counted only so far past this page: at national scale there may be hundreds of
	// thousands, and the page says "more than" rather than read them all on every request.
	countTo := (f.Page-1)*overduePageSize + overdueCountAhead
	total, err := s.DB.OverdueCount(r.Context(), scope, now, q, countTo+1)
	more := total > countTo
	total = min(total, countTo)
	var page []sgsql.OverdueClock
	if err == nil {
		q.Limit, q.Offset = overduePageSize, (f.Page-1)*overduePageSize
		page, err = s.DB.OverdueList(r.Context(), scope, now, q)
	}
	s.audit(r, "read_overdue", "", err)
	if err != nil {
		s.webError(w, r, unavailable(err))
		return
	}
	rows := make([]overdueRow, len(page))
	for i, o := range page {
		rows[i] = overdueRowOf(o, now)
	}
	from := min((f.Page-1)*overduePageSize, total)
	to := min(from+len(rows), total)
	if csvOut {
		startOverdueCSV(w)
		for _, o := range rows {
			writeOverdueCSVRow(w, o)
		}
		return
	}
	v := overduePage{Total: total, More: more, From: from + 1, To: to, Page: f.Page, Sorts: overdueSorts,
		CSV: "/overdue.csv?" + f.query(f.Page), CSVAll: "/overdue.csv?" + f.query(0) + "&all=1"}
	if total == 0 {
		v.From = 0
	}
	for _, st := range safeguard.Stages {
		v.Stages = append(v.Stages, option{Value: string(st), Label: words(string(st))})
	}
	for _, name := range []string{safeguard.ClockLAAcknowledgement, safeguard.ClockTriageDecision, safeguard.ClockLAContribution,
		safeguard.ClockEnquiryCompletion, safeguard.ClockClosureSignoff, safeguard.ClockHandoverAcknowledgement} {
		v.Clocks = append(v.Clocks, option{Value: name, Label: clockNames[name]})
	}
	for _, o := range rows {
		late, _, _ := dueInWords(o.Due, now)
		v.Rows = append(v.Rows, overdueView{overdueRow: o, ClockLabel: clockNames[o.Clock], Late: late})
	}
	if f.Page > 1 {
		v.Prev = "/overdue?" + f.query(f.Page-1)
	}
	if to < total {
		v.Next = "/overdue?" + f.query(f.Page+1)
	}
	form := &Form{Values: r.URL.Query(), Errors: errs, Order: []string{"organisation", "stage", "clock", "min_days", "step", "sort"}}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "overdue", View{Title: "Overdue audit", Nav: "overdue", Data: v, Form: form})
}

// staticPage serves a page with no data of its own (accessibility statement, privacy notice),
// signed in or not.
func (s *Server) staticPage(page, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := View{Title: title, Nav: page}
		if u, err := s.sessionUser(r); err == nil {
			v.User = u
		}
		s.render(w, r, http.StatusOK, page, v)
	}
}
