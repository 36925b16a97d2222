// Package policy is the deadline policy a concern is raised under: for each
// clock of the lifecycle, when it falls due and the escalation ladder of
// reminders and notices around that due time.
//
// A policy is read once from a YAML (or JSON) file with Load or Parse, or is
// the built-in Default. A concern keeps the policy it was raised under, so a
// Policy is plain data that round-trips through encoding/json (it travels in
// workflow inputs) and has a short Fingerprint to show which one applied.
package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London must load on hosts without a tz database.

	"github.com/safeguard-project/safeguard/calendar"
)

// Target is who a ladder step notifies.
type Target string

// The targets a ladder step may notify.
const (
	// ResponsibleInbox is the shared inbox of the organisation responsible
	// for stopping the clock.
	ResponsibleInbox Target = "responsible_inbox"
	// Assignee is the person the concern is assigned to.
	Assignee Target = "assignee"
	// ResponsibleManagers are the managers of the responsible organisation.
	ResponsibleManagers Target = "responsible_managers"
	// PartnerManagers are the managers of the partner organisation, for the
	// professional-disagreement escalation.
	PartnerManagers Target = "partner_managers"
)

// targets lists the valid targets in the order used in messages.
var targets = [...]Target{ResponsibleInbox, Assignee, ResponsibleManagers, PartnerManagers}

// Targets returns the valid notify targets. The slice is new on each call.
func Targets() []Target {
	return slices.Clone(targets[:])
}

// Clock names, in lifecycle order.
const (
	LAAcknowledgement       = "la_acknowledgement"
	TriageDecision          = "triage_decision"
	LAContribution          = "la_contribution"
	EnquiryCompletion       = "enquiry_completion"
	ClosureSignoff          = "closure_signoff"
	HandoverAcknowledgement = "handover_acknowledgement"
)

// clockNames is the authoritative list; ClockNames is a copy for callers.
var clockNames = [...]string{
	LAAcknowledgement, TriageDecision, LAContribution,
	EnquiryCompletion, ClosureSignoff, HandoverAcknowledgement,
}

// ClockNames lists every clock a policy defines, in lifecycle order.
var ClockNames = slices.Clone(clockNames[:])

// The only timezone and calendar supported.
const (
	DefaultTimezone = "Europe/London"
	DefaultCalendar = "england-and-wales"
)

// Step is one rung of an escalation ladder: At is the offset from the clock's
// due time (negative for a reminder before it, "0" for the overdue notice),
// and Notify who is told.
type Step struct {
	At     calendar.Offset `json:"at" yaml:"at"`
	Notify []Target        `json:"notify" yaml:"notify"`
}

// Clock is the policy for one clock: Due is the offset from the clock's start
// at which it falls due, and Ladder the escalation steps around that time, in
// ascending order of At.
type Clock struct {
	Due    calendar.Offset `json:"due" yaml:"due"`
	Ladder []Step          `json:"ladder" yaml:"ladder"`
}

// Policy is a complete deadline policy. A valid policy (see Validate)
// defines every clock in ClockNames.
type Policy struct {
	Timezone string           `json:"timezone" yaml:"timezone"`
	Calendar string           `json:"calendar" yaml:"calendar"`
	Clocks   map[string]Clock `json:"clocks" yaml:"clocks"`
}

// defaultDue is the DESIGN.md default due time of each clock, in working days.
var defaultDue = map[string]int{
	LAAcknowledgement:       1,
	TriageDecision:          2,
	LAContribution:          5,
	EnquiryCompletion:       20,
	ClosureSignoff:          5,
	HandoverAcknowledgement: 1,
}

// defaultLadder returns a new copy of the default escalation ladder: a
// reminder one working day before due and the overdue notice at due, to the
// responsible organisation's inbox and the assignee; then its managers two
// working days after due; then its managers and the partner organisation's
// managers five working days after due.
func defaultLadder() []Step {
	return []Step{
		{At: calendar.WorkingDays(-1), Notify: []Target{ResponsibleInbox, Assignee}},
		{At: calendar.Offset{}, Notify: []Target{ResponsibleInbox, Assignee}},
		{At: calendar.WorkingDays(2), Notify: []Target{ResponsibleManagers}},
		{At: calendar.WorkingDays(5), Notify: []Target{ResponsibleManagers, PartnerManagers}},
	}
}

// defaultClock returns a new copy of the default policy for clock name,
// which must be one of ClockNames.
func defaultClock(name string) Clock {
	return Clock{Due: calendar.WorkingDays(defaultDue[name]), Ladder: defaultLadder()}
}

// Default returns the built-in policy of DESIGN.md. Each call returns a new
// copy that the caller may modify.
func Default() Policy {
	p := Policy{
		Timezone: DefaultTimezone,
		Calendar: DefaultCalendar,
		Clocks:   make(map[string]Clock, len(clockNames)),
	}
	for _, name := range clockNames {
		p.Clocks[name] = defaultClock(name)
	}
	return p
}

// Clock returns a copy of the policy for the named clock.
func (p Policy) Clock(name string) (Clock, bool) {
	c, ok := p.Clocks[name]
	if !ok {
		return Clock{}, false
	}
	return c.clone(), true
}

// clone returns a deep copy of c. A nil ladder stays nil.
func (c Clock) clone() Clock {
	if c.Ladder == nil {
		return c
	}
	ladder := make([]Step, len(c.Ladder))
	for i, s := range c.Ladder {
		ladder[i] = Step{At: s.At, Notify: slices.Clone(s.Notify)}
	}
	c.Ladder = ladder
	return c
}

// WorkingCalendar returns the calendar the policy's working days are counted
// in. It fails only for a policy whose calendar or timezone does not
// validate.
func (p Policy) WorkingCalendar() (*calendar.Calendar, error) {
	if err := p.validateCalendar(); err != nil {
		return nil, err
	}
	return calendar.EnglandAndWales(), nil
}

// DueAt returns when the clock falls due if it started at start.
func (c Clock) DueAt(cal *calendar.Calendar, start time.Time) time.Time {
	return cal.Add(start, c.Due)
}

// StepAt returns when ladder step i fires for a clock due at due. It panics
// if i is out of range, like a slice index.
func (c Clock) StepAt(cal *calendar.Calendar, due time.Time, i int) time.Time {
	return cal.Add(due, c.Ladder[i].At)
}

// Fingerprint returns a short stable identifier of the policy's content: the
// first 12 hex digits of the SHA-256 of its canonical JSON. Policies that
// differ only in how they were written (the order of notify targets, "90s"
// or "1m30s", a nil or empty ladder) have the same fingerprint.
func (p Policy) Fingerprint() string {
	canon := Policy{Timezone: p.Timezone, Calendar: p.Calendar, Clocks: make(map[string]Clock, len(p.Clocks))}
	for name, c := range p.Clocks {
		c = c.clone()
		if c.Ladder == nil {
			c.Ladder = []Step{}
		}
		for i := range c.Ladder {
			if c.Ladder[i].Notify == nil {
				c.Ladder[i].Notify = []Target{}
			}
			slices.Sort(c.Ladder[i].Notify)
		}
		canon.Clocks[name] = c
	}
	// Map keys are sorted by encoding/json, and Offsets marshal in their
	// canonical String form, so the encoding is canonical.
	b, err := json.Marshal(canon)
	if err != nil {
		// Only strings, slices, maps and Offsets: marshalling cannot fail.
		panic(fmt.Sprintf("policy: marshalling for fingerprint: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}

// Validate reports the first problem with the policy, if any, as a one-line
// error that starts with where it is ("clocks.triage_decision.ladder[1].at:
// ..."). A valid policy:
//
//   - has calendar "england-and-wales" (the only one supported) and timezone
//     "Europe/London", in which that calendar's days are judged;
//   - defines exactly the clocks in ClockNames;
//   - gives every clock a due time after its start ("1wd", "90s");
//   - lists each clock's ladder steps in strictly ascending order of At, all
//     in working days or all durations ("0" fits either), each notifying one
//     or more distinct known targets;
//   - has no step so far before due that it would fire before the clock
//     starts: a step before due is in the same units as due and reaches back
//     at most as far as due reaches forward. A reminder "-1wd" on a clock due
//     in "1wd" is allowed and fires as the clock starts (its ClockStart:
//     09:00 on the next working day for a clock started on a non-working
//     day), as in the default policy.
func (p Policy) Validate() error {
	if err := p.validateCalendar(); err != nil {
		return err
	}
	var unknown []string
	for name := range p.Clocks {
		if !slices.Contains(clockNames[:], name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return unknownClock(unknown[0])
	}
	for _, name := range clockNames {
		c, ok := p.Clocks[name]
		if !ok {
			return pathErrorf("clocks", "clock %s is missing; a policy defines every clock (%s)", name, strings.Join(clockNames[:], ", "))
		}
		if err := c.validate("clocks." + name); err != nil {
			return err
		}
	}
	return nil
}

// validateCalendar checks the calendar and timezone.
func (p Policy) validateCalendar() error {
	if p.Calendar != DefaultCalendar {
		return pathErrorf("calendar", "%q is not supported; the only calendar is %q (weekends and England and Wales bank holidays)", p.Calendar, DefaultCalendar)
	}
	if p.Timezone != DefaultTimezone {
		if p.Timezone == "" {
			return pathErrorf("timezone", "missing; calendar %q needs %q", DefaultCalendar, DefaultTimezone)
		}
		if _, err := time.LoadLocation(p.Timezone); err != nil {
			return pathErrorf("timezone", "%q is not a known time zone; calendar %q needs %q", p.Timezone, DefaultCalendar, DefaultTimezone)
		}
		return pathErrorf("timezone", "%q is not supported with calendar %q, whose working days are judged in %q; the only timezone supported is %q", p.Timezone, DefaultCalendar, DefaultTimezone, DefaultTimezone)
	}
	return nil
}

// unknownClock is the error for a clock name that is not in ClockNames.
func unknownClock(name string) error {
	return pathErrorf("clocks", "unknown clock %q; valid clocks are %s", name, strings.Join(clockNames[:], ", "))
}

// validate checks one clock; path is where it is ("clocks.triage_decision").
func (c Clock) validate(path string) error {
	dueKind, dueValue := kindOf(c.Due)
	if dueValue <= 0 {
		return pathErrorf(path+".due", "%q is not after the clock starts; want a positive offset such as \"1wd\" or \"90s\"", c.Due.String())
	}
	ladderKind := zeroKind
	seen := make(map[calendar.Offset]int, len(c.Ladder))
	for i, s := range c.Ladder {
		stepPath := fmt.Sprintf("%s.ladder[%d]", path, i)
		kind, value := kindOf(s.At)
		if kind != zeroKind {
			if ladderKind == zeroKind {
				ladderKind = kind
			} else if kind != ladderKind {
				return pathErrorf(stepPath+".at", "%q is %s but earlier steps are %s; a ladder's steps must be all working days or all durations (\"0\" fits either)", s.At.String(), kind, ladderKind)
			}
		}
		if value < 0 {
			if kind != dueKind {
				return pathErrorf(stepPath+".at", "%q is %s but due %q is %s; a step before due must be in the same units as due, so it cannot fire before the clock starts", s.At.String(), kind, c.Due.String(), dueKind)
			}
			if value < -dueValue { // not -value > dueValue: -value overflows for the most negative duration
				return pathErrorf(stepPath+".at", "a reminder %s before a due of %s would fire before the clock starts", magnitude(kind, -value), magnitude(dueKind, dueValue))
			}
		}
		if j, dup := seen[s.At]; dup {
			return pathErrorf(stepPath+".at", "%q is also the at of ladder[%d]; each step needs its own time", s.At.String(), j)
		}
		seen[s.At] = i
		if i > 0 {
			if _, prev := kindOf(c.Ladder[i-1].At); value < prev {
				return pathErrorf(stepPath+".at", "%q comes before the previous step's %q; steps must be in ascending order", s.At.String(), c.Ladder[i-1].At.String())
			}
		}
		if len(s.Notify) == 0 {
			return pathErrorf(stepPath+".notify", "no targets; want one or more of %s", targetList())
		}
		for j, t := range s.Notify {
			if !slices.Contains(targets[:], t) {
				return pathErrorf(fmt.Sprintf("%s.notify[%d]", stepPath, j), "unknown target %q; valid targets are %s", string(t), targetList())
			}
			if slices.Contains(s.Notify[:j], t) {
				return pathErrorf(fmt.Sprintf("%s.notify[%d]", stepPath, j), "%s is listed twice", t)
			}
		}
	}
	return nil
}

func targetList() string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// offsetKind is what an Offset counts in.
type offsetKind int

const (
	zeroKind offsetKind = iota
	workingDaysKind
	durationKind
)

func (k offsetKind) String() string {
	switch k {
	case workingDaysKind:
		return "in working days"
	case durationKind:
		return "a duration"
	default:
		return "zero"
	}
}

// kindOf returns what o counts in and its signed size in that unit (working
// days, or nanoseconds), so offsets of one kind compare by value.
func kindOf(o calendar.Offset) (offsetKind, int64) {
	if n, ok := o.InWorkingDays(); ok {
		return workingDaysKind, int64(n)
	}
	if d, ok := o.AsDuration(); ok {
		return durationKind, int64(d)
	}
	return zeroKind, 0
}

// magnitude describes a positive size of kind k: "2 working days", "20s".
func magnitude(k offsetKind, v int64) string {
	switch k {
	case workingDaysKind:
		if v == 1 {
			return "1 working day"
		}
		return fmt.Sprintf("%d working days", v)
	default:
		// TrimPrefix: negating the most negative duration leaves it negative.
		return strings.TrimPrefix(time.Duration(v).String(), "-")
	}
}

// pathError is a problem at a place in a policy: "clocks.x.due: message".
// Messages quote every value taken from input, so the error is one line.
type pathError struct {
	path, msg string
}

func (e *pathError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

func pathErrorf(path, format string, args ...any) error {
	return &pathError{path: path, msg: fmt.Sprintf(format, args...)}
}
