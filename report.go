package safeguard

import (
	"slices"
	"strings"
	"time"
)

// Reporting for managers: the Safeguarding Adults Collection (SAC) return, performance against
// timescales and the overdue audit. This file holds what the reports mean — the SAC's
// categories, how the service's own fields map onto them, and the reporting period — so that
// the SQL that counts and the HTTP that answers share one definition (docs/reports.md has the
// mapping table).

// The reports' actions, decided in Authorize like every other (access.go).
const (
	// ActionReadPerformance is performance against timescales and the overdue audit; managers
	// see their organisation's, the auditor all.
	ActionReadPerformance Action = "read_performance"
	// ActionReadEvidence is one concern's evidence bundle: its managers and the auditor.
	ActionReadEvidence Action = "read_evidence"
)

// Ethnicities are the NHS Data Dictionary ethnic categories (the 2001 Census groups the SAC
// uses), as JSON values. The SAC reports them in the broad groups of EthnicGroup.
var Ethnicities = []string{
	"white_british", "white_irish", "white_other",
	"mixed_white_black_caribbean", "mixed_white_black_african", "mixed_white_asian", "mixed_other",
	"asian_indian", "asian_pakistani", "asian_bangladeshi", "asian_other",
	"black_caribbean", "black_african", "black_other",
	"chinese", "other", "refused", "not_known",
}

// Genders are the SAC's values for gender (SG1).
var Genders = []string{"male", "female", "other", "not_known"}

// CapacityAnswers say whether the adult lacked capacity to make decisions about the
// safeguarding process (SG3): yes, no, or not known.
var CapacityAnswers = []string{"yes", "no", "not_known"}

// AdvocacySupport is who supported an adult who lacked capacity (SG3).
var AdvocacySupport = []string{"advocate", "family_or_friend", "none", "not_known"}

// EthnicGroup maps an NHS ethnic category onto the broad group the SAC counts; an empty
// (unrecorded) value is "undeclared_not_known".
func EthnicGroup(e string) string {
	switch {
	case e == "refused":
		return "refused"
	case e == "" || e == "not_known":
		return "undeclared_not_known"
	case strings.HasPrefix(e, "white_"):
		return "white"
	case strings.HasPrefix(e, "mixed_"):
		return "mixed_multiple"
	case strings.HasPrefix(e, "asian_"):
		return "asian_asian_british"
	case strings.HasPrefix(e, "black_"):
		return "black_african_caribbean_black_british"
	default: // chinese, other: the SAC's "Other ethnic group"
		return "other_ethnic_group"
	}
}

// AgeBand is the SAC age band (SG1) of someone born on dob (YYYY-MM-DD) at time at, judged on
// the calendar date in loc. It returns "not_known" for a date that does not parse.
func AgeBand(dob string, at time.Time, loc *time.Location) string {
	born, err := time.Parse(dateLayout, dob)
	if err != nil {
		return "not_known"
	}
	y, m, d := at.In(loc).Date()
	age := y - born.Year()
	if m < born.Month() || (m == born.Month() && d < born.Day()) {
		age--
	}
	switch {
	case age < 65:
		return "18-64"
	case age < 75:
		return "65-74"
	case age < 85:
		return "75-84"
	case age < 95:
		return "85-94"
	default:
		return "95+"
	}
}

// supportReasonOrder is the precedence that picks one primary support reason from the several
// needs a raise may record: the need that most limits the adult's ability to protect
// themselves comes first. older_age counts as physical support (frailty), other as social
// support; autism alone is not a support reason in the SAC (it is counted on its own).
var supportReasonOrder = []struct{ need, reason string }{
	{"learning_disability", "learning_disability"},
	{"mental_health", "mental_health"},
	{"memory_cognition", "memory_and_cognition"},
	{"sensory", "sensory"},
	{"physical", "physical"},
	{"older_age", "physical"},
	{"other", "social_support"},
}

// PrimarySupportReason maps the recorded support needs onto the SAC's one primary support
// reason (SG1): "no_support_reason" when none is recorded, "not_known" when only autism is.
func PrimarySupportReason(needs []string) string {
	for _, o := range supportReasonOrder {
		if slices.Contains(needs, o.need) {
			return o.reason
		}
	}
	if slices.Contains(needs, "autism") {
		return "not_known"
	}
	return "no_support_reason"
}

// MSPAsked is Making Safeguarding Personal at the start (SG4): whether the adult was asked what
// outcomes they want, and whether they expressed any.
func MSPAsked(d *DesiredOutcomes) string {
	switch {
	case d == nil || d.Asked == nil || !*d.Asked:
		return "not_asked"
	case strings.TrimSpace(d.Outcomes) == "":
		return "asked_none_expressed"
	default:
		return "asked_outcomes_expressed"
	}
}

// ReportFacts are the reporting columns of one concern, derived when it is raised: the SAC
// categories of the adult and the risk, fixed at raising so that a later transfer or change of
// reference data does not move the concern in a return already made.
type ReportFacts struct {
	AgeBand        string
	Gender         string
	Ethnicity      string // the NHS category as recorded ("" if not)
	SupportReason  string
	Autism         bool
	LocationOfRisk string
	SourceOfRisk   string
	LackedCapacity string
	Advocacy       string
	MSPAsked       string
}

// Facts derives a raise's reporting columns; at is the raising time, loc where ages are judged.
func (r *Raise) Facts(at time.Time, loc *time.Location) ReportFacts {
	f := ReportFacts{LocationOfRisk: r.LocationOfRisk, SourceOfRisk: r.SourceOfRisk,
		LackedCapacity: r.LackedCapacity, Advocacy: r.Advocacy, MSPAsked: MSPAsked(r.DesiredOutcomes)}
	if s := r.Subject; s != nil {
		f.AgeBand = AgeBand(s.DateOfBirth, at, loc)
		f.Gender, f.Ethnicity = s.Gender, s.Ethnicity
		f.SupportReason = PrimarySupportReason(s.SupportNeeds)
		f.Autism = slices.Contains(s.SupportNeeds, "autism")
	}
	if f.Gender == "" {
		f.Gender = "not_known"
	}
	if f.LackedCapacity == "" {
		f.LackedCapacity = "not_known"
	}
	if f.Advocacy == "" {
		f.Advocacy = "not_known"
	}
	return f
}

// SACLocation maps a location of risk onto the SAC's (SG2b): the return has no custody value,
// so custody is "other".
func SACLocation(l string) string {
	if l == "custody" {
		return "other"
	}
	return l
}

// RiskFindings are the answers to "was a risk found?" when an enquiry's findings are recorded
// (SG2c): the last is the return's "enquiry ceased at the individual's request".
var RiskFindings = []string{"identified", "inconclusive", "not_identified", "ceased_at_request"}

// ActionAndResult is the SG2c cell of a concluded enquiry: the risk found, and whether action
// was taken.
func ActionAndResult(risk string, actionTaken bool) string {
	prefix := map[string]string{"identified": "risk_identified", "inconclusive": "inconclusive", "not_identified": "no_risk_identified",
		"ceased_at_request": "ceased_at_request"}[risk]
	if prefix == "" {
		prefix = "not_recorded"
	}
	if actionTaken {
		return prefix + "_action_taken"
	}
	return prefix + "_no_action"
}

// SACCell is one count of the SAC-aligned report: table (SG1, SG2a, …, custody), measure
// within it, the value counted, and how many.
type SACCell struct {
	Table   string `json:"table"`
	Measure string `json:"measure"`
	Value   string `json:"value"`
	Count   int    `json:"count"`
}

// SACMeasure is one measure of the return with every value it counts, in the return's order.
// Basis says which concerns it counts: "raised" in the period, or "concluded" (findings
// recorded) in the period.
type SACMeasure struct {
	Table, Measure, Basis string
	Values                []string
}

// SACMeasures is the shape of the return: every cell is present, zeros included.
var SACMeasures = []SACMeasure{
	{"SG1", "age_band", "raised", []string{"18-64", "65-74", "75-84", "85-94", "95+", "not_known"}},
	{"SG1", "gender", "raised", Genders},
	{"SG1", "ethnicity", "raised", []string{"white", "mixed_multiple", "asian_asian_british", "black_african_caribbean_black_british", "other_ethnic_group", "refused", "undeclared_not_known"}},
	{"SG1", "primary_support_reason", "raised", []string{"physical", "sensory", "memory_and_cognition", "learning_disability", "mental_health", "social_support", "no_support_reason", "not_known"}},
	{"SG1", "autism", "raised", []string{"yes", "no", "not_known"}},
	{"SG2a", "type_of_risk", "raised", categoryStrings()},
	{"SG2b", "location_of_risk", "raised", []string{"own_home", "community", "community_service", "care_home_nursing", "care_home_residential", "hospital_acute", "hospital_mental_health", "hospital_community", "other"}},
	{"SG2b", "source_of_risk", "raised", SourcesOfRisk},
	{"SG2c", "action_and_result", "concluded", []string{"risk_identified_action_taken", "risk_identified_no_action", "inconclusive_action_taken", "inconclusive_no_action", "no_risk_identified_action_taken", "no_risk_identified_no_action", "ceased_at_request_action_taken", "ceased_at_request_no_action"}},
	{"SG2c", "risk_outcome", "concluded", []string{"removed", "reduced", "remains"}},
	{"SG3", "lacked_capacity", "raised", CapacityAnswers},
	{"SG3", "support_if_lacked_capacity", "raised", AdvocacySupport},
	{"SG4", "outcomes_asked", "raised", []string{"asked_outcomes_expressed", "asked_none_expressed", "not_asked"}},
	{"SG4", "outcomes_achieved", "concluded", []string{"fully", "partially", "not_achieved"}},
	{"SG5", "review_referral", "concluded", []string{"referred", "not_referred", "not_recorded"}},
}

// CustodyRoutes are the custody breakdown's columns for each establishment where concerns were
// raised: how many, and where each went — still led by the prison, handed over (an LA-led s.42
// enquiry or release), or closed at triage with no further action; transferred counts those
// now owned by another establishment (they stay counted where they were raised).
var CustodyRoutes = []string{"raised", "prison_led", "handed_over", "no_further_action", "transferred_out"}

func categoryStrings() []string {
	out := make([]string, len(Categories))
	for i, c := range Categories {
		out[i] = string(c)
	}
	return out
}

// Period is a reporting period of whole days in England: From 00:00 to the end of To,
// Europe/London time. Start and End are the instants that bound it (End exclusive).
type Period struct {
	From, To   string
	Start, End time.Time
}

// ParsePeriod reads a report's from and to (YYYY-MM-DD, both included) in loc, or returns an
// EINVALID error naming each bad field.
func ParsePeriod(from, to string, loc *time.Location) (Period, error) {
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	fields := map[string]string{}
	parse := func(name, v string) time.Time {
		if v == "" {
			fields[name] = "is required: a date in the form YYYY-MM-DD"
			return time.Time{}
		}
		t, err := time.ParseInLocation(dateLayout, v, loc)
		if err != nil {
			fields[name] = "must be a date in the form YYYY-MM-DD"
		}
		return t
	}
	start, end := parse("from", from), parse("to", to)
	if len(fields) == 0 {
		switch {
		case start.After(end):
			fields["to"] = "must be on or after from"
		case start.Year() < 2000 || end.Year() > 2100:
			fields["from"] = "the period must lie between 2000 and 2100"
		case end.Sub(start) > 5*366*24*time.Hour:
			fields["to"] = "the period must be at most five years"
		}
	}
	if len(fields) > 0 {
		return Period{}, FieldErrors(fields)
	}
	return Period{From: from, To: to, Start: start, End: end.AddDate(0, 0, 1)}, nil
}

// Months splits the period into calendar months (the first and last may be partial), for
// trends.
func (p Period) Months() []Period {
	var out []Period
	for s := p.Start; s.Before(p.End); {
		next := time.Date(s.Year(), s.Month()+1, 1, 0, 0, 0, 0, s.Location())
		e := next
		if e.After(p.End) {
			e = p.End
		}
		out = append(out, Period{From: s.Format(dateLayout), To: e.AddDate(0, 0, -1).Format(dateLayout), Start: s, End: e})
		s = next
	}
	return out
}

// AgeingBucket is how long a clock has been overdue, in working days, in the overdue audit's
// buckets.
func AgeingBucket(workingDaysOverdue int) string {
	switch {
	case workingDaysOverdue <= 2:
		return "0-2"
	case workingDaysOverdue <= 5:
		return "3-5"
	case workingDaysOverdue <= 10:
		return "6-10"
	default:
		return ">10"
	}
}

// AgeingBuckets are the overdue audit's buckets in order.
var AgeingBuckets = []string{"0-2", "3-5", "6-10", ">10"}

// Percentile returns the p-th percentile (0 < p <= 100) of a histogram of whole numbers
// (value -> how many), by the nearest-rank method: the smallest value with at least p% of the
// observations at or below it. It returns -1 for an empty histogram.
func Percentile(hist map[int]int, p int) int {
	total := 0
	keys := make([]int, 0, len(hist))
	for k, n := range hist {
		total += n
		keys = append(keys, k)
	}
	if total == 0 {
		return -1
	}
	slices.Sort(keys)
	rank := (total*p + 99) / 100 // ceil(total * p / 100)
	if rank < 1 {
		rank = 1
	}
	seen := 0
	for _, k := range keys {
		seen += hist[k]
		if seen >= rank {
			return k
		}
	}
	return keys[len(keys)-1]
}

// SACReport is the SAC-aligned return for a period and a scope: every cell of SACMeasures
// (zeros included) and the custody breakdown by the establishment where each concern was
// raised. Scope is "national" for the auditor, otherwise the local authority's code.
type SACReport struct {
	From      string    `json:"from"`
	To        string    `json:"to"`
	Scope     string    `json:"scope"`
	Raised    int       `json:"concerns_raised"`
	Concluded int       `json:"enquiries_concluded"`
	Cells     []SACCell `json:"-"`
}

// NewSACReport is an empty report of the return's shape: every cell at zero.
func NewSACReport(p Period, scope string) *SACReport {
	r := &SACReport{From: p.From, To: p.To, Scope: scope}
	for _, m := range SACMeasures {
		for _, v := range m.Values {
			r.Cells = append(r.Cells, SACCell{Table: m.Table, Measure: m.Measure, Value: v})
		}
	}
	return r
}

// Add counts n more in a cell; a value outside the measure's list is a bug in the mapping and
// is kept visibly rather than dropped.
func (r *SACReport) Add(table, measure, value string, n int) {
	for i := range r.Cells {
		if c := &r.Cells[i]; c.Table == table && c.Measure == measure && c.Value == value {
			c.Count += n
			return
		}
	}
	r.Cells = append(r.Cells, SACCell{Table: table, Measure: measure, Value: value, Count: n})
}

// Tables is the report's cells nested as table -> measure -> value -> count, for JSON.
func (r *SACReport) Tables() map[string]map[string]map[string]int {
	out := map[string]map[string]map[string]int{}
	for _, c := range r.Cells {
		if out[c.Table] == nil {
			out[c.Table] = map[string]map[string]int{}
		}
		if out[c.Table][c.Measure] == nil {
			out[c.Table][c.Measure] = map[string]int{}
		}
		out[c.Table][c.Measure][c.Value] += c.Count
	}
	return out
}

// TimescaleKey names one cell of performance against timescales: a month ("YYYY-MM", or "all"
// for the whole period), a clock, and the organisation responsible for meeting it ("all" for
// every organisation in scope).
type TimescaleKey struct{ Month, Clock, Org string }

// TimescaleTally is what is counted for a cell: how many clocks were met on time, and a
// histogram of the working days each took to meet (value -> how many).
type TimescaleTally struct {
	OnTime int
	Days   map[int]int
}

// TimescaleRow is one line of performance against timescales. Time to meet is in whole working
// days (England and Wales) from the clock's start to its being met, leaving out time paused;
// the share on time is of the clocks met in the month, met by their due time.
type TimescaleRow struct {
	Month             string  `json:"month"`
	Clock             string  `json:"clock"`
	Organisation      string  `json:"organisation"`
	Met               int     `json:"met"`
	MetOnTime         int     `json:"met_on_time"`
	ShareOnTime       float64 `json:"share_on_time"`
	MedianWorkingDays int     `json:"median_working_days"`
	P90WorkingDays    int     `json:"p90_working_days"`
}

// ClockNames lists the clocks in the order DESIGN.md gives them.
var ClockNames = []string{ClockLAAcknowledgement, ClockTriageDecision, ClockLAContribution, ClockEnquiryCompletion, ClockClosureSignoff, ClockHandoverAcknowledgement}

// SummariseTimescales turns tallies by (month, clock, organisation) into rows, adding the
// roll-ups over organisations ("all") and over the period ("all"), ordered by clock, month
// and organisation.
func SummariseTimescales(t map[TimescaleKey]*TimescaleTally) []TimescaleRow {
	all := map[TimescaleKey]*TimescaleTally{}
	add := func(k TimescaleKey, v *TimescaleTally) {
		a := all[k]
		if a == nil {
			a = &TimescaleTally{Days: map[int]int{}}
			all[k] = a
		}
		a.OnTime += v.OnTime
		for d, n := range v.Days {
			a.Days[d] += n
		}
	}
	for k, v := range t {
		add(k, v)
		add(TimescaleKey{k.Month, k.Clock, "all"}, v)
		add(TimescaleKey{"all", k.Clock, k.Org}, v)
		add(TimescaleKey{"all", k.Clock, "all"}, v)
	}
	rows := make([]TimescaleRow, 0, len(all))
	for k, v := range all {
		met := 0
		for _, n := range v.Days {
			met += n
		}
		r := TimescaleRow{Month: k.Month, Clock: k.Clock, Organisation: k.Org, Met: met, MetOnTime: v.OnTime,
			MedianWorkingDays: Percentile(v.Days, 50), P90WorkingDays: Percentile(v.Days, 90)}
		if met > 0 {
			r.ShareOnTime = float64(int(float64(v.OnTime)/float64(met)*10000+0.5)) / 10000
		}
		rows = append(rows, r)
	}
	order := func(s string) int {
		if i := slices.Index(ClockNames, s); i >= 0 {
			return i
		}
		return len(ClockNames)
	}
	slices.SortFunc(rows, func(a, b TimescaleRow) int {
		if c := order(a.Clock) - order(b.Clock); c != 0 {
			return c
		}
		if c := strings.Compare(a.Month, b.Month); c != 0 { // "all" sorts after every YYYY-MM
			return c
		}
		if a.Organisation == "all" || b.Organisation == "all" {
			return boolCmp(a.Organisation == "all", b.Organisation == "all")
		}
		return strings.Compare(a.Organisation, b.Organisation)
	})
	return rows
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Escalation is one rung of a clock's ladder that fired: which step, when, and who was told,
// by organisation and role — never a person's name or address.
type Escalation struct {
	Reference  string     `json:"reference"`
	Clock      string     `json:"clock"`
	ClockID    string     `json:"clock_id"`
	Step       int        `json:"step"` // 1-based rung
	At         time.Time  `json:"at"`
	Notified   []Notified `json:"notified"`
	Recipients int        `json:"recipients"`
}

// Notified is who a rung told: an organisation and which of its people (its safeguarding
// inbox, the assignee, its managers).
type Notified struct {
	Organisation string `json:"organisation"`
	Role         string `json:"role"`
}

// NotifiedOf maps a ladder's targets (policy.Target values) onto organisations and roles:
// org is the organisation responsible for the clock, partner the other side.
func NotifiedOf(targets []string, org, partner string) []Notified {
	out := []Notified{}
	for _, t := range targets {
		switch t {
		case "responsible_inbox":
			out = append(out, Notified{org, "safeguarding_inbox"})
		case "assignee":
			out = append(out, Notified{org, "assignee"})
		case "responsible_managers":
			out = append(out, Notified{org, "managers"})
		case "partner_managers":
			out = append(out, Notified{partner, "managers"})
		}
	}
	return out
}

// OverdueGroup is one cell of the overdue audit: how many clocks of one kind, owed by one
// organisation at one stage, are in one ageing bucket (or, for clocks at risk, due within the
// next working day: bucket "at_risk").
type OverdueGroup struct {
	Organisation string `json:"organisation" db:"org_code"`
	Stage        string `json:"stage" db:"stage"`
	Clock        string `json:"clock" db:"name"`
	Bucket       string `json:"ageing" db:"bucket"`
	Count        int    `json:"count" db:"n"`
}

// EvidenceMail is one message the service wrote to its outbox about a concern: to whom, when
// it was written and sent, what became of it, and the ladder step it belongs to ("" for a
// message an action sent).
type EvidenceMail struct {
	Key       string     `json:"key" db:"key"`
	Recipient string     `json:"recipient" db:"recipient"`
	Subject   string     `json:"subject" db:"subject"`
	Status    string     `json:"status" db:"status"`
	CreatedAt time.Time  `json:"created_at" db:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty" db:"sent_at"`
	Clock     string     `json:"clock,omitempty" db:"-"`
	Step      int        `json:"step,omitempty" db:"-"` // 1-based ladder rung
}

// EvidenceAccess is one row of the concern's audit trail with the hash chain fields that prove
// it unaltered (docs/audit.md): the row's hash and the hash of the row before it.
type EvidenceAccess struct {
	Seq      int64     `json:"seq" db:"id"`
	At       time.Time `json:"at" db:"at"`
	UserID   *int64    `json:"user_id,omitempty" db:"user_id"`
	UserRole string    `json:"user_role,omitempty" db:"user_role"`
	UserOrg  string    `json:"user_organisation,omitempty" db:"user_org"`
	Action   string    `json:"action" db:"action"`
	Outcome  string    `json:"outcome" db:"outcome"`
	Remote   string    `json:"remote,omitempty" db:"remote"`
	Flagged  bool      `json:"flagged,omitempty" db:"flagged"`
	PrevHash string    `json:"prev_hash" db:"prev_hash"`
	Hash     string    `json:"hash" db:"hash"`
}

// EvidenceBundle is everything the service holds about what was done on one concern and when,
// for an inquest or an Ombudsman review: the concern with its chronology, clocks and
// contributions, the ladder steps that fired, every message from the outbox, and the access
// log with its audit hashes.
type EvidenceBundle struct {
	GeneratedAt time.Time        `json:"generated_at"`
	Concern     *Concern         `json:"concern"`
	Escalations []Escalation     `json:"escalations"`
	Mail        []EvidenceMail   `json:"mail"`
	AccessLog   []EvidenceAccess `json:"access_log"`
}
