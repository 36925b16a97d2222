package safeguard

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The lifecycle of a concern (DESIGN.md "The lifecycle"), as a pure state machine: Apply takes
// the concern's state and one action and returns the Change it makes, or an error that says why
// the action cannot happen now. It knows nothing of time passing or of storage: the concern's
// workflow feeds it the clock and persists each Change through an activity, and the same rules
// serve the workflow's Update validators, so that a refused action writes nothing.

// Clock names (DESIGN.md): each is a deadline with its own escalation ladder.
const (
	ClockLAAcknowledgement       = "la_acknowledgement"
	ClockTriageDecision          = "triage_decision"
	ClockLAContribution          = "la_contribution"
	ClockEnquiryCompletion       = "enquiry_completion"
	ClockClosureSignoff          = "closure_signoff"
	ClockHandoverAcknowledgement = "handover_acknowledgement"
)

// Clock states.
const (
	ClockRunning  = "running"
	ClockPaused   = "paused"
	ClockMet      = "met"
	ClockBreached = "breached" // past due and not met; the ladder goes on
	ClockStopped  = "stopped"  // ended by something other than its own action (closure, release)
)

// ClockInstance is one run of a clock on one concern. ID is unique within the concern (a clock
// that starts again, e.g. after reopening, gets a new ID), and names its ladder's mail.
type ClockInstance struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Org      string    `json:"organisation"` // responsible: must act to stop it
	Partner  string    `json:"partner"`      // the other side, told at the last rung
	Assignee int64     `json:"assignee,omitempty"`
	Started  time.Time `json:"started"`
	Due      time.Time `json:"due"`
	State    string    `json:"state"`
	Steps    int       `json:"steps_fired"` // how many ladder rungs have fired
	Breached bool      `json:"breached"`    // a rung at or after due has fired
	PausedAt time.Time `json:"paused_at,omitzero"`
	Ended    time.Time `json:"ended,omitzero"`
	// PausedFor is how long the clock has spent paused in all: its due time moved by as much,
	// and the time it took to meet leaves it out (performance against timescales).
	PausedFor time.Duration `json:"paused_for,omitzero"`
}

// endPause counts a pause that ends with the clock itself (an answer given while paused).
func (c *ClockInstance) endPause(now time.Time) {
	if c.State == ClockPaused && !c.PausedAt.IsZero() {
		c.PausedFor += now.Sub(c.PausedAt)
	}
}

// Live reports whether the clock still counts (running or breached).
func (c *ClockInstance) Live() bool { return c.State == ClockRunning || c.State == ClockBreached }

// ContributionState is one request for advice and its answer.
type ContributionState struct {
	Org         string    `json:"organisation"`
	Question    string    `json:"question"`
	RequestedAt time.Time `json:"requested_at"`
	AnsweredAt  time.Time `json:"answered_at,omitzero"`
	ClockID     string    `json:"clock_id"`
	// The answer; kept here only until it is stored (the workflow state drops it).
	Advice         string `json:"advice,omitempty"`
	CareAssessment string `json:"care_assessment,omitempty"`
}

// Handover kinds.
const (
	HandoverTransfer = "transfer" // to another establishment, which takes the concern over
	HandoverRelease  = "release"  // to the local authority where the adult will live
	HandoverReferral = "referral" // to the host LA for an LA-led s.42 enquiry
)

// Lifecycle is the state a concern's workflow carries.
type Lifecycle struct {
	Reference       string               `json:"reference"`
	Establishment   string               `json:"establishment"`
	HostLA          string               `json:"host_la"`
	RaisedBy        int64                `json:"raised_by"`
	Stage           Stage                `json:"stage"`
	PausedFrom      Stage                `json:"paused_from,omitempty"`
	Acknowledged    bool                 `json:"acknowledged"`
	Contributions   []*ContributionState `json:"contributions"`
	Findings        bool                 `json:"findings"`
	ClosureProposed bool                 `json:"closure_proposed"`
	Handover        *Handover            `json:"handover,omitempty"`
	Previous        []string             `json:"previous,omitempty"` // owners and host LAs before transfers
	// StaffAllegationAt is the establishment whose staff the concern alleges abuse by, if any.
	StaffAllegationAt string           `json:"staff_allegation_at,omitempty"`
	Clocks            []*ClockInstance `json:"clocks"`
	ClockSeq          int              `json:"clock_seq"`
}

// Handover is a concern being passed to another organisation, which must acknowledge it.
type Handover struct {
	Kind   string `json:"kind"`
	To     string `json:"to"`               // the receiving organisation
	HostLA string `json:"host_la,omitzero"` // for a transfer: the new establishment's host LA
}

// Scheduler computes when a clock started at start falls due, under the concern's policy.
type Scheduler func(clock string, start time.Time) time.Time

// NewLifecycle is the state of a concern just raised: in notification, with the host LA's
// acknowledgement and the prison's triage clocks running.
func NewLifecycle(ref, establishment, hostLA string, raisedBy int64, raisedAt time.Time, due Scheduler) *Lifecycle {
	l := &Lifecycle{Reference: ref, Establishment: establishment, HostLA: hostLA, RaisedBy: raisedBy, Stage: StageNotification}
	l.start(ClockLAAcknowledgement, hostLA, establishment, 0, raisedAt, due)
	l.start(ClockTriageDecision, establishment, hostLA, raisedBy, raisedAt, due)
	return l
}

// Open reports whether the concern is still being worked (not closed, ended or handed over).
func (l *Lifecycle) Open() bool {
	switch l.Stage {
	case StageClosed, StageNoFurtherAction, StageHandedOver:
		return false
	}
	return true
}

// Involvement is how organisations take part, for the access policy.
func (l *Lifecycle) Involvement() *Involvement {
	inv := &Involvement{Establishment: l.Establishment, HostLA: l.HostLA, Previous: l.Previous,
		StaffAllegationAt: l.StaffAllegationAt, RaisedBy: l.RaisedBy}
	for _, c := range l.Contributions {
		inv.Others = appendNew(inv.Others, c.Org)
	}
	if l.Handover != nil {
		inv.Others = appendNew(inv.Others, l.Handover.To)
	}
	return inv
}

func appendNew(s []string, v string) []string {
	if v == "" || slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// Command is one action on a concern, by one person, with its input (one of the *Input types).
type Command struct {
	Action Action `json:"action"`
	Actor  User   `json:"actor"`
	Input  Input  `json:"input"`
	// Target is the organisation the input names (asked to contribute, transfer or release to),
	// looked up by the caller: its kind and, for an establishment, its host LA.
	Target *Organisation `json:"target,omitempty"`
}

// Input is the union of every action's body; each action reads its own fields. Its Validate
// checks the fields an action needs, by their JSON names.
type Input struct {
	Note           string `json:"note,omitempty"`
	Decision       string `json:"decision,omitempty"`
	Rationale      string `json:"rationale,omitempty"`
	Organisation   string `json:"organisation,omitempty"`
	Question       string `json:"question,omitempty"`
	Advice         string `json:"advice,omitempty"`
	CareAssessment string `json:"care_assessment,omitempty"`
	Risk           string `json:"risk,omitempty"`
	ActionTaken    *bool  `json:"action_taken,omitempty"`
	RiskOutcome    string `json:"risk_outcome,omitempty"`
	SARReferral    *bool  `json:"sar_referral,omitempty"`
	Summary        string `json:"summary,omitempty"`
	MSPOutcomes    string `json:"msp_outcomes,omitempty"`
	FeedbackGiven  *bool  `json:"feedback_given,omitempty"`
	SendBack       bool   `json:"send_back,omitempty"`
	Reason         string `json:"reason,omitempty"`
	ToEstablish    string `json:"to_establishment,omitempty"`
	ReceivingLA    string `json:"receiving_la,omitempty"`
	ReleaseDate    string `json:"release_date,omitempty"`
}

// Change is what one action does: the new stage, the clocks it starts and ends, what joins
// the concern, the timeline entry, and who is told.
type Change struct {
	Action        Action             `json:"action"`
	At            time.Time          `json:"at"`
	ActorID       int64              `json:"actor_id"`
	ActorOrg      string             `json:"actor_org"`
	Stage         Stage              `json:"stage"`
	Establishment string             `json:"establishment"`
	HostLA        string             `json:"host_la"`
	Started       []*ClockInstance   `json:"started,omitempty"`
	Ended         []*ClockInstance   `json:"ended,omitempty"`  // met, stopped, paused or resumed: their new state
	Joined        map[string]string  `json:"joined,omitempty"` // organisation -> relation
	Contribution  *ContributionState `json:"contribution,omitempty"`
	Event         string             `json:"event"`
	Detail        map[string]any     `json:"detail,omitempty"`
	Notify        []Notification     `json:"notify,omitempty"`
	Lifecycle     *Lifecycle         `json:"-"`
}

// Notification is a message a change sends: a template, to an organisation's inbox.
type Notification struct {
	Template string `json:"template"`
	Org      string `json:"organisation"`
}

// conflict and forbidden are the two ways an action is refused once the person is in scope.
func conflict(format string, args ...any) error { return Errorf(ECONFLICT, format, args...) }

// Apply decides one command against the state at time now. It returns the Change and the state
// after it, leaving l untouched, or an error: EFORBIDDEN or ENOTFOUND from the access policy,
// EINVALID for a bad input, ECONFLICT for the wrong stage or a repeat.
func (l *Lifecycle) Apply(cmd Command, now time.Time, due Scheduler) (*Change, error) {
	if err := Authorize(&cmd.Actor, cmd.Action, l.Involvement()); err != nil {
		return nil, err
	}
	if err := cmd.Input.Validate(cmd.Action); err != nil {
		return nil, err
	}
	next := l.clone()
	ch := &Change{Action: cmd.Action, At: now, ActorID: cmd.Actor.ID, ActorOrg: cmd.Actor.OrgCode, Joined: map[string]string{}, Detail: map[string]any{}}
	if err := next.apply(ch, cmd, now, due); err != nil {
		return nil, err
	}
	ch.Stage, ch.Establishment, ch.HostLA, ch.Lifecycle = next.Stage, next.Establishment, next.HostLA, next
	return ch, nil
}

func (l *Lifecycle) apply(ch *Change, cmd Command, now time.Time, due Scheduler) error {
	in, actor := cmd.Input, cmd.Actor
	if l.Stage == StagePaused && cmd.Action != ActionResume && cmd.Action != ActionAcknowledge && cmd.Action != ActionContribute {
		return conflict("the concern is paused: resume it first")
	}
	if h := l.Handover; h != nil && cmd.Action != ActionAcknowledge && cmd.Action != ActionContribute {
		// A release or referral ends the prison's part: nothing more is done until the receiving
		// authority acknowledges. A transfer lets the enquiry go on, but not end or be passed on
		// elsewhere, until the new establishment takes it over.
		switch {
		case h.Kind != HandoverTransfer:
			return conflict("the concern is being handed over to %s and awaits their acknowledgement", h.To)
		case cmd.Action == ActionProposeClosure || cmd.Action == ActionSignOffClosure || cmd.Action == ActionRelease ||
			cmd.Action == ActionTransfer || (cmd.Action == ActionTriage && cmd.Input.Decision == "refer_to_la"):
			return conflict("a transfer to %s awaits acknowledgement", h.To)
		}
	}
	switch cmd.Action {
	case ActionAcknowledge:
		return l.acknowledge(ch, actor, now)
	case ActionTriage:
		if l.Stage != StageNotification {
			return conflict("triage has already been recorded (stage %s)", l.Stage)
		}
		l.end(ch, ClockTriageDecision, "", ClockMet, now)
		ch.Event, ch.Detail["decision"], ch.Detail["rationale"] = "triaged", in.Decision, in.Rationale
		switch in.Decision {
		case "enquiry":
			l.Stage = StageEnquiry
			ch.Started = append(ch.Started, l.start(ClockEnquiryCompletion, l.Establishment, l.HostLA, actor.ID, now, due))
		case "no_further_action":
			l.Stage = StageNoFurtherAction
			l.endAll(ch, now)
		case "refer_to_la":
			// The LA leads under s.42: the prison's part ends once the LA acknowledges.
			l.endAll(ch, now)
			l.Handover = &Handover{Kind: HandoverReferral, To: l.HostLA}
			ch.Started = append(ch.Started, l.start(ClockHandoverAcknowledgement, l.HostLA, l.Establishment, 0, now, due))
			ch.Notify = append(ch.Notify, Notification{"referred_to_la", l.HostLA})
			l.Stage = StageHandedOver
		}
	case ActionRequestAdvice:
		if l.Stage != StageEnquiry && l.Stage != StageLAContribution {
			return conflict("advice can be asked for during the enquiry (stage %s)", l.Stage)
		}
		t := cmd.Target
		if t == nil || t.Kind.IsEstablishment() {
			return FieldErrors(map[string]string{"organisation": "must be a local authority, health, police or probation organisation"})
		}
		for _, c := range l.Contributions {
			if c.Org == t.Code && c.AnsweredAt.IsZero() {
				return conflict("%s has already been asked and has not yet answered", t.Code)
			}
		}
		clock := l.start(ClockLAContribution, t.Code, l.Establishment, 0, now, due)
		c := &ContributionState{Org: t.Code, Question: in.Question, RequestedAt: now, ClockID: clock.ID}
		l.Contributions = append(l.Contributions, c)
		l.Stage = StageLAContribution
		ch.Started, ch.Contribution = append(ch.Started, clock), c
		ch.Joined[t.Code] = "contributor"
		ch.Event, ch.Detail["organisation"] = "contribution_requested", t.Code
		ch.Notify = append(ch.Notify, Notification{"contribution_requested", t.Code})
	case ActionContribute:
		var open *ContributionState
		for _, c := range l.Contributions {
			if c.Org == actor.OrgCode && c.AnsweredAt.IsZero() {
				open = c
			}
		}
		if open == nil {
			return conflict("%s has no open request for advice on this concern", actor.OrgCode)
		}
		open.AnsweredAt = now
		l.endID(ch, open.ClockID, ClockMet, now)
		answer := *open
		answer.Advice, answer.CareAssessment = in.Advice, in.CareAssessment
		ch.Contribution = &answer
		ch.Event, ch.Detail["organisation"], ch.Detail["care_assessment"] = "contributed", actor.OrgCode, in.CareAssessment
		if l.outstanding() == 0 {
			switch {
			case l.Stage == StageLAContribution:
				l.Stage = StageEnquiry
			case l.Stage == StagePaused && l.PausedFrom == StageLAContribution:
				l.PausedFrom = StageEnquiry // resumes to the enquiry, as nothing is outstanding
			}
		}
		ch.Notify = append(ch.Notify, Notification{"contribution_received", l.Establishment})
	case ActionFindings:
		if l.Stage != StageEnquiry && l.Stage != StageLAContribution {
			return conflict("findings are recorded at the end of the enquiry (stage %s)", l.Stage)
		}
		if n := l.outstanding(); n > 0 {
			return conflict("%d request(s) for advice are still open", n)
		}
		l.Findings, l.Stage = true, StageClosure
		l.end(ch, ClockEnquiryCompletion, "", ClockMet, now)
		ch.Event = "findings_recorded"
		ch.Detail["risk"], ch.Detail["action_taken"], ch.Detail["risk_outcome"] = in.Risk, *in.ActionTaken, in.RiskOutcome
		if in.SARReferral != nil {
			ch.Detail["sar_referral"] = *in.SARReferral
		}
	case ActionProposeClosure:
		if l.Stage != StageClosure {
			return conflict("closure follows the findings (stage %s)", l.Stage)
		}
		if l.ClosureProposed {
			return conflict("closure has already been proposed and awaits sign-off")
		}
		l.ClosureProposed = true
		ch.Started = append(ch.Started, l.start(ClockClosureSignoff, l.Establishment, l.HostLA, 0, now, due))
		ch.Event, ch.Detail["msp_outcomes"], ch.Detail["feedback_given"] = "closure_proposed", in.MSPOutcomes, *in.FeedbackGiven
	case ActionSignOffClosure:
		if l.Stage != StageClosure || !l.ClosureProposed {
			return conflict("there is no closure proposal to sign off")
		}
		l.ClosureProposed = false
		if in.SendBack {
			l.end(ch, ClockClosureSignoff, "", ClockStopped, now)
			ch.Event, ch.Detail["reason"] = "closure_sent_back", in.Reason
			return nil
		}
		l.end(ch, ClockClosureSignoff, "", ClockMet, now)
		l.endAll(ch, now)
		l.Stage, ch.Event = StageClosed, "closed"
	case ActionPause:
		if !l.Open() || l.Stage == StagePaused {
			return conflict("only an open concern can be paused (stage %s)", l.Stage)
		}
		l.PausedFrom, l.Stage = l.Stage, StagePaused
		for _, c := range l.Clocks {
			if c.Live() {
				c.State, c.PausedAt = ClockPaused, now
				ch.Ended = append(ch.Ended, c)
			}
		}
		ch.Event, ch.Detail["reason"] = "paused", in.Reason
	case ActionResume:
		if l.Stage != StagePaused {
			return conflict("the concern is not paused")
		}
		l.Stage, l.PausedFrom = l.PausedFrom, ""
		for _, c := range l.Clocks {
			if c.State == ClockPaused {
				// The clock resumes with the time it had left: its due moves by the paused span.
				c.Due = c.Due.Add(now.Sub(c.PausedAt))
				c.PausedFor += now.Sub(c.PausedAt)
				c.State, c.PausedAt = ClockRunning, time.Time{}
				if c.Breached {
					c.State = ClockBreached // it had no time left, and still has none
				}
				ch.Ended = append(ch.Ended, c)
			}
		}
		ch.Event, ch.Detail["reason"] = "resumed", in.Reason
	case ActionTransfer:
		if !l.Open() {
			return conflict("a %s concern cannot be transferred", l.Stage)
		}
		if l.Handover != nil {
			return conflict("a handover to %s awaits acknowledgement", l.Handover.To)
		}
		t := cmd.Target
		if t == nil || !t.Kind.IsEstablishment() || t.Code == l.Establishment || t.HostLA == "" {
			return FieldErrors(map[string]string{"to_establishment": "must be another prison or approved premises"})
		}
		l.Handover = &Handover{Kind: HandoverTransfer, To: t.Code, HostLA: t.HostLA}
		ch.Started = append(ch.Started, l.start(ClockHandoverAcknowledgement, t.Code, l.Establishment, 0, now, due))
		ch.Joined[t.Code] = "receiving"
		ch.Event, ch.Detail["to_establishment"] = "transfer_started", t.Code
		ch.Notify = append(ch.Notify, Notification{"handover", t.Code}, Notification{"handover", t.HostLA})
	case ActionRelease:
		if !l.Open() {
			return conflict("a %s concern cannot be handed over on release", l.Stage)
		}
		if l.Handover != nil {
			return conflict("a handover to %s awaits acknowledgement", l.Handover.To)
		}
		t := cmd.Target
		if t == nil || t.Kind != KindLocalAuthority {
			return FieldErrors(map[string]string{"receiving_la": "must be a local authority's GSS code"})
		}
		// The prison's enquiry ends with the adult's release; the receiving LA must acknowledge.
		l.endAll(ch, now)
		l.Handover = &Handover{Kind: HandoverRelease, To: t.Code}
		ch.Started = append(ch.Started, l.start(ClockHandoverAcknowledgement, t.Code, l.Establishment, 0, now, due))
		ch.Joined[t.Code] = "receiving"
		ch.Event, ch.Detail["receiving_la"], ch.Detail["release_date"] = "release_notified", t.Code, in.ReleaseDate
		ch.Notify = append(ch.Notify, Notification{"handover", t.Code})
	case ActionReopen:
		if l.Open() {
			return conflict("the concern is open (stage %s)", l.Stage)
		}
		if l.Handover != nil && l.Handover.Kind != HandoverTransfer {
			return conflict("the concern has been handed over to %s", l.Handover.To)
		}
		l.Stage, l.Findings, l.ClosureProposed = StageEnquiry, false, false
		ch.Started = append(ch.Started, l.start(ClockEnquiryCompletion, l.Establishment, l.HostLA, actor.ID, now, due))
		ch.Event, ch.Detail["reason"] = "reopened", in.Reason
	default:
		return Errorf(EINVALID, "unknown action %q", cmd.Action)
	}
	return nil
}

// acknowledge is the host LA acknowledging the notification, or a receiving organisation
// acknowledging a handover (which completes it).
func (l *Lifecycle) acknowledge(ch *Change, actor User, now time.Time) error {
	if h := l.Handover; h != nil && actor.OrgCode == h.To {
		l.end(ch, ClockHandoverAcknowledgement, "", ClockMet, now)
		ch.Event, ch.Detail["handover"] = "handover_acknowledged", h.Kind
		switch h.Kind {
		case HandoverTransfer:
			// The new establishment and its host LA take the concern over; earlier ones keep
			// their history but no longer act.
			ch.Joined[l.Establishment], ch.Joined[l.HostLA] = "previous", "previous"
			l.Previous = appendNew(appendNew(slices.Clone(l.Previous), l.Establishment), l.HostLA)
			l.Establishment, l.HostLA = h.To, h.HostLA
			ch.Joined[h.To], ch.Joined[h.HostLA] = "establishment", "host_la"
			for _, c := range l.Clocks {
				if (c.Live() || c.State == ClockPaused) && c.Name != ClockLAContribution && c.Name != ClockHandoverAcknowledgement {
					// The new establishment's lead is not known yet: its inbox is told.
					c.Org, c.Partner = l.responsibleFor(c.Name)
					c.Assignee = 0
					ch.Ended = append(ch.Ended, c)
				}
			}
			l.Handover = nil
		default:
			l.endAll(ch, now)
			l.Stage, l.PausedFrom = StageHandedOver, ""
		}
		return nil
	}
	if actor.OrgCode != l.HostLA || actor.Role != RoleLAPractitioner {
		return Errorf(EFORBIDDEN, "only the host local authority, or an organisation receiving a handover, acknowledges")
	}
	if l.Acknowledged {
		return conflict("the host local authority has already acknowledged this concern")
	}
	l.Acknowledged = true
	l.end(ch, ClockLAAcknowledgement, "", ClockMet, now)
	ch.Event = "acknowledged"
	return nil
}

// responsibleFor names who must act on a clock, and the partner told at the last rung.
func (l *Lifecycle) responsibleFor(clock string) (org, partner string) {
	switch clock {
	case ClockLAAcknowledgement:
		return l.HostLA, l.Establishment
	default:
		return l.Establishment, l.HostLA
	}
}

func (l *Lifecycle) outstanding() int {
	n := 0
	for _, c := range l.Contributions {
		if c.AnsweredAt.IsZero() {
			n++
		}
	}
	return n
}

// start begins a new clock instance.
func (l *Lifecycle) start(name, org, partner string, assignee int64, now time.Time, due Scheduler) *ClockInstance {
	l.ClockSeq++
	c := &ClockInstance{ID: fmt.Sprintf("%s-%d", name, l.ClockSeq), Name: name, Org: org, Partner: partner, Assignee: assignee,
		Started: now, Due: due(name, now), State: ClockRunning}
	l.Clocks = append(l.Clocks, c)
	return c
}

// end stops every live or paused instance of the named clock (for org, if given).
func (l *Lifecycle) end(ch *Change, name, org, state string, now time.Time) {
	for _, c := range l.Clocks {
		if c.Name == name && (org == "" || c.Org == org) && (c.Live() || c.State == ClockPaused) {
			c.endPause(now)
			c.State, c.Ended, c.PausedAt = state, now, time.Time{}
			ch.Ended = append(ch.Ended, c)
		}
	}
}

func (l *Lifecycle) endID(ch *Change, id, state string, now time.Time) {
	for _, c := range l.Clocks {
		if c.ID == id && (c.Live() || c.State == ClockPaused) {
			c.endPause(now)
			c.State, c.Ended, c.PausedAt = state, now, time.Time{}
			ch.Ended = append(ch.Ended, c)
		}
	}
}

// endAll stops every clock still counting: the concern has left the stages they belong to.
func (l *Lifecycle) endAll(ch *Change, now time.Time) {
	for _, c := range l.Clocks {
		if c.Live() || c.State == ClockPaused {
			c.endPause(now)
			c.State, c.Ended, c.PausedAt = ClockStopped, now, time.Time{}
			ch.Ended = append(ch.Ended, c)
		}
	}
}

// Clock returns the clock instance with that ID, or nil.
func (l *Lifecycle) Clock(id string) *ClockInstance {
	for _, c := range l.Clocks {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// clone copies the state deeply, so that Apply can fail without having changed anything.
func (l *Lifecycle) clone() *Lifecycle {
	n := *l
	n.Clocks = make([]*ClockInstance, len(l.Clocks))
	for i, c := range l.Clocks {
		cc := *c
		n.Clocks[i] = &cc
	}
	n.Contributions = make([]*ContributionState, len(l.Contributions))
	for i, c := range l.Contributions {
		cc := *c
		n.Contributions[i] = &cc
	}
	if l.Handover != nil {
		h := *l.Handover
		n.Handover = &h
	}
	return &n
}

// Target returns the organisation code an action's input names, and the field that names it:
// the organisation asked for advice, the establishment transferred to, the LA released to.
func (in *Input) Target(a Action) (code, field string) {
	switch a {
	case ActionRequestAdvice:
		return strings.ToUpper(strings.TrimSpace(in.Organisation)), "organisation"
	case ActionTransfer:
		return strings.ToUpper(strings.TrimSpace(in.ToEstablish)), "to_establishment"
	case ActionRelease:
		return strings.ToUpper(strings.TrimSpace(in.ReceivingLA)), "receiving_la"
	}
	return "", ""
}

// Validate checks, field by field, what one action needs; it trims the text it is given.
func (in *Input) Validate(a Action) error {
	f := map[string]string{}
	trim := func(s *string) { *s = strings.TrimSpace(*s) }
	for _, s := range []*string{&in.Note, &in.Decision, &in.Rationale, &in.Organisation, &in.Question, &in.Advice, &in.CareAssessment,
		&in.Risk, &in.RiskOutcome, &in.Summary, &in.MSPOutcomes, &in.Reason, &in.ToEstablish, &in.ReceivingLA, &in.ReleaseDate} {
		trim(s)
	}
	in.Organisation, in.ToEstablish, in.ReceivingLA = strings.ToUpper(in.Organisation), strings.ToUpper(in.ToEstablish), strings.ToUpper(in.ReceivingLA)
	text := func(name, v string, required bool, max int) {
		switch {
		case required && v == "":
			f[name] = "is required"
		case len([]rune(v)) > max:
			f[name] = fmt.Sprintf("must be at most %d characters", max)
		}
	}
	oneOf := func(name, v string, allowed ...string) {
		if !slices.Contains(allowed, v) {
			f[name] = "must be one of: " + strings.Join(allowed, ", ")
		}
	}
	switch a {
	case ActionAcknowledge:
		text("note", in.Note, false, 2000)
	case ActionTriage:
		oneOf("decision", in.Decision, "enquiry", "no_further_action", "refer_to_la")
		text("rationale", in.Rationale, in.Decision == "no_further_action" || in.Decision == "refer_to_la", 4000)
	case ActionRequestAdvice:
		text("organisation", in.Organisation, true, 32)
		text("question", in.Question, true, 4000)
	case ActionContribute:
		text("advice", in.Advice, true, 8000)
		oneOf("care_assessment", in.CareAssessment, "needed", "not_needed", "in_place")
	case ActionFindings:
		oneOf("risk", in.Risk, RiskFindings...)
		if in.ActionTaken == nil {
			f["action_taken"] = "is required: true or false"
		}
		if in.Risk == "identified" || in.RiskOutcome != "" {
			oneOf("risk_outcome", in.RiskOutcome, "removed", "reduced", "remains")
		}
		text("summary", in.Summary, true, 8000)
	case ActionProposeClosure:
		oneOf("msp_outcomes", in.MSPOutcomes, "fully", "partially", "not_achieved", "not_asked")
		if in.FeedbackGiven == nil {
			f["feedback_given"] = "is required: true or false"
		}
	case ActionSignOffClosure:
		text("reason", in.Reason, in.SendBack, 4000)
	case ActionPause, ActionResume, ActionReopen:
		text("reason", in.Reason, true, 4000)
	case ActionTransfer:
		text("to_establishment", in.ToEstablish, true, 32)
	case ActionRelease:
		text("receiving_la", in.ReceivingLA, true, 32)
		if _, err := time.Parse(dateLayout, in.ReleaseDate); err != nil {
			f["release_date"] = "must be a date in the form YYYY-MM-DD"
		}
	}
	if len(f) > 0 {
		return FieldErrors(f)
	}
	return nil
}
