package workflows

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/activities"
	"github.com/safeguard-project/safeguard/calendar"
	"github.com/safeguard-project/safeguard/policy"
)

// The lifecycle of the Concern workflow under the test environment's skipped time, with every
// activity mocked: each clock's ladder, actions that stop, pause, move and hand over clocks,
// refused actions, search attributes and continue-as-new.

// The people who act: LEI is Leeds prison (host LA Leeds, E08000035); WDI is Wakefield prison
// (host LA Wakefield, E08000036).
var (
	leiLead   = safeguard.User{ID: 1, Role: safeguard.RolePrisonLead, OrgCode: "LEI", OrgKind: safeguard.KindPrison}
	leiMgr    = safeguard.User{ID: 2, Role: safeguard.RolePrisonManager, OrgCode: "LEI", OrgKind: safeguard.KindPrison}
	leedsLA   = safeguard.User{ID: 3, Role: safeguard.RoleLAPractitioner, OrgCode: "E08000035", OrgKind: safeguard.KindLocalAuthority}
	wdiLead   = safeguard.User{ID: 4, Role: safeguard.RolePrisonLead, OrgCode: "WDI", OrgKind: safeguard.KindPrison}
	wakefield = safeguard.User{ID: 5, Role: safeguard.RoleLAPractitioner, OrgCode: "E08000036", OrgKind: safeguard.KindLocalAuthority}

	leedsOrg     = &safeguard.Organisation{Code: "E08000035", Kind: safeguard.KindLocalAuthority}
	wdiOrg       = &safeguard.Organisation{Code: "WDI", Kind: safeguard.KindPrison, HostLA: "E08000036"}
	wakefieldOrg = &safeguard.Organisation{Code: "E08000036", Kind: safeguard.KindLocalAuthority}
)

var (
	cal    = calendar.EnglandAndWales()
	london = cal.Location()
	yes    = true
)

// wed is Wednesday 25 November 2026, 10:00 in London (GMT): a working day, followed by working
// days until Christmas.
var wed = time.Date(2026, 11, 25, 10, 0, 0, 0, london)

func wd(n int) calendar.Offset { return calendar.WorkingDays(n) }

func day(d, h int, month time.Month, year int) time.Time {
	return time.Date(year, month, d, h, 0, 0, 0, london)
}

// secondsPolicy is package policy's testdata/seconds.yaml: every clock due 20s after it starts,
// rungs at -10s, 0, +10s and +20s from due, so 10s, 20s, 30s and 40s after the clock starts.
func secondsPolicy(t *testing.T) *policy.Policy {
	t.Helper()
	data, err := os.ReadFile("../policy/testdata/seconds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return &p
}

// fired is one FireStep call as the activity saw it.
type fired struct {
	in  activities.StepInput
	now time.Time // the test environment's clock when the activity ran
}

func (f fired) String() string {
	return fmt.Sprintf("%s[%d] for %s at %s", f.in.Clock.ID, f.in.Index, f.in.Clock.Org, f.in.At.In(london).Format("Mon 2 Jan 15:04:05"))
}

// sent is an Update sent to the workflow and what it answered.
type sent struct {
	updateResult
	id string
}

// harness runs one Concern workflow in the test environment with every activity mocked, and
// records what the workflow asked of them.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	in  ConcernInput

	mu          sync.Mutex
	raises      []activities.RaiseInput
	recordFails int // RecordRaise fails this many times first (the database is away)
	steps       []fired
	changes     []activities.ChangeInput
	delivered   []string // keys given to the delivery activities
	handed      []string // keys the recording activities put in the outbox, for the courier
	batches     int      // DeliverMailBatch activities
	// courier: the workflow runs at courierVersion, so its mail is the courier's and no
	// delivery activity may run (beforeCourier turns it off).
	courier bool
	nextID  int
}

// newHarness prepares a concern raised at raisedAt under p (nil: the default policy); the test
// environment's clock starts at the raise.
func newHarness(t *testing.T, raisedAt time.Time, p *policy.Policy) *harness {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	h := &harness{t: t, env: s.NewTestWorkflowEnvironment(), courier: true}
	h.in = ConcernInput{RaiseInput: activities.RaiseInput{Reference: "SG-LEI-2026-00001", HostLA: "E08000035", RaisedBy: leiLead.ID,
		RaisedAt: raisedAt, Raise: safeguard.Raise{Establishment: "LEI"}}, Policy: p}
	h.env.SetStartTime(raisedAt)
	h.env.RegisterActivity(&activities.Activities{})
	h.env.OnActivity(a.RecordRaise, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RaiseInput) (*activities.RaiseRecorded, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.recordFails > 0 {
				h.recordFails--
				return nil, errors.New("database unavailable")
			}
			h.raises = append(h.raises, in)
			keys := []string{in.Reference + "/raised/host_la"}
			h.handed = append(h.handed, keys...)
			return &activities.RaiseRecorded{Concern: &safeguard.Concern{Reference: in.Reference, Stage: safeguard.StageNotification},
				MailKeys: keys}, nil
		}).Maybe()
	h.env.OnActivity(a.ApplyChange, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ChangeInput) (*activities.ChangeApplied, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.changes = append(h.changes, in)
			keys := []string{in.Reference + "/" + in.EventKey + "/mail"}
			h.handed = append(h.handed, keys...)
			return &activities.ChangeApplied{Concern: &safeguard.Concern{Reference: in.Reference, Stage: in.Change.Stage,
				Establishment: in.Change.Establishment, HostLA: in.Change.HostLA},
				MailKeys: keys}, nil
		}).Maybe()
	h.env.OnActivity(a.FireStep, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.StepInput) ([]string, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.steps = append(h.steps, fired{in: in, now: h.env.Now()})
			h.handed = append(h.handed, stepKey(in))
			return []string{stepKey(in)}, nil
		}).Maybe()
	h.env.OnActivity(a.DeliverMail, mock.Anything, mock.Anything).Return(
		func(_ context.Context, key string) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.delivered = append(h.delivered, key)
			return nil
		}).Maybe()
	h.env.OnActivity(a.DeliverMailBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, keys []string) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.delivered = append(h.delivered, keys...)
			h.batches++
			return nil
		}).Maybe()
	return h
}

func stepKey(in activities.StepInput) string {
	return fmt.Sprintf("%s/%s/step-%d/x", in.Reference, in.Clock.ID, in.Index)
}

// act sends one lifecycle action as an Update, delay after the raise.
func (h *harness) act(delay time.Duration, actor safeguard.User, action safeguard.Action, in safeguard.Input, target *safeguard.Organisation) *sent {
	return h.send(delay, string(action), safeguard.Command{Action: action, Actor: actor, Input: in, Target: target})
}

// at is act at a time rather than after a delay.
func (h *harness) at(when time.Time, actor safeguard.User, action safeguard.Action, in safeguard.Input, target *safeguard.Organisation) *sent {
	return h.act(when.Sub(h.in.RaisedAt), actor, action, in, target)
}

func (h *harness) send(delay time.Duration, update string, cmd safeguard.Command) *sent {
	h.nextID++
	s := &sent{id: fmt.Sprintf("update-%d-%s", h.nextID, update)}
	h.env.RegisterDelayedCallback(func() { h.env.UpdateWorkflow(update, s.id, s.callbacks(), cmd) }, delay)
	return s
}

// run executes the workflow, cancels it d after the raise, and checks that it ended cancelled.
// At d a rung must still be waiting: see runIdle.
func (h *harness) run(d time.Duration) {
	h.t.Helper()
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, d)
	h.env.ExecuteWorkflow(Concern, h.in)
	h.checkCancelled()
}

func (h *harness) checkCancelled() {
	h.t.Helper()
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("the workflow did not complete")
	}
	var canceled *temporal.CanceledError
	if err := h.env.GetWorkflowError(); !errors.As(err, &canceled) {
		h.t.Fatalf("the workflow ended with %v, want cancelled", err)
	}
}

// runIdle is run for a workflow that, at d, has no rung left to wait for (every ladder done or
// every clock stopped or paused). Such a workflow does not notice a cancellation (see
// TestACancelledConcernWithNoRungPendingEndsCancelled, commented out below): it is stopped by
// its run timeout instead, an hour later. Both endings are accepted, so that the test checks
// what it is about and passes again once the bug is fixed.
func (h *harness) runIdle(d time.Duration) {
	h.t.Helper()
	h.env.SetWorkflowRunTimeout(d + time.Hour)
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, d)
	h.env.ExecuteWorkflow(Concern, h.in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("the workflow did not complete")
	}
	var canceled *temporal.CanceledError
	var timeout *temporal.TimeoutError
	switch err := h.env.GetWorkflowError(); {
	case errors.As(err, &canceled):
	case errors.As(err, &timeout):
		h.t.Log("known bug: the workflow ignored the cancellation (nothing was pending); it ended at its run timeout")
	default:
		h.t.Fatalf("the workflow ended with %v, want cancelled", err)
	}
}

// stepsOf returns the rungs fired for clocks of that name, in the order they fired.
func (h *harness) stepsOf(name string) []fired {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []fired
	for _, s := range h.steps {
		if s.in.Clock.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// stepTrace is every rung fired, in order, as "clock-id[index]@offset from the raise".
func (h *harness) stepTrace() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, s := range h.steps {
		out = append(out, fmt.Sprintf("%s[%d]@%s", s.in.Clock.ID, s.in.Index, s.in.At.Sub(h.in.RaisedAt)))
	}
	return out
}

// changesOf returns the changes persisted for one action.
func (h *harness) changesOf(action safeguard.Action) []activities.ChangeInput {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []activities.ChangeInput
	for _, c := range h.changes {
		if c.Change.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// beforeCourier runs the workflow as one started before courierVersion, which delivers its
// own mail through activities.
func (h *harness) beforeCourier() {
	h.env.OnGetVersion(courierVersion, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	h.courier = false
}

// mail is the mail the workflow saw to: at courierVersion, what its recording activities put in
// the outbox (and no delivery activity may have run); before it, what it delivered.
func (h *harness) mail() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.courier {
		return slices.Clone(h.delivered)
	}
	if len(h.delivered) > 0 || h.batches > 0 {
		h.t.Errorf("a workflow at courierVersion delivered %v itself; its mail is the courier's", h.delivered)
	}
	return slices.Clone(h.handed)
}

// deliveries is how many times the workflow saw to key's mail (see mail).
func (h *harness) deliveries(key string) int {
	n := 0
	for _, k := range h.mail() {
		if k == key {
			n++
		}
	}
	return n
}

// wantRung is a rung expected to fire: its index and time.
type wantRung struct {
	index int
	at    time.Time
}

// checkLadder checks that a clock's rungs fired exactly as listed, once each, in order, at their
// times (the workflow's At, and the environment's clock when the activity ran), for org, and
// that each rung's mail was delivered once.
func (h *harness) checkLadder(name, org string, got []fired, want ...wantRung) {
	h.t.Helper()
	if len(got) != len(want) {
		h.t.Errorf("%s: %d rungs fired, want %d: %v", name, len(got), len(want), got)
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.in.Index != w.index || !g.in.At.Equal(w.at) || !g.now.Equal(w.at) || g.in.Clock.Org != org {
			h.t.Errorf("%s rung %d: fired %v (environment clock %s), want index %d at %s for %s", name, i, g,
				g.now.In(london).Format(time.RFC1123), w.index, w.at.In(london).Format(time.RFC1123), org)
		}
		if breached := !w.at.Before(g.in.Clock.Due); g.in.Breached != breached {
			h.t.Errorf("%s rung %d: Breached %v, want %v (At %s, Due %s)", name, i, g.in.Breached, breached, g.in.At, g.in.Clock.Due)
		}
		if g.in.Reference != h.in.Reference || len(g.in.Targets) == 0 {
			h.t.Errorf("%s rung %d: reference %q, targets %v", name, i, g.in.Reference, g.in.Targets)
		}
		if n := h.deliveries(stepKey(g.in)); n != 1 {
			h.t.Errorf("%s rung %d: its mail was delivered %d times, want once", name, i, n)
		}
	}
}

// accepted checks that an Update was accepted and completed with the concern at stage.
func accepted(t *testing.T, what string, s *sent, stage safeguard.Stage) {
	t.Helper()
	if !s.accepted || !s.done || s.err != nil || s.concern == nil || s.concern.Stage != stage {
		t.Errorf("%s: accepted %v, done %v, error %v, concern %+v; want accepted with the concern at stage %s", what, s.accepted, s.done, s.err, s.concern, stage)
	}
}

// refused checks that an Update was rejected by its validator (so nothing was written to the
// history) with an application error of type code.
func refused(t *testing.T, what string, s *sent, code string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	switch {
	case !s.done:
		t.Errorf("%s: no answer", what)
	case s.accepted:
		t.Errorf("%s: accepted (answered %v), want rejected by the validator", what, s.err)
	case !errors.As(s.err, &appErr):
		t.Errorf("%s: rejected with %T %v, want an application error", what, s.err, s.err)
	case appErr.Type() != code:
		t.Errorf("%s: rejected as %q (%v), want %q", what, appErr.Type(), appErr, code)
	}
}

// 1. Ladders.

func TestEachClockClimbsItsLadderInOrderEachRungOnce(t *testing.T) {
	h := newHarness(t, wed, nil)
	h.runIdle(30 * 24 * time.Hour)

	// la_acknowledgement is due 1wd after raising: Thursday 26 November 10:00. Its -1wd
	// reminder would fall at the raise itself, so it is skipped: index 0 never fires.
	ackDue := cal.Add(wed, wd(1))
	if !ackDue.Equal(day(26, 10, time.November, 2026)) {
		t.Fatalf("calendar: %s + 1wd = %s", wed, ackDue)
	}
	h.checkLadder(safeguard.ClockLAAcknowledgement, "E08000035", h.stepsOf(safeguard.ClockLAAcknowledgement),
		wantRung{1, ackDue},                 // overdue, Thu 26 Nov
		wantRung{2, cal.Add(ackDue, wd(2))}, // Mon 30 Nov
		wantRung{3, cal.Add(ackDue, wd(5))}, // Thu 3 Dec
	)
	// triage_decision is due 2wd after raising: Friday 27 November 10:00; its reminder is sent.
	triDue := cal.Add(wed, wd(2))
	if !triDue.Equal(day(27, 10, time.November, 2026)) {
		t.Fatalf("calendar: %s + 2wd = %s", wed, triDue)
	}
	h.checkLadder(safeguard.ClockTriageDecision, "LEI", h.stepsOf(safeguard.ClockTriageDecision),
		wantRung{0, cal.Add(triDue, wd(-1))}, // reminder, Thu 26 Nov
		wantRung{1, triDue},                  // overdue, Fri 27 Nov
		wantRung{2, cal.Add(triDue, wd(2))},  // Tue 1 Dec
		wantRung{3, cal.Add(triDue, wd(5))},  // Fri 4 Dec
	)
	for _, s := range h.steps {
		if s.in.Clock.Name == safeguard.ClockLAAcknowledgement && s.in.Index == 0 {
			t.Errorf("the la_acknowledgement reminder at the clock's start fired: %v", s)
		}
	}
	for _, s := range h.stepsOf(safeguard.ClockTriageDecision) {
		if s.in.Clock.Assignee != leiLead.ID || s.in.Clock.Partner != "E08000035" || !s.in.Clock.Due.Equal(triDue) {
			t.Errorf("triage rung %v: clock %+v; want assigned to the raiser, partner the host LA, due %s", s, s.in.Clock, triDue)
		}
	}
	// The rungs of both clocks, in time order (at the same time, the clock started first).
	want := []string{
		"la_acknowledgement-1[1]@24h0m0s", "triage_decision-2[0]@24h0m0s", "triage_decision-2[1]@48h0m0s",
		"la_acknowledgement-1[2]@120h0m0s", "triage_decision-2[2]@144h0m0s", "la_acknowledgement-1[3]@192h0m0s",
		"triage_decision-2[3]@216h0m0s",
	}
	if got := h.stepTrace(); !slices.Equal(got, want) {
		t.Errorf("rungs fired %v, want %v", got, want)
	}
	if len(h.raises) != 1 || h.deliveries(h.in.Reference+"/raised/host_la") != 1 {
		t.Errorf("RecordRaise ran %d times and its mail was delivered %d times, want once each", len(h.raises), h.deliveries(h.in.Reference+"/raised/host_la"))
	}
}

func TestTheRaiseRecordsBothFirstClocksWithTheirDueTimes(t *testing.T) {
	h := newHarness(t, wed, nil)
	h.run(time.Hour)
	if len(h.raises) != 1 {
		t.Fatalf("RecordRaise ran %d times", len(h.raises))
	}
	clocks := h.raises[0].Clocks
	if len(clocks) != 2 {
		t.Fatalf("the raise recorded %d clocks, want la_acknowledgement and triage_decision", len(clocks))
	}
	for i, want := range []struct {
		name, org string
		due       time.Time
	}{
		{safeguard.ClockLAAcknowledgement, "E08000035", day(26, 10, time.November, 2026)},
		{safeguard.ClockTriageDecision, "LEI", day(27, 10, time.November, 2026)},
	} {
		c := clocks[i]
		if c.Name != want.name || c.Org != want.org || !c.Due.Equal(want.due) || !c.Started.Equal(wed) || c.State != safeguard.ClockRunning || c.Steps != 0 {
			t.Errorf("clock %d: %+v, want %s for %s started %s due %s, running", i, c, want.name, want.org, wed, want.due)
		}
	}
}

func TestTheSecondsPolicyLaddersFireAt10s20s30s40s(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	h.runIdle(2 * time.Minute)
	for _, name := range []string{safeguard.ClockLAAcknowledgement, safeguard.ClockTriageDecision} {
		org := map[string]string{safeguard.ClockLAAcknowledgement: "E08000035", safeguard.ClockTriageDecision: "LEI"}[name]
		h.checkLadder(name, org, h.stepsOf(name),
			wantRung{0, wed.Add(10 * time.Second)}, // the reminder, 10s before due: after the start, so sent
			wantRung{1, wed.Add(20 * time.Second)},
			wantRung{2, wed.Add(30 * time.Second)},
			wantRung{3, wed.Add(40 * time.Second)},
		)
	}
	want := []string{
		"la_acknowledgement-1[0]@10s", "triage_decision-2[0]@10s", "la_acknowledgement-1[1]@20s", "triage_decision-2[1]@20s",
		"la_acknowledgement-1[2]@30s", "triage_decision-2[2]@30s", "la_acknowledgement-1[3]@40s", "triage_decision-2[3]@40s",
	}
	if got := h.stepTrace(); !slices.Equal(got, want) {
		t.Errorf("rungs fired %v, want %v", got, want)
	}
}

func TestLaddersCountWorkingDaysAcrossChristmasAndNewYear(t *testing.T) {
	// Thursday 24 December 2026 16:00: Christmas Day (Fri), the weekend, the Boxing Day
	// substitute (Mon 28) and New Year's Day (Fri 1 January 2027) are not working days.
	raised := day(24, 16, time.December, 2026)
	h := newHarness(t, raised, nil)
	h.runIdle(40 * 24 * time.Hour)
	h.checkLadder(safeguard.ClockLAAcknowledgement, "E08000035", h.stepsOf(safeguard.ClockLAAcknowledgement),
		wantRung{1, day(29, 16, time.December, 2026)},
		wantRung{2, day(31, 16, time.December, 2026)},
		wantRung{3, day(6, 16, time.January, 2027)},
	)
	h.checkLadder(safeguard.ClockTriageDecision, "LEI", h.stepsOf(safeguard.ClockTriageDecision),
		wantRung{0, day(29, 16, time.December, 2026)},
		wantRung{1, day(30, 16, time.December, 2026)},
		wantRung{2, day(4, 16, time.January, 2027)},
		wantRung{3, day(7, 16, time.January, 2027)},
	)
}

// A concern raised at the weekend has its clocks counted from 09:00 on the next working day.
// The la_acknowledgement reminder (-1wd from a due of Tuesday 09:00) then falls on Monday
// 09:00, after the raise, and is sent; raised on a working day it would coincide with the raise
// and is skipped. This pins the current behaviour (see the report).
func TestAWeekendRaiseSendsTheOneDayReminderWhenTheOfficeOpens(t *testing.T) {
	raised := time.Date(2026, 11, 28, 14, 0, 0, 0, london) // Saturday
	h := newHarness(t, raised, nil)
	h.run(time.Date(2026, 12, 1, 9, 30, 0, 0, london).Sub(raised))
	h.checkLadder(safeguard.ClockLAAcknowledgement, "E08000035", h.stepsOf(safeguard.ClockLAAcknowledgement),
		wantRung{0, day(30, 9, time.November, 2026)}, // Monday 09:00
		wantRung{1, day(1, 9, time.December, 2026)},  // Tuesday 09:00: due
	)
	h.checkLadder(safeguard.ClockTriageDecision, "LEI", h.stepsOf(safeguard.ClockTriageDecision),
		wantRung{0, day(1, 9, time.December, 2026)}, // due Wednesday 09:00
	)
}

// 2. Actions stop their clocks.

func TestAcknowledgingAfterTheOverdueRungStopsThatClocksLadderOnly(t *testing.T) {
	h := newHarness(t, wed, nil)
	ackDue := cal.Add(wed, wd(1))
	ack := h.at(ackDue.Add(time.Hour), leedsLA, safeguard.ActionAcknowledge, safeguard.Input{Note: "seen"}, nil)
	// Cancelled after la_acknowledgement's last rung (Thu 3 Dec) would have fired, with
	// triage_decision's last rung (Fri 4 Dec) still waiting.
	h.run(cal.Add(ackDue, wd(5)).Add(2 * time.Hour).Sub(wed))

	accepted(t, "acknowledge", ack, safeguard.StageNotification)
	h.checkLadder(safeguard.ClockLAAcknowledgement, "E08000035", h.stepsOf(safeguard.ClockLAAcknowledgement), wantRung{1, ackDue})
	triDue := cal.Add(wed, wd(2))
	h.checkLadder(safeguard.ClockTriageDecision, "LEI", h.stepsOf(safeguard.ClockTriageDecision),
		wantRung{0, cal.Add(triDue, wd(-1))}, wantRung{1, triDue}, wantRung{2, cal.Add(triDue, wd(2))})

	chs := h.changesOf(safeguard.ActionAcknowledge)
	if len(chs) != 1 {
		t.Fatalf("ApplyChange ran %d times for the acknowledgement, want once", len(chs))
	}
	ch := chs[0]
	if ch.EventKey != "update/"+ack.id || ch.Reference != h.in.Reference || !ch.Change.At.Equal(ackDue.Add(time.Hour)) || ch.Change.ActorID != leedsLA.ID {
		t.Errorf("the acknowledgement was recorded as %+v", ch)
	}
	if len(ch.Change.Ended) != 1 || ch.Change.Ended[0].Name != safeguard.ClockLAAcknowledgement || ch.Change.Ended[0].State != safeguard.ClockMet {
		t.Errorf("the acknowledgement ended %+v, want la_acknowledgement met", ch.Change.Ended)
	}
	if n := h.deliveries(h.in.Reference + "/update/" + ack.id + "/mail"); n != 1 {
		t.Errorf("the acknowledgement's mail was delivered %d times, want once", n)
	}
}

func TestAcknowledgingBeforeTheFirstRungMeansTheClockNeverFires(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	ack := h.act(5*time.Second, leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	h.runIdle(2 * time.Minute)
	accepted(t, "acknowledge", ack, safeguard.StageNotification)
	if got := h.stepsOf(safeguard.ClockLAAcknowledgement); len(got) != 0 {
		t.Errorf("la_acknowledgement rungs fired after it was met: %v", got)
	}
	if got := h.stepsOf(safeguard.ClockTriageDecision); len(got) != 4 {
		t.Errorf("triage_decision fired %v, want its 4 rungs", got)
	}
}

// The whole prison-led path, with the seconds policy: each clock climbs until its action stops
// it, and a new clock starts with each stage.
func TestEachStageStartsItsClockAndItsActionStopsIt(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	s := func(n int) time.Duration { return time.Duration(n) * time.Second }
	ack := h.act(s(5), leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	triage := h.act(s(12), leiLead, safeguard.ActionTriage, safeguard.Input{Decision: "enquiry"}, nil)
	ask := h.act(s(25), leiLead, safeguard.ActionRequestAdvice, safeguard.Input{Organisation: "E08000035", Question: "Is there a care plan?"}, leedsOrg)
	answer := h.act(s(37), leedsLA, safeguard.ActionContribute, safeguard.Input{Advice: "Yes, since May.", CareAssessment: "in_place"}, nil)
	findings := h.act(s(45), leiLead, safeguard.ActionFindings, safeguard.Input{Risk: "identified", ActionTaken: &yes, RiskOutcome: "reduced", Summary: "Moved wing."}, nil)
	propose := h.act(s(46), leiLead, safeguard.ActionProposeClosure, safeguard.Input{MSPOutcomes: "fully", FeedbackGiven: &yes}, nil)
	sendBack := h.act(s(58), leiMgr, safeguard.ActionSignOffClosure, safeguard.Input{SendBack: true, Reason: "Record the feedback."}, nil)
	propose2 := h.act(s(60), leiLead, safeguard.ActionProposeClosure, safeguard.Input{MSPOutcomes: "fully", FeedbackGiven: &yes}, nil)
	signOff := h.act(s(72), leiMgr, safeguard.ActionSignOffClosure, safeguard.Input{}, nil)
	reopen := h.act(s(80), leiLead, safeguard.ActionReopen, safeguard.Input{Reason: "New information."}, nil)
	h.run(s(95))

	accepted(t, "acknowledge", ack, safeguard.StageNotification)
	accepted(t, "triage", triage, safeguard.StageEnquiry)
	accepted(t, "request_contribution", ask, safeguard.StageLAContribution)
	accepted(t, "contribute", answer, safeguard.StageEnquiry)
	accepted(t, "findings", findings, safeguard.StageClosure)
	accepted(t, "propose_closure", propose, safeguard.StageClosure)
	accepted(t, "sign_off_closure (sent back)", sendBack, safeguard.StageClosure)
	accepted(t, "propose_closure again", propose2, safeguard.StageClosure)
	accepted(t, "sign_off_closure", signOff, safeguard.StageClosed)
	accepted(t, "reopen", reopen, safeguard.StageEnquiry)

	want := []string{
		// la_acknowledgement was met at 5s, before its first rung; triage_decision at 12s.
		"triage_decision-2[0]@10s",
		// The enquiry from 12s to the findings at 45s, with advice asked at 25s, given at 37s.
		"enquiry_completion-3[0]@22s", "enquiry_completion-3[1]@32s", "la_contribution-4[0]@35s", "enquiry_completion-3[2]@42s",
		// Closure proposed at 46s, sent back at 58s, proposed again at 60s, signed off at 72s.
		"closure_signoff-5[0]@56s", "closure_signoff-6[0]@1m10s",
		// Reopened at 80s.
		"enquiry_completion-7[0]@1m30s",
	}
	if got := h.stepTrace(); !slices.Equal(got, want) {
		t.Errorf("rungs fired %v,\nwant %v", got, want)
	}
	for _, f := range h.steps {
		org := map[string]string{"la_contribution": "E08000035"}[f.in.Clock.Name]
		if org == "" {
			org = "LEI"
		}
		if f.in.Clock.Org != org {
			t.Errorf("%v: responsible %s, want %s", f, f.in.Clock.Org, org)
		}
	}
	c := h.changesOf(safeguard.ActionContribute)
	if len(c) != 1 || c[0].Change.Contribution == nil || c[0].Change.Contribution.Advice != "Yes, since May." {
		t.Errorf("the contribution was not passed to ApplyChange with its answer: %+v", c)
	}
	if n := len(h.changes); n != 10 {
		t.Errorf("ApplyChange ran %d times, want once per action (10)", n)
	}
}

// 3. Pause and resume.

func TestPauseStopsEveryRungAndResumeMovesDueTimesByThePausedSpan(t *testing.T) {
	// Monday 23 November 2026 10:00: la_acknowledgement due Tue 24 10:00, triage_decision due
	// Wed 25 10:00 with its reminder Tue 24 10:00. Paused from Mon 11:00 to Tue 12:00 (25h),
	// over both rungs' original times.
	mon := day(23, 10, time.November, 2026)
	h := newHarness(t, mon, nil)
	pausedAt, resumedAt := mon.Add(time.Hour), mon.Add(26*time.Hour)
	span := resumedAt.Sub(pausedAt)
	pause := h.at(pausedAt, leiLead, safeguard.ActionPause, safeguard.Input{Reason: "Adult in hospital."}, nil)
	triageWhilePaused := h.at(pausedAt.Add(time.Hour), leiLead, safeguard.ActionTriage, safeguard.Input{Decision: "enquiry"}, nil)
	var firedWhilePaused int
	h.env.RegisterDelayedCallback(func() { firedWhilePaused = len(h.stepTrace()) }, resumedAt.Sub(mon)-time.Second)
	resume := h.at(resumedAt, leiLead, safeguard.ActionResume, safeguard.Input{Reason: "Back on the wing."}, nil)
	h.run(resumedAt.Add(48 * time.Hour).Sub(mon)) // to Thu 26 12:00

	accepted(t, "pause", pause, safeguard.StagePaused)
	refused(t, "triage while paused", triageWhilePaused, safeguard.ECONFLICT)
	accepted(t, "resume", resume, safeguard.StageNotification)
	if firedWhilePaused != 0 {
		t.Errorf("%d rungs fired while the concern was paused", firedWhilePaused)
	}
	ackDue, triDue := day(24, 10, time.November, 2026), day(25, 10, time.November, 2026)
	if !ackDue.Equal(cal.Add(mon, wd(1))) || !triDue.Equal(cal.Add(mon, wd(2))) {
		t.Fatal("calendar disagrees with the test's dates")
	}
	// Due times and rungs move by the paused span: Wed 25 11:00 and Thu 26 11:00.
	h.checkLadder(safeguard.ClockLAAcknowledgement, "E08000035", h.stepsOf(safeguard.ClockLAAcknowledgement),
		wantRung{1, ackDue.Add(span)})
	h.checkLadder(safeguard.ClockTriageDecision, "LEI", h.stepsOf(safeguard.ClockTriageDecision),
		wantRung{0, cal.Add(triDue, wd(-1)).Add(span)}, wantRung{1, triDue.Add(span)})
	for _, f := range h.steps {
		want := map[string]time.Time{safeguard.ClockLAAcknowledgement: ackDue.Add(span), safeguard.ClockTriageDecision: triDue.Add(span)}[f.in.Clock.Name]
		if !f.in.Clock.Due.Equal(want) || f.in.Clock.State == safeguard.ClockPaused {
			t.Errorf("%v: clock due %s, state %s; want due %s, counting", f, f.in.Clock.Due, f.in.Clock.State, want)
		}
	}
	if p := h.changesOf(safeguard.ActionPause); len(p) != 1 || len(p[0].Change.Ended) != 2 ||
		p[0].Change.Ended[0].State != safeguard.ClockPaused || !p[0].Change.Ended[0].PausedAt.Equal(pausedAt) {
		t.Errorf("the pause was recorded as %+v, want both clocks paused at %s", p, pausedAt)
	}
	if r := h.changesOf(safeguard.ActionResume); len(r) != 1 || len(r[0].Change.Ended) != 2 ||
		!r[0].Change.Ended[0].Due.Equal(ackDue.Add(span)) || r[0].Change.Ended[0].State != safeguard.ClockRunning {
		t.Errorf("the resume was recorded as %+v, want both clocks running with due moved by %s", r, span)
	}
	if n := len(h.changesOf(safeguard.ActionTriage)); n != 0 {
		t.Errorf("the refused triage reached ApplyChange %d times", n)
	}
}

func TestPauseAndResumeWithTheSecondsPolicy(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	pause := h.act(5*time.Second, leiLead, safeguard.ActionPause, safeguard.Input{Reason: "r"}, nil)
	resume := h.act(65*time.Second, leiLead, safeguard.ActionResume, safeguard.Input{Reason: "r"}, nil)
	h.run(75 * time.Second)
	accepted(t, "pause", pause, safeguard.StagePaused)
	accepted(t, "resume", resume, safeguard.StageNotification)
	// Rungs at 10s... move by 60s; the due, 20s, to 80s.
	want := []string{"la_acknowledgement-1[0]@1m10s", "triage_decision-2[0]@1m10s"}
	if got := h.stepTrace(); !slices.Equal(got, want) {
		t.Errorf("rungs fired %v, want %v", got, want)
	}
	for _, f := range h.steps {
		if !f.in.Clock.Due.Equal(wed.Add(80*time.Second)) || !f.now.Equal(wed.Add(70*time.Second)) {
			t.Errorf("%v: due %s, fired at %s", f, f.in.Clock.Due, f.now)
		}
	}
}

func TestAnActionWhilePausedStopsItsClockForGood(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	h.act(5*time.Second, leiLead, safeguard.ActionPause, safeguard.Input{Reason: "r"}, nil)
	ack := h.act(30*time.Second, leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	h.act(65*time.Second, leiLead, safeguard.ActionResume, safeguard.Input{Reason: "r"}, nil)
	h.runIdle(3 * time.Minute)
	accepted(t, "acknowledge while paused", ack, safeguard.StagePaused)
	if got := h.stepsOf(safeguard.ClockLAAcknowledgement); len(got) != 0 {
		t.Errorf("la_acknowledgement, met while paused, fired after the resume: %v", got)
	}
	if got := h.stepsOf(safeguard.ClockTriageDecision); len(got) != 4 || !got[0].in.At.Equal(wed.Add(70*time.Second)) {
		t.Errorf("triage_decision fired %v, want 4 rungs from 70s", got)
	}
}

// 4. Handovers.

func TestATransferRunsAHandoverClockForTheReceivingPrisonUntilItAcknowledges(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	transfer := h.act(5*time.Second, leiLead, safeguard.ActionTransfer, safeguard.Input{ToEstablish: "WDI"}, wdiOrg)
	ack := h.act(28*time.Second, wdiLead, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	h.runIdle(2 * time.Minute)

	accepted(t, "transfer", transfer, safeguard.StageNotification)
	accepted(t, "acknowledge by WDI", ack, safeguard.StageNotification)
	// Started at 5s: rungs at 15s and 25s before the acknowledgement at 28s; none at 35s, 45s.
	handover := h.stepsOf(safeguard.ClockHandoverAcknowledgement)
	h.checkLadder(safeguard.ClockHandoverAcknowledgement, "WDI", handover,
		wantRung{0, wed.Add(15 * time.Second)}, wantRung{1, wed.Add(25 * time.Second)})
	for _, f := range handover {
		if f.in.Clock.Partner != "LEI" || f.in.Clock.ID != "handover_acknowledgement-3" {
			t.Errorf("%v: partner %s", f, f.in.Clock.Partner)
		}
	}
	// The first clocks go on; after the acknowledgement WDI and its host LA answer for them.
	la := h.stepsOf(safeguard.ClockLAAcknowledgement)
	tri := h.stepsOf(safeguard.ClockTriageDecision)
	if len(la) != 4 || len(tri) != 4 {
		t.Fatalf("la_acknowledgement fired %v and triage_decision %v, want 4 rungs each", la, tri)
	}
	for i := range 4 {
		wantLA, wantTri := "E08000035", "LEI"
		if i >= 2 {
			wantLA, wantTri = "E08000036", "WDI"
		}
		if la[i].in.Clock.Org != wantLA || tri[i].in.Clock.Org != wantTri {
			t.Errorf("rung %d: la_acknowledgement for %s, triage_decision for %s; want %s and %s", i, la[i].in.Clock.Org, tri[i].in.Clock.Org, wantLA, wantTri)
		}
	}
	if c := h.changesOf(safeguard.ActionAcknowledge); len(c) != 1 || c[0].Change.Establishment != "WDI" || c[0].Change.HostLA != "E08000036" ||
		c[0].Change.Event != "handover_acknowledged" {
		t.Errorf("the acknowledgement was recorded as %+v, want the concern taken over by WDI", c)
	}
	if c := h.changesOf(safeguard.ActionTransfer); len(c) != 1 || len(c[0].Change.Started) != 1 || c[0].Change.Started[0].Org != "WDI" {
		t.Errorf("the transfer was recorded as %+v, want a handover clock for WDI", c)
	}
}

func TestAReleaseStopsThePrisonClocksAndRunsAHandoverClockUntilTheLAAcknowledges(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	release := h.act(15*time.Second, leiLead, safeguard.ActionRelease, safeguard.Input{ReceivingLA: "E08000036", ReleaseDate: "2026-12-01"}, wakefieldOrg)
	ack := h.act(40*time.Second, wakefield, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	h.runIdle(2 * time.Minute)

	accepted(t, "release", release, safeguard.StageNotification)
	accepted(t, "acknowledge by the receiving LA", ack, safeguard.StageHandedOver)
	// The first clocks fired their 10s rungs, then stopped at 15s.
	want := []string{
		"la_acknowledgement-1[0]@10s", "triage_decision-2[0]@10s",
		"handover_acknowledgement-3[0]@25s", "handover_acknowledgement-3[1]@35s",
	}
	if got := h.stepTrace(); !slices.Equal(got, want) {
		t.Errorf("rungs fired %v, want %v", got, want)
	}
	h.checkLadder(safeguard.ClockHandoverAcknowledgement, "E08000036", h.stepsOf(safeguard.ClockHandoverAcknowledgement),
		wantRung{0, wed.Add(25 * time.Second)}, wantRung{1, wed.Add(35 * time.Second)})
	c := h.changesOf(safeguard.ActionRelease)
	if len(c) != 1 || len(c[0].Change.Ended) != 2 {
		t.Fatalf("the release was recorded as %+v, want both first clocks ended", c)
	}
	for _, e := range c[0].Change.Ended {
		if e.State != safeguard.ClockStopped {
			t.Errorf("on release %s is %s, want stopped", e.ID, e.State)
		}
	}
}

func TestAReferralToTheLAStopsThePrisonClocksUntilTheHostLAAcknowledges(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	refer := h.act(5*time.Second, leiLead, safeguard.ActionTriage, safeguard.Input{Decision: "refer_to_la", Rationale: "LA-led s.42"}, nil)
	ack := h.act(23*time.Second, leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	h.runIdle(2 * time.Minute)
	accepted(t, "refer_to_la", refer, safeguard.StageHandedOver)
	accepted(t, "acknowledge the referral", ack, safeguard.StageHandedOver)
	want := []string{"handover_acknowledgement-3[0]@15s"} // due at 25s: acknowledged at 23s
	if got := h.stepTrace(); !slices.Equal(got, want) {
		t.Errorf("rungs fired %v, want %v", got, want)
	}
	if c := h.changesOf(safeguard.ActionAcknowledge); len(c) != 1 || len(c[0].Change.Ended) != 1 ||
		c[0].Change.Ended[0].Name != safeguard.ClockHandoverAcknowledgement || c[0].Change.Ended[0].State != safeguard.ClockMet {
		t.Errorf("the acknowledgement was recorded as %+v, want the handover clock met", c)
	}
}

// 5. Refused actions.

func TestRefusedActionsAreRejectedBeforeAnythingIsWritten(t *testing.T) {
	h := newHarness(t, wed, nil)
	m := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	ackByLead := h.act(m(10), leiLead, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	findingsEarly := h.act(m(20), leiLead, safeguard.ActionFindings, safeguard.Input{Risk: "not_identified", ActionTaken: &yes, Summary: "s"}, nil)
	outOfScope := h.act(m(25), wakefield, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	badInput := h.act(m(27), leiLead, safeguard.ActionTriage, safeguard.Input{Decision: "maybe"}, nil)
	mislabelled := h.send(m(28), string(safeguard.ActionTriage), safeguard.Command{Action: safeguard.ActionAcknowledge, Actor: leedsLA})
	ack := h.act(m(30), leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	ackAgain := h.act(m(40), leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	triage := h.act(m(50), leiLead, safeguard.ActionTriage, safeguard.Input{Decision: "enquiry"}, nil)
	triageAgain := h.act(m(60), leiLead, safeguard.ActionTriage, safeguard.Input{Decision: "no_further_action", Rationale: "r"}, nil)
	signOffUnproposed := h.act(m(65), leiMgr, safeguard.ActionSignOffClosure, safeguard.Input{}, nil)
	signOffByLead := h.act(m(67), leiLead, safeguard.ActionSignOffClosure, safeguard.Input{}, nil)
	resumeUnpaused := h.act(m(68), leiLead, safeguard.ActionResume, safeguard.Input{Reason: "r"}, nil)
	contributeUnasked := h.act(m(69), leedsLA, safeguard.ActionContribute, safeguard.Input{Advice: "a", CareAssessment: "needed"}, nil)
	findings := h.act(m(70), leiLead, safeguard.ActionFindings, safeguard.Input{Risk: "not_identified", ActionTaken: &yes, Summary: "s"}, nil)
	h.runIdle(m(120)) // every clock is met by then

	refused(t, "acknowledge by the prison lead", ackByLead, safeguard.EFORBIDDEN)
	refused(t, "findings in notification", findingsEarly, safeguard.ECONFLICT)
	refused(t, "acknowledge by an LA not involved", outOfScope, safeguard.ENOTFOUND)
	refused(t, "triage with an unknown decision", badInput, safeguard.EINVALID)
	refused(t, "an acknowledge command sent as triage", mislabelled, safeguard.EINVALID)
	accepted(t, "acknowledge", ack, safeguard.StageNotification)
	refused(t, "acknowledge twice", ackAgain, safeguard.ECONFLICT)
	accepted(t, "triage", triage, safeguard.StageEnquiry)
	refused(t, "triage twice", triageAgain, safeguard.ECONFLICT)
	refused(t, "sign-off with nothing proposed", signOffUnproposed, safeguard.ECONFLICT)
	refused(t, "sign-off by the prison lead", signOffByLead, safeguard.EFORBIDDEN)
	refused(t, "resume when not paused", resumeUnpaused, safeguard.ECONFLICT)
	refused(t, "contribute unasked", contributeUnasked, safeguard.ECONFLICT)
	accepted(t, "findings after triage", findings, safeguard.StageClosure)

	var appErr *temporal.ApplicationError
	if errors.As(badInput.err, &appErr) {
		var fields map[string]string
		if err := appErr.Details(&fields); err != nil || fields["decision"] == "" {
			t.Errorf("the invalid triage's details are %v (%v), want the field errors", fields, err)
		}
	}
	var keys []string
	for _, c := range h.changes {
		keys = append(keys, c.EventKey)
	}
	want := []string{"update/" + ack.id, "update/" + triage.id, "update/" + findings.id}
	if !slices.Equal(keys, want) {
		t.Errorf("ApplyChange ran for %v, want only the accepted actions %v", keys, want)
	}
	// Nothing refused disturbed the ladder: the triage clock was met at 10:50, la_acknowledgement
	// at 10:30; nothing fired in the first two hours.
	if got := h.stepTrace(); len(got) != 0 {
		t.Errorf("rungs fired: %v", got)
	}
}

func TestAnActionRefusedWhileTheConcernIsBeingRecorded(t *testing.T) {
	h := newHarness(t, wed, nil)
	h.recordFails = 2 // retried after 1s and 2s: recorded at 3s
	early := h.act(time.Second/2, leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	later := h.act(time.Minute, leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	h.run(time.Hour)
	refused(t, "acknowledge before the concern is recorded", early, safeguard.ECONFLICT)
	accepted(t, "acknowledge once recorded", later, safeguard.StageNotification)
	if len(h.changes) != 1 {
		t.Errorf("ApplyChange ran %d times, want once", len(h.changes))
	}
}

// Two identical actions at once both pass validation; the second is decided again when its turn
// comes, and refused then, without being persisted.
func TestConcurrentDuplicateActionsArePersistedOnce(t *testing.T) {
	h := newHarness(t, wed, nil)
	first, second := &sent{id: "ack-1"}, &sent{id: "ack-2"}
	cmd := safeguard.Command{Action: safeguard.ActionAcknowledge, Actor: leedsLA}
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(string(safeguard.ActionAcknowledge), first.id, first.callbacks(), cmd)
		h.env.UpdateWorkflow(string(safeguard.ActionAcknowledge), second.id, second.callbacks(), cmd)
	}, time.Minute)
	h.run(time.Hour)
	accepted(t, "the first acknowledgement", first, safeguard.StageNotification)
	var appErr *temporal.ApplicationError
	if !second.done || !errors.As(second.err, &appErr) || appErr.Type() != safeguard.ECONFLICT {
		t.Errorf("the second acknowledgement answered accepted %v, error %v; want a conflict", second.accepted, second.err)
	}
	if len(h.changes) != 1 || h.changes[0].EventKey != "update/ack-1" {
		t.Errorf("ApplyChange ran for %d changes, want the first acknowledgement only", len(h.changes))
	}
}

// 6. Search attributes.

type upserted struct {
	at       time.Time
	stage    string
	deadline time.Time // zero: unset
}

func TestSearchAttributesFollowTheStageAndTheNextDeadline(t *testing.T) {
	h := newHarness(t, wed, nil)
	h.in.SearchAttributes = true
	var got []upserted
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		u := upserted{at: h.env.Now()}
		u.stage, _ = sa.GetKeyword(StageAttribute)
		u.deadline, _ = sa.GetTime(NextDeadlineAttribute)
		if !sa.ContainsKey(StageAttribute) || sa.Size() > 2 {
			t.Errorf("upserted %v, want the stage and at most the deadline", sa.GetUntypedValues())
		}
		got = append(got, u)
	}).Return(nil)
	h.act(time.Hour, leiLead, safeguard.ActionTriage, safeguard.Input{Decision: "enquiry"}, nil)
	h.act(2*time.Hour, leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	h.act(3*time.Hour, leiLead, safeguard.ActionPause, safeguard.Input{Reason: "r"}, nil)
	h.act(4*time.Hour, leiLead, safeguard.ActionResume, safeguard.Input{Reason: "r"}, nil)
	h.run(5 * time.Hour)

	ackDue := day(26, 10, time.November, 2026)
	enquiryDue := cal.Add(wed.Add(time.Hour), wd(20))
	want := []upserted{
		{wed, "notification", ackDue},
		{wed.Add(time.Hour), "enquiry", ackDue},
		{wed.Add(2 * time.Hour), "enquiry", enquiryDue},
		{wed.Add(3 * time.Hour), "paused", time.Time{}},
		{wed.Add(4 * time.Hour), "enquiry", enquiryDue.Add(time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("upserted %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].at.Equal(want[i].at) || got[i].stage != want[i].stage || !got[i].deadline.Equal(want[i].deadline) {
			t.Errorf("upsert %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSearchAttributesAreUpdatedAfterEachRungBeforeFewerTasks(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	h.beforeCourier()
	h.env.OnGetVersion(fewerTasksVersion, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	h.in.SearchAttributes = true
	var stages []string
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		s, _ := args.Get(0).(temporal.SearchAttributes).GetKeyword(StageAttribute)
		stages = append(stages, s)
	}).Return(nil)
	h.run(15 * time.Second)
	if len(stages) != 3 { // the start, then the two rungs at 10s
		t.Errorf("upserted %d times (%v), want 3", len(stages), stages)
	}
}

// From fewerTasksVersion a rung that changes neither the stage nor the next deadline (a
// reminder) upserts nothing, and a rung that breaches its clock (the deadline moves on to the
// next counting clock's) upserts once.
func TestSearchAttributesAreUpsertedOnlyWhenARungChangesThem(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	h.in.SearchAttributes = true
	var got []upserted
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		u := upserted{at: h.env.Now()}
		u.stage, _ = sa.GetKeyword(StageAttribute)
		u.deadline, _ = sa.GetTime(NextDeadlineAttribute)
		got = append(got, u)
	}).Return(nil)
	h.run(25 * time.Second)
	if len(got) == 0 || !got[0].at.Equal(wed) || got[0].stage != "notification" || !got[0].deadline.Equal(wed.Add(20*time.Second)) {
		t.Fatalf("upserted %+v, want the stage and the first due time at the start", got)
	}
	for _, u := range got[1:] {
		if !u.at.Equal(wed.Add(20 * time.Second)) {
			t.Errorf("upserted %+v at %s: the reminders at 10s change nothing, only the breach at 20s does", u, u.at.Sub(wed))
		}
	}
	if len(h.steps) != 4 {
		t.Errorf("fired %v, want two reminders and two overdue rungs", h.stepTrace())
	}
}

// The start request carries the search attributes the workflow would upsert first, so a raise
// upserts none.
func TestARaiseStartedWithItsSearchAttributesUpsertsNone(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	h.in.SearchAttributes = true
	h.env.SetTypedSearchAttributesOnStart(StartSearchAttributes(h.in))
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Maybe()
	h.run(5 * time.Second)
	h.env.AssertNumberOfCalls(t, "workflow.UpsertTypedSearchAttributes", 0)
	if len(h.raises) != 1 {
		t.Errorf("recorded %d raises, want 1", len(h.raises))
	}
	sa := StartSearchAttributes(h.in)
	if stage, _ := sa.GetKeyword(StageAttribute); stage != "notification" || sa.Size() != 2 {
		t.Errorf("start attributes %v, want the stage and the next deadline", sa.GetUntypedValues())
	}
	if StartSearchAttributes(ConcernInput{RaiseInput: h.in.RaiseInput}).Size() != 0 {
		t.Error("start attributes without SearchAttributes, want none")
	}
}

func TestWithoutSearchAttributesNothingIsUpserted(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Maybe()
	nfa := h.act(25*time.Second, leiLead, safeguard.ActionTriage, safeguard.Input{Decision: "no_further_action", Rationale: "Tests not met."}, nil)
	h.runIdle(2 * time.Minute)
	accepted(t, "triage: no further action", nfa, safeguard.StageNoFurtherAction)
	h.env.AssertNumberOfCalls(t, "workflow.UpsertTypedSearchAttributes", 0)
	// No further action ends every clock: the rungs stop at 20s.
	want := []string{"la_acknowledgement-1[0]@10s", "triage_decision-2[0]@10s", "la_acknowledgement-1[1]@20s", "triage_decision-2[1]@20s"}
	if got := h.stepTrace(); !slices.Equal(got, want) {
		t.Errorf("rungs fired %v, want %v", got, want)
	}
}

// 7. Continue-as-new.

func TestContinueAsNewCarriesTheLadderOverWithoutRepeatingARung(t *testing.T) {
	p := secondsPolicy(t)
	first := newHarness(t, wed, p)
	first.in.SearchAttributes = true
	first.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Maybe()
	ack := first.act(12*time.Second, leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	first.env.RegisterDelayedCallback(func() { first.env.SetContinueAsNewSuggested(true) }, 15*time.Second)
	first.env.ExecuteWorkflow(Concern, first.in)

	var can *workflow.ContinueAsNewError
	if err := first.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("the first run ended with %v, want continue-as-new", err)
	}
	accepted(t, "acknowledge", ack, safeguard.StageNotification)
	var next ConcernInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if can.WorkflowType == nil || can.WorkflowType.Name != "Concern" || next.Reference != first.in.Reference || next.Policy == nil ||
		next.Policy.Fingerprint() != p.Fingerprint() || !next.SearchAttributes || next.Continued == nil {
		t.Fatalf("continued as %v with %+v, want Concern with the same reference, policy and a lifecycle", can.WorkflowType, next)
	}
	// The suggestion came at 15s; the run went on to the next rung (triage overdue at 20s) and
	// then handed over.
	if got, want := first.stepTrace(), []string{"la_acknowledgement-1[0]@10s", "triage_decision-2[0]@10s", "triage_decision-2[1]@20s"}; !slices.Equal(got, want) {
		t.Errorf("the first run fired %v, want %v", got, want)
	}
	life := next.Continued
	if !life.Acknowledged || len(life.Clocks) != 2 || life.Clocks[0].State != safeguard.ClockMet || life.Clocks[1].Steps != 2 ||
		life.Clocks[1].State != safeguard.ClockBreached {
		t.Errorf("carried over %+v, want la_acknowledgement met and triage_decision breached after 2 rungs", life)
	}

	second := newHarness(t, wed.Add(20*time.Second), p)
	second.in = next
	second.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Maybe()
	// What the first run left pending is the courier's: the continued run does not ask.
	second.env.OnActivity(a.PendingMail, mock.Anything, mock.Anything).Return([]string{"k/left-1"}, nil).Maybe()
	raised := second.send(time.Second, UpdateRaised, safeguard.Command{})
	second.runIdle(2 * time.Minute)
	second.env.AssertNotCalled(t, "PendingMail", mock.Anything, mock.Anything)
	if len(second.raises) != 0 {
		t.Errorf("the continued run recorded the raise again: %+v", second.raises)
	}
	if got, want := second.mail(), []string{stepKey(second.steps[0].in), stepKey(second.steps[1].in)}; !slices.Equal(got, want) {
		t.Errorf("the continued run put %v in the outbox, want its two rungs' mail %v", got, want)
	}
	if !raised.done || raised.err != nil || raised.concern == nil || raised.concern.Reference != next.Reference {
		t.Errorf("the raised Update answered %+v on the continued run", raised.updateResult)
	}
	if got, want := second.stepTrace(), []string{"triage_decision-2[2]@30s", "triage_decision-2[3]@40s"}; !slices.Equal(got, want) {
		t.Errorf("the continued run fired %v, want %v", got, want)
	}
}

// A run continued before courierVersion delivers what the previous run left pending.
func TestAContinuedRunBeforeTheCourierDeliversWhatThePreviousRunLeftPending(t *testing.T) {
	p := secondsPolicy(t)
	h := newHarness(t, wed, p)
	h.beforeCourier()
	h.in.Continued = safeguard.NewLifecycle(h.in.Reference, "LEI", "E08000035", leiLead.ID, wed, func(name string, start time.Time) time.Time {
		c, _ := p.Clock(name)
		return c.DueAt(cal, start)
	})
	h.env.OnActivity(a.PendingMail, mock.Anything, h.in.Reference).Return([]string{"k/left-1", "k/left-2"}, nil).Once()
	h.runIdle(2 * time.Minute)
	h.env.AssertExpectations(t)
	if h.deliveries("k/left-1") != 1 || h.deliveries("k/left-2") != 1 {
		t.Errorf("delivered %v, want each pending message once", h.mail())
	}
}

func TestAContinuedRunFiresARungThatFellDueDuringTheHandover(t *testing.T) {
	p := secondsPolicy(t)
	h := newHarness(t, wed, p)
	life := safeguard.NewLifecycle(h.in.Reference, "LEI", "E08000035", leiLead.ID, wed, func(name string, start time.Time) time.Time {
		c, _ := p.Clock(name)
		return c.DueAt(cal, start)
	})
	life.Clocks[0].Steps = 1 // la_acknowledgement: the reminder at 10s has fired
	life.Clocks[1].Steps = 2 // triage_decision: reminder and overdue fired
	life.Clocks[1].State = safeguard.ClockBreached
	h.in.Continued = life
	h.env.SetStartTime(wed.Add(25 * time.Second)) // la_acknowledgement's overdue rung (20s) has passed
	h.runIdle(2 * time.Minute)
	h.env.AssertExpectations(t)
	want := []string{"la_acknowledgement-1[1]@20s", "la_acknowledgement-1[2]@30s", "triage_decision-2[2]@30s",
		"la_acknowledgement-1[3]@40s", "triage_decision-2[3]@40s"}
	if got := h.stepTrace(); !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
	if f := h.stepsOf(safeguard.ClockLAAcknowledgement); len(f) == 0 || !f[0].now.Equal(wed.Add(25*time.Second)) {
		t.Errorf("the missed rung fired %v, want at once (25s)", f)
	}
	if len(h.raises) != 0 || len(h.mail()) != len(want) {
		t.Errorf("raises %d, mail %v", len(h.raises), h.mail())
	}
}

// The first version of the workflow (before the lifecycle) replays its own path: record,
// deliver, wait; no ladder and no actions.
func TestAConcernStartedBeforeTheLifecycleKeepsTheFirstVersionsPath(t *testing.T) {
	h := newHarness(t, wed, nil)
	h.beforeCourier()
	h.env.OnGetVersion(fewerTasksVersion, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	h.env.OnGetVersion(lifecycleVersion, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	ack := h.act(time.Hour, leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	h.run(30 * 24 * time.Hour)
	refused(t, "acknowledge on a first-version concern", ack, safeguard.ECONFLICT)
	if len(h.raises) != 1 || h.raises[0].Clocks != nil {
		t.Errorf("recorded %+v, want the raise once without clocks", h.raises)
	}
	if len(h.steps) != 0 || len(h.changes) != 0 {
		t.Errorf("a first-version concern fired %v and applied %d changes", h.stepTrace(), len(h.changes))
	}
	if h.deliveries(h.in.Reference+"/raised/host_la") != 1 {
		t.Errorf("delivered %v", h.mail())
	}
}

// 8. Timers are not left behind.

// pendingTimers tracks the workflow's timers through the environment's listeners: when each
// pending one would fire.
type pendingTimers struct {
	env      *testsuite.TestWorkflowEnvironment
	pending  map[string]time.Time
	canceled int
}

func watchTimers(env *testsuite.TestWorkflowEnvironment) *pendingTimers {
	p := &pendingTimers{env: env, pending: map[string]time.Time{}}
	env.SetOnTimerScheduledListener(func(id string, d time.Duration) { p.pending[id] = env.Now().Add(d) })
	env.SetOnTimerFiredListener(func(id string) { delete(p.pending, id) })
	env.SetOnTimerCanceledListener(func(id string) { delete(p.pending, id); p.canceled++ })
	return p
}

func (p *pendingTimers) times() []time.Time {
	var out []time.Time
	for _, t := range p.pending {
		out = append(out, t)
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

func TestAnActionCancelsTheTimerOfTheRungItMakesNeedless(t *testing.T) {
	h := newHarness(t, wed, nil)
	timers := watchTimers(h.env)
	var before, after []time.Time
	h.env.RegisterDelayedCallback(func() { before = timers.times() }, time.Hour)
	h.act(2*time.Hour, leedsLA, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	h.env.RegisterDelayedCallback(func() { after = timers.times() }, 3*time.Hour)
	h.run(cal.Add(wed, wd(1)).Add(time.Hour).Sub(wed)) // Thu 11:00

	thu := day(26, 10, time.November, 2026)
	// Before: one timer, for Thursday 10:00 (la_acknowledgement overdue; triage's reminder at the
	// same time waits its turn). After the acknowledgement: that timer was cancelled and the one
	// timer left is for triage's reminder, also Thursday 10:00.
	if len(before) != 1 || !before[0].Equal(thu) {
		t.Errorf("timers before the acknowledgement: %v, want one for %s", before, thu)
	}
	if len(after) != 1 || !after[0].Equal(thu) || timers.canceled == 0 {
		t.Errorf("timers after the acknowledgement: %v (%d cancelled), want one for %s", after, timers.canceled, thu)
	}
	if got, want := h.stepTrace(), []string{"triage_decision-2[0]@24h0m0s"}; !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v: the cancelled timer fired late", got, want)
	}
}

func TestNoTimerIsPendingWhileTheConcernIsPaused(t *testing.T) {
	h := newHarness(t, wed, nil)
	timers := watchTimers(h.env)
	resumeAt := 7 * 24 * time.Hour // Wednesday 2 December 10:00
	var paused []time.Time
	var firedWhilePaused []string
	h.act(time.Hour, leiLead, safeguard.ActionPause, safeguard.Input{Reason: "r"}, nil)
	h.env.RegisterDelayedCallback(func() { paused = timers.times() }, 2*time.Hour)
	h.env.RegisterDelayedCallback(func() { firedWhilePaused = h.stepTrace() }, resumeAt-time.Second)
	h.act(resumeAt, leiLead, safeguard.ActionResume, safeguard.Input{Reason: "r"}, nil)
	h.run(resumeAt + time.Minute)
	if len(paused) != 0 {
		t.Errorf("timers pending while paused: %v", paused)
	}
	if len(firedWhilePaused) != 0 {
		t.Errorf("rungs fired while paused: %v", firedWhilePaused)
	}
}

// Bugs found. Each test states the rule, fails against the current code as noted, and is left
// commented out until the code is fixed (workflows/ladder.go, concern.go and lifecycle.go are
// not this file's to change).

// Found by testing; the rule holds since the fix.
func TestACancelledConcernWithNoRungPendingEndsCancelled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		action safeguard.Action
		input  safeguard.Input
	}{
		{"no further action", safeguard.ActionTriage, safeguard.Input{Decision: "no_further_action", Rationale: "r"}},
		{"paused", safeguard.ActionPause, safeguard.Input{Reason: "r"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, wed, nil)
			h.act(time.Hour, leiLead, tc.action, tc.input, nil)
			h.env.SetWorkflowRunTimeout(48 * time.Hour)
			h.run(2 * time.Hour) // observed: ends with a TimeoutError at 48h, not cancelled at 2h
		})
	}
	h := newHarness(t, wed, secondsPolicy(t))
	h.env.SetWorkflowRunTimeout(time.Hour)
	h.run(time.Minute) // every ladder done at 40s; observed: TimeoutError at 1h
}

// Found by testing; the rule holds since the fix.
func TestNoClockCountsOnceAReleaseIsAcknowledged(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	h.act(2*time.Second, leiLead, safeguard.ActionRelease, safeguard.Input{ReceivingLA: "E08000036", ReleaseDate: "2026-12-01"}, wakefieldOrg)
	h.act(3*time.Second, leiLead, safeguard.ActionTriage, safeguard.Input{Decision: "enquiry"}, nil) // accepted: starts enquiry_completion
	ack := h.act(4*time.Second, wakefield, safeguard.ActionAcknowledge, safeguard.Input{}, nil)
	h.runIdle(time.Minute)
	accepted(t, "acknowledge the release", ack, safeguard.StageHandedOver)
	// Observed: enquiry_completion-4 fires at 13s, 23s, 33s and 43s, escalating to LEI's
	// managers (and Leeds's) about a concern handed over to Wakefield.
	if got := h.stepTrace(); len(got) != 0 {
		t.Errorf("rungs fired after the concern was handed over: %v", got)
	}
}

// Found by testing; the rule holds since the fix.
func TestATransferAcknowledgedWhilePausedHandsEveryClockToTheNewEstablishment(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	h.act(2*time.Second, leiLead, safeguard.ActionTransfer, safeguard.Input{ToEstablish: "WDI"}, wdiOrg)
	h.act(3*time.Second, leiLead, safeguard.ActionPause, safeguard.Input{Reason: "r"}, nil)
	ack := h.act(4*time.Second, wdiLead, safeguard.ActionAcknowledge, safeguard.Input{}, nil) // allowed while paused
	resume := h.act(5*time.Second, wdiLead, safeguard.ActionResume, safeguard.Input{Reason: "r"}, nil)
	h.runIdle(time.Minute)
	accepted(t, "acknowledge the transfer", ack, safeguard.StagePaused)
	accepted(t, "resume by WDI", resume, safeguard.StageNotification)
	// Observed: after the resume triage_decision is still LEI's and la_acknowledgement Leeds's
	// (E08000035), so every rung goes to the prison and LA that no longer hold the concern.
	for _, f := range h.steps {
		want := map[string]string{safeguard.ClockLAAcknowledgement: "E08000036", safeguard.ClockTriageDecision: "WDI"}[f.in.Clock.Name]
		if f.in.Clock.Org != want {
			t.Errorf("%v: responsible %s, want %s", f, f.in.Clock.Org, want)
		}
	}
}

// Found by testing; the rule holds since the fix.
func TestAContributionWhilePausedReturnsTheConcernToTheEnquiryOnResume(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	h.act(2*time.Second, leiLead, safeguard.ActionTriage, safeguard.Input{Decision: "enquiry"}, nil)
	h.act(3*time.Second, leiLead, safeguard.ActionRequestAdvice, safeguard.Input{Organisation: "E08000035", Question: "q"}, leedsOrg)
	h.act(4*time.Second, leiLead, safeguard.ActionPause, safeguard.Input{Reason: "r"}, nil)
	h.act(5*time.Second, leedsLA, safeguard.ActionContribute, safeguard.Input{Advice: "a", CareAssessment: "needed"}, nil) // allowed while paused
	resume := h.act(6*time.Second, leiLead, safeguard.ActionResume, safeguard.Input{Reason: "r"}, nil)
	h.run(7 * time.Second)
	// Observed: la_contribution, with no request for advice outstanding.
	accepted(t, "resume after the only contribution came in", resume, safeguard.StageEnquiry)
}

// Found by testing; the rule holds since the fix.
func TestAClockBreachedBeforeAPauseIsStillBreachedAfterTheResume(t *testing.T) {
	h := newHarness(t, wed, secondsPolicy(t))
	h.act(25*time.Second, leiLead, safeguard.ActionPause, safeguard.Input{Reason: "r"}, nil) // both clocks breached at 20s
	h.act(26*time.Second, leiLead, safeguard.ActionResume, safeguard.Input{Reason: "r"}, nil)
	h.run(28 * time.Second)
	r := h.changesOf(safeguard.ActionResume)
	if len(r) != 1 {
		t.Fatalf("resume recorded %d times", len(r))
	}
	// Observed: both resumed as "running", due 21s, at 26s: past due but not breached until
	// their next rung (30s with this policy, 2 working days with the default one).
	for _, c := range r[0].Change.Ended {
		if c.State != safeguard.ClockBreached {
			t.Errorf("%s resumed %s, due %s at %s; want breached", c.ID, c.State, c.Due.Sub(wed), 26*time.Second)
		}
	}
}
