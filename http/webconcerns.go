package http

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/safeguard-project/safeguard"
)

// The raise form, the concern page and its action forms. Each calls what the API calls
// (Server.raise, readConcern, authorizeAction, perform): the web adds forms and words, never
// rules.

// raisePage is what the raise form shows besides the form's own state.
type raisePage struct {
	Categories, SupportNeeds, Locations, Sources   []option
	Genders, Ethnicities, LackedCapacity, Advocacy []option
}

var categoryOptions = []option{
	{"physical", "Physical", "Hitting, pushing, rough handling, restraint or force used wrongly, misuse of medication."},
	{"domestic", "Domestic", "Abuse by a partner, former partner or family member, including coercive control; it can go on through visits, calls and letters."},
	{"sexual", "Sexual", "Sexual acts or contact the adult did not or could not consent to, including rape, indecent exposure and sexual harassment."},
	{"sexual_exploitation", "Sexual exploitation", "Being coerced or manipulated into sexual activity in return for something, such as protection, goods or debt. Counted separately in the national return."},
	{"psychological", "Psychological", "Threats, intimidation, humiliation, bullying, isolation or controlling behaviour."},
	{"financial", "Financial or material", "Theft, fraud, being pressured over money, canteen or property, or misuse of benefits."},
	{"modern_slavery", "Modern slavery", "Trafficking, forced labour, servitude or debt bondage."},
	{"discriminatory", "Discriminatory", "Harassment or ill treatment because of age, disability, race, religion, sex, sexual orientation or gender reassignment."},
	{"organisational", "Organisational", "Poor care or neglect that comes from the regime, routines or practice of the establishment, once or over time."},
	{"neglect", "Neglect and acts of omission", "Care needs not met by others: medication, food, personal care, aids and adaptations, access to healthcare."},
	{"self_neglect", "Self-neglect", "The adult not caring for their own hygiene, health or surroundings, including hoarding."},
}

var supportNeedOptions = []option{
	{"learning_disability", "Learning disability", ""},
	{"autism", "Autism", ""},
	{"mental_health", "Mental health", ""},
	{"physical", "Physical", ""},
	{"sensory", "Sensory", "Sight or hearing loss."},
	{"memory_cognition", "Memory and cognition", "Such as dementia."},
	{"older_age", "Needs that come with older age", ""},
	{"other", "Other", ""},
}

var locationOptions = []option{
	{"custody", "In custody (this establishment)", "Reported as \"other\" in the national return, which has no custody value."},
	{"own_home", "Own home", ""},
	{"community", "In the community", ""},
	{"community_service", "In a community service", ""},
	{"care_home_nursing", "Care home (nursing)", ""},
	{"care_home_residential", "Care home (residential)", ""},
	{"hospital_acute", "Hospital (acute)", ""},
	{"hospital_mental_health", "Hospital (mental health)", ""},
	{"hospital_community", "Hospital (community)", ""},
	{"other", "Somewhere else", ""},
}

var sourceOptions = []option{
	{"service_provider", "A service provider", "Someone paid to care for or work with the adult, including staff of the establishment."},
	{"other_known", "Someone else known to the adult", "Such as another prisoner, a family member or a visitor."},
	{"other_unknown", "Someone unknown to the adult", ""},
}

func newRaisePage() raisePage {
	p := raisePage{Categories: categoryOptions, SupportNeeds: supportNeedOptions, Locations: locationOptions, Sources: sourceOptions,
		LackedCapacity: []option{{"yes", "Yes, they lacked capacity", ""}, {"no", "No", ""}, {"not_known", "Not known", ""}},
		Advocacy: []option{{"advocate", "An independent advocate", ""}, {"family_or_friend", "Family or a friend", ""},
			{"none", "No one", ""}, {"not_known", "Not known", ""}}}
	for _, g := range safeguard.Genders {
		p.Genders = append(p.Genders, option{Value: g, Label: words(g)})
	}
	for _, e := range safeguard.Ethnicities {
		p.Ethnicities = append(p.Ethnicities, option{Value: e, Label: ethnicityLabel(e)})
	}
	return p
}

// ethnicityLabel words an ethnic category code ("mixed_white_asian": "Mixed: White and Asian").
func ethnicityLabel(code string) string {
	group, rest, _ := strings.Cut(code, "_")
	switch code {
	case "chinese", "other", "refused", "not_known":
		return map[string]string{"chinese": "Chinese", "other": "Any other ethnic group", "refused": "Prefers not to say", "not_known": "Not known"}[code]
	}
	rest = strings.ReplaceAll(rest, "_", " ")
	if group == "mixed" && strings.HasPrefix(rest, "white ") {
		rest = "White and " + sentence(strings.TrimPrefix(rest, "white "))
	}
	return sentence(group) + ": " + sentence(rest)
}

// raiseForm is GET /concerns/new.
func (s *Server) raiseForm(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if err := safeguard.Authorize(u, safeguard.ActionRaise, nil); err != nil {
		s.webError(w, r, err)
		return
	}
	form := &Form{Values: url.Values{"establishment": {u.OrgCode}, "idempotency_key": {formKey()}}}
	s.render(w, r, http.StatusOK, "raise", View{Title: "Raise a concern", Nav: "raise", Data: newRaisePage(), Form: form})
}

// raiseSubmit is POST /concerns/new: the raise body from the form, raised as the API raises it,
// with the form's hidden key as the Idempotency-Key. A refusal shows the form again, with
// everything typed kept and each error explained; success goes to the concern's page.
func (s *Server) raiseSubmit(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if err := safeguard.Authorize(u, safeguard.ActionRaise, nil); err != nil {
		s.audit(r, "raise", "", err)
		s.webError(w, r, err)
		return
	}
	values, err := readForm(w, r)
	if err != nil {
		s.webError(w, r, err)
		return
	}
	if values.Get("idempotency_key") == "" {
		values.Set("idempotency_key", formKey())
	}
	raise := raiseFromForm(values)
	c, err := s.raise(r, u, &raise, values.Get("idempotency_key"))
	if err == nil {
		http.Redirect(w, r, "/concerns/"+c.Reference, http.StatusSeeOther)
		return
	}
	if safeguard.ErrorCode(err) == safeguard.EFORBIDDEN {
		err = safeguard.FieldErrors(map[string]string{"establishment": "must be your own establishment, " + u.OrgCode + ": you raise concerns only for it"})
	}
	fields, ok := formErrors(err, "")
	if !ok {
		s.webError(w, r, err)
		return
	}
	form := &Form{Values: values, Errors: fields, Order: append([]string{""}, raiseFields...)}
	s.render(w, r, http.StatusUnprocessableEntity, "raise", View{Title: "Raise a concern", Nav: "raise", Data: newRaisePage(), Form: form})
}

// clockNames say what each clock waits for.
var clockNames = map[string]string{
	safeguard.ClockLAAcknowledgement:       "Acknowledgement by the host local authority",
	safeguard.ClockTriageDecision:          "Triage decision",
	safeguard.ClockLAContribution:          "Advice from the organisation asked",
	safeguard.ClockEnquiryCompletion:       "Enquiry findings",
	safeguard.ClockClosureSignoff:          "Closure sign-off by a prison manager",
	safeguard.ClockHandoverAcknowledgement: "Acknowledgement of the handover",
}

// clockView is a clock as the pages show it: what it waits for, and where it stands in words
// (never colour alone).
type clockView struct {
	safeguard.Clock
	Label  string
	Status string // "Due in 3 working days", "Overdue by 2 working days", "Met"
	Tag    string // the tag's words
	Class  string // the tag's colour, repeating the words
}

func viewClock(k safeguard.Clock, now time.Time) clockView {
	v := clockView{Clock: k, Label: clockNames[k.Name]}
	if v.Label == "" {
		v.Label = humanField(k.Name)
	}
	switch k.State {
	case safeguard.ClockRunning, safeguard.ClockBreached:
		v.Status, v.Tag, v.Class = dueInWords(k.Due, now)
	case safeguard.ClockPaused:
		v.Status, v.Tag, v.Class = "Paused: the deadline does not count while the concern is paused", "Paused", "tag--grey"
	case safeguard.ClockMet:
		// The tag says "Done"; the words beside it say when, rather than "Done" again.
		v.Status, v.Tag, v.Class = "", "Done", "tag--green"
		if k.Ended != nil {
			v.Status = "on " + k.Ended.In(london).Format("2 January 2006 at 15:04")
		}
	default:
		v.Status, v.Tag, v.Class = "Stopped: no longer needed", "Stopped", "tag--grey"
	}
	return v
}

// dueInWords says how long is left before due, or how late it is, in working days where a day
// or more.
func dueInWords(due, now time.Time) (status, tag, class string) {
	if due.After(now) {
		n := england.WorkingDaysBetween(now, due)
		switch {
		case n <= 0:
			return "Due today at " + due.In(london).Format("15:04"), "Due today", "tag--orange"
		case n == 1:
			return "Due in 1 working day", "Due soon", "tag--orange"
		default:
			return "Due in " + wdays(n) + " working days", "Open", "tag"
		}
	}
	n := england.WorkingDaysBetween(due, now)
	switch {
	case n <= 0:
		return "Overdue since " + due.In(london).Format("15:04") + " today", "Overdue", "tag--red"
	case n == 1:
		return "Overdue by 1 working day", "Overdue", "tag--red"
	default:
		return "Overdue by " + wdays(n) + " working days", "Overdue", "tag--red"
	}
}

// eventView is one timeline entry in words.
type eventView struct {
	At     time.Time
	Title  string
	Org    string
	Detail []detailItem
}

type detailItem struct{ Key, Value string }

// concernView is the concern page's data.
type concernView struct {
	C             *safeguard.Concern
	Clocks        []clockView
	Timeline      []eventView
	Offers        map[string]bool // action path -> offered to this user now
	AnyOffer      bool
	Key           string // the Idempotency-Key for the page's action forms
	Notice        string // what the last action did
	TriageOptions []option
	CareOptions   []option
	RiskOptions   []option
	OutcomeOpts   []option
	MSPOptions    []option
	Mine          *safeguard.Contribution // the open request to the user's organisation, if any
	// Evidence says the user may open the printable evidence bundle (Authorize decides).
	Evidence bool
}

var (
	triageOptions = []option{
		{"enquiry", "Start a prison-led enquiry", "The three tests are met: care and support needs, abuse or neglect or the risk of it, and because of those needs the adult cannot protect themselves."},
		{"no_further_action", "No further action", "Say which test is not met and what is done instead (advice, signposting, a care assessment)."},
		{"refer_to_la", "Refer to the local authority for an s.42 enquiry", "The harm happened before custody or elsewhere: the local authority where it happened leads."},
	}
	careOptions = []option{
		{"needed", "A care and support assessment is needed", ""},
		{"not_needed", "No care and support assessment is needed", ""},
		{"in_place", "An assessment or care plan is already in place", ""},
	}
	riskOptions = []option{
		{"identified", "Risk identified", ""},
		{"inconclusive", "Inconclusive", ""},
		{"not_identified", "No risk identified", ""},
		{"ceased_at_request", "The enquiry ceased at the adult's request", "They asked for it to stop and had the capacity to decide; record any action taken before it stopped."},
	}
	outcomeOptions = []option{
		{"removed", "Risk removed", ""},
		{"reduced", "Risk reduced", ""},
		{"remains", "Risk remains", ""},
	}
	mspOptions = []option{
		{"fully", "Fully achieved", ""},
		{"partially", "Partially achieved", ""},
		{"not_achieved", "Not achieved", ""},
		{"not_asked", "The adult was not asked", ""},
	}
)

// concernPage is GET /concerns/{ref} for a browser.
func (s *Server) concernPage(w http.ResponseWriter, r *http.Request) {
	s.showConcern(w, r, http.StatusOK, nil, r.URL.Query().Get("done"))
}

// showConcern renders the concern page; form carries a failed action's state.
func (s *Server) showConcern(w http.ResponseWriter, r *http.Request, status int, form *Form, done string) {
	ref := mux.Vars(r)["ref"]
	c, inv, err := s.readConcern(r, ref, "")
	if err != nil {
		s.webError(w, r, err)
		return
	}
	u, now := userFrom(r.Context()), s.Now()
	v := concernView{C: c, Offers: offers(u, c, inv), TriageOptions: triageOptions, CareOptions: careOptions,
		RiskOptions: riskOptions, OutcomeOpts: outcomeOptions, MSPOptions: mspOptions}
	for _, ok := range v.Offers {
		v.AnyOffer = v.AnyOffer || ok
	}
	v.Evidence = safeguard.Authorize(u, safeguard.ActionReadEvidence, inv) == nil
	for _, k := range c.Clocks {
		v.Clocks = append(v.Clocks, viewClock(k, now))
	}
	for i := len(c.Timeline) - 1; i >= 0; i-- {
		v.Timeline = append(v.Timeline, viewEvent(c.Timeline[i]))
	}
	for i := range c.Contributions {
		if k := &c.Contributions[i]; k.Organisation == u.OrgCode && k.AnsweredAt == nil {
			v.Mine = k
		}
	}
	if form == nil {
		form = &Form{Values: url.Values{}}
	}
	v.Key = form.Get("idempotency_key")
	if v.Key == "" {
		v.Key = formKey()
	}
	if label, ok := doneNotices[done]; ok {
		v.Notice = label
	}
	s.render(w, r, status, "concern", View{Title: "Concern " + c.Reference, Data: v, Form: form})
}

// doneNotices confirm an action after the redirect back to the concern.
var doneNotices = map[string]string{
	"acknowledge": "You acknowledged the concern.", "triage": "Your triage decision is recorded.",
	"contribution-requests": "Your request for advice has been sent.", "contributions": "Your advice has been recorded and the prison told.",
	"findings": "The findings are recorded.", "close": "Closure is recorded.", "pause": "The concern is paused.",
	"resume": "The concern is resumed.", "transfer": "The transfer is recorded.", "release": "The release is recorded.",
	"reopen": "The concern is reopened.",
}

// offers says which actions the page offers the user: each one the access policy allows them
// on this concern, and which the concern's stage and running clocks make possible now. The
// workflow's validator still decides when the form is sent; an action it refuses comes back
// as a message on the page.
func offers(u *safeguard.User, c *safeguard.Concern, inv *safeguard.Involvement) map[string]bool {
	live := func(name, org string) bool {
		for _, k := range c.Clocks {
			if k.Name == name && (k.State == safeguard.ClockRunning || k.State == safeguard.ClockBreached) && (org == "" || k.Organisation == org) {
				return true
			}
		}
		return false
	}
	handover := live(safeguard.ClockHandoverAcknowledgement, "")
	working := (c.Stage == safeguard.StageEnquiry || c.Stage == safeguard.StageLAContribution) && !handover
	ended := c.Stage == safeguard.StageClosed || c.Stage == safeguard.StageNoFurtherAction
	possible := map[string]struct {
		action safeguard.Action
		now    bool
	}{
		"acknowledge":           {safeguard.ActionAcknowledge, live(safeguard.ClockLAAcknowledgement, u.OrgCode) || live(safeguard.ClockHandoverAcknowledgement, u.OrgCode)},
		"triage":                {safeguard.ActionTriage, c.Stage == safeguard.StageNotification},
		"contribution-requests": {safeguard.ActionRequestAdvice, working},
		"contributions":         {safeguard.ActionContribute, live(safeguard.ClockLAContribution, u.OrgCode)},
		"findings":              {safeguard.ActionFindings, working && live(safeguard.ClockEnquiryCompletion, "")},
		"close":                 {safeguard.ActionProposeClosure, working && !live(safeguard.ClockEnquiryCompletion, "") && !live(safeguard.ClockClosureSignoff, "")},
		"sign-off":              {safeguard.ActionSignOffClosure, live(safeguard.ClockClosureSignoff, "")},
		"pause":                 {safeguard.ActionPause, working},
		"resume":                {safeguard.ActionResume, c.Stage == safeguard.StagePaused},
		"transfer":              {safeguard.ActionTransfer, working},
		"release":               {safeguard.ActionRelease, working},
		"reopen":                {safeguard.ActionReopen, ended},
	}
	out := map[string]bool{}
	for path, p := range possible {
		out[path] = p.now && safeguard.Authorize(u, p.action, inv) == nil
	}
	return out
}

// webAct is POST /concerns/{ref}/{action} from the concern page's forms: the same policy
// question and the same Update as the API, then back to the concern (303), or the page again
// with the form's errors.
func (s *Server) webAct(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	ref, path := mux.Vars(r)["ref"], mux.Vars(r)["action"]
	action, err := s.authorizeAction(r, u, ref, strings.Replace(path, "sign-off", "close", 1))
	if err != nil {
		s.webError(w, r, err)
		return
	}
	values, err := readForm(w, r)
	if err != nil {
		s.webError(w, r, err)
		return
	}
	in := inputFromForm(values)
	_, err = s.perform(r, u, ref, action, in, values.Get("idempotency_key"))
	if err == nil {
		http.Redirect(w, r, "/concerns/"+ref+"?done="+url.QueryEscape(path), http.StatusSeeOther)
		return
	}
	fields, ok := formErrors(err, path+".")
	if !ok {
		s.webError(w, r, err)
		return
	}
	if msg, ok := fields[""]; ok {
		delete(fields, "")
		fields[path+"."] = msg
	}
	prefixed := url.Values{"idempotency_key": {values.Get("idempotency_key")}}
	for k, vs := range values {
		prefixed[path+"."+k] = vs
	}
	form := &Form{Values: prefixed, Errors: fields, Order: actionFieldOrder(path)}
	if path == "contributions" && r.URL.Query().Get("from") == "contribute" {
		s.showContribute(w, r, http.StatusUnprocessableEntity, form)
		return
	}
	s.showConcern(w, r, http.StatusUnprocessableEntity, form, "")
}

// inputFromForm reads an action form into the action body; the action reads its own fields.
func inputFromForm(v url.Values) safeguard.Input {
	in := safeguard.Input{
		Note: v.Get("note"), Decision: v.Get("decision"), Rationale: v.Get("rationale"), Organisation: v.Get("organisation"),
		Question: v.Get("question"), Advice: v.Get("advice"), CareAssessment: v.Get("care_assessment"), Risk: v.Get("risk"),
		ActionTaken: yesNo(v, "action_taken"), RiskOutcome: v.Get("risk_outcome"), SARReferral: yesNo(v, "sar_referral"), Summary: v.Get("summary"),
		MSPOutcomes: v.Get("msp_outcomes"), FeedbackGiven: yesNo(v, "feedback_given"), SendBack: v.Get("send_back") == "yes",
		Reason: v.Get("reason"), ToEstablish: v.Get("to_establishment"), ReceivingLA: v.Get("receiving_la"),
	}
	if d := dateFromParts(v, "release_date"); d != "" {
		in.ReleaseDate = d
	}
	return in
}

func actionFieldOrder(path string) []string {
	order := []string{path + "."}
	for _, f := range []string{"note", "decision", "rationale", "organisation", "question", "advice", "care_assessment", "risk", "action_taken",
		"risk_outcome", "sar_referral", "summary", "msp_outcomes", "feedback_given", "reason", "to_establishment", "receiving_la", "release_date"} {
		order = append(order, path+"."+f)
	}
	return order
}

// eventTitles say what each timeline entry records.
var eventTitles = map[string]string{
	"raised": "Concern raised", "acknowledged": "Acknowledged", "triaged": "Triage decision recorded",
	"contribution_requested": "Advice requested", "contributed": "Advice given", "findings_recorded": "Findings recorded",
	"closure_proposed": "Closure proposed", "closed": "Closed", "closure_sent_back": "Closure sent back",
	"paused": "Paused", "resumed": "Resumed", "transfer_started": "Transfer started", "release_notified": "Release recorded",
	"reopened": "Reopened", "handover_acknowledged": "Handover acknowledged",
}

func viewEvent(e safeguard.Event) eventView {
	v := eventView{At: e.At, Org: e.Org, Title: eventTitles[e.Kind]}
	if v.Title == "" {
		v.Title = words(e.Kind)
	}
	var detail map[string]any
	if len(e.Detail) > 0 && json.Unmarshal(e.Detail, &detail) == nil {
		for k, val := range detail {
			s := ""
			switch x := val.(type) {
			case string:
				// A time (a ladder step's due time) in the words every page uses, not RFC 3339.
				if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
					s = t.In(london).Format("2 January 2006 at 15:04")
				} else {
					s = strings.ReplaceAll(x, "_", " ")
				}
			case bool:
				s = map[bool]string{true: "yes", false: "no"}[x]
			case float64:
				s = wdays(int(x))
			default:
				continue
			}
			if s != "" {
				v.Detail = append(v.Detail, detailItem{words(k), s})
			}
		}
		sort.Slice(v.Detail, func(i, j int) bool { return v.Detail[i].Key < v.Detail[j].Key })
	}
	return v
}

// contributePage is GET /concerns/{ref}/contribute: the question asked of the user's
// organisation and the form for the advice.
func (s *Server) contributePage(w http.ResponseWriter, r *http.Request) {
	s.showContribute(w, r, http.StatusOK, nil)
}

func (s *Server) showContribute(w http.ResponseWriter, r *http.Request, status int, form *Form) {
	ref := mux.Vars(r)["ref"]
	c, inv, err := s.readConcern(r, ref, "")
	if err != nil {
		s.webError(w, r, err)
		return
	}
	u := userFrom(r.Context())
	if err := safeguard.Authorize(u, safeguard.ActionContribute, inv); err != nil {
		s.webError(w, r, err)
		return
	}
	v := concernView{C: c, CareOptions: careOptions}
	for i := range c.Contributions {
		if k := &c.Contributions[i]; k.Organisation == u.OrgCode && k.AnsweredAt == nil {
			v.Mine = k
		}
	}
	if v.Mine == nil {
		s.webError(w, r, safeguard.Errorf(safeguard.ECONFLICT, "Your organisation has not been asked for advice on this concern, or has already given it."))
		return
	}
	if form == nil {
		form = &Form{Values: url.Values{}}
	}
	v.Key = form.Get("idempotency_key")
	if v.Key == "" {
		v.Key = formKey()
	}
	s.render(w, r, status, "contribute", View{Title: "Give advice on " + c.Reference, Data: v, Form: form})
}

func wdays(n int) string { return strconv.Itoa(n) }
