package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/activities"
)

// rung is the next step of one clock's escalation ladder.
type rung struct {
	clock *safeguard.ClockInstance
	index int
	at    time.Time
}

// nextRung returns the earliest rung still to fire among the clocks that are counting, or nil.
// Reminder rungs that would fall at or before the clock's start are skipped: a one-day clock
// has no "one day before" (they are passed over in fire, which records nothing for them).
func (w *concern) nextRung() *rung {
	var next *rung
	for _, c := range w.life.Clocks {
		if !c.Live() {
			continue
		}
		policy, _ := w.in.Policy.Clock(c.Name)
		if c.Steps >= len(policy.Ladder) {
			continue
		}
		at := policy.StepAt(w.cal, c.Due, c.Steps)
		if next == nil || at.Before(next.at) || (at.Equal(next.at) && c.ID < next.clock.ID) {
			next = &rung{clock: c, index: c.Steps, at: at}
		}
	}
	return next
}

// fire records one rung through an activity (mail once per concern, clock and rung; a timeline
// entry; the clock's progress in SQL) and sends its mail.
//
// It holds the same turn as an action, so a rung and an action never interleave; and it updates
// the clock by ID in the state as it is afterwards.
func (w *concern) fire(ctx workflow.Context, r *rung) error {
	if err := workflow.Await(ctx, func() bool { return !w.busy }); err != nil {
		return err
	}
	w.busy = true
	defer func() { w.busy = false }()
	c := w.life.Clock(r.clock.ID)
	if c == nil || !c.Live() || c.Steps != r.index {
		return nil // an action stopped or moved the clock while this rung waited its turn
	}
	policy, _ := w.in.Policy.Clock(c.Name)
	step := policy.Ladder[r.index]
	if at := policy.StepAt(w.cal, c.Due, r.index); !at.Equal(r.at) {
		return nil // the clock's due moved (a pause): the loop finds the rung's new time
	}
	if r.at.Before(c.Due) && !r.at.After(c.Started) {
		c.Steps++ // a reminder that would come before the clock started
		return nil
	}
	targets := make([]string, len(step.Notify))
	for i, t := range step.Notify {
		targets[i] = string(t)
	}
	breached := !r.at.Before(c.Due)
	var keys []string
	err := w.record(ctx, a.FireStep, activities.StepInput{
		Reference: w.in.Reference, Clock: *c, Index: r.index, At: r.at, Breached: breached, Targets: targets,
	}, &keys)
	if err != nil {
		return err
	}
	c.Steps = r.index + 1
	if breached {
		c.State, c.Breached = safeguard.ClockBreached, true
	}
	w.deliver(ctx, keys)
	w.upsertSearchAttributes(ctx)
	return nil
}
