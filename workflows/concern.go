// Package workflows holds the durable processes of the service. One Concern workflow carries one
// safeguarding concern, with the concern's reference as its workflow ID. Workflows decide what
// happens and when; activities do the writing and the sending.
package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/activities"
	"github.com/safeguard-project/safeguard/calendar"
	"github.com/safeguard-project/safeguard/policy"
)

// TaskQueue is the queue the service's workers poll.
const TaskQueue = "safeguard"

// UpdateRaised is the Update a raising caller sends with the workflow's start
// (Update-with-Start). It completes once the concern is recorded and answers with it, so the
// HTTP request that raised the concern returns the stored concern.
const UpdateRaised = "raised"

// Actions are the lifecycle Updates, named after the domain's actions. Each takes a
// safeguard.Command and answers with the concern's new state.
var Actions = []safeguard.Action{
	safeguard.ActionAcknowledge, safeguard.ActionTriage, safeguard.ActionRequestAdvice, safeguard.ActionContribute,
	safeguard.ActionFindings, safeguard.ActionProposeClosure, safeguard.ActionSignOffClosure, safeguard.ActionPause,
	safeguard.ActionResume, safeguard.ActionTransfer, safeguard.ActionRelease, safeguard.ActionReopen,
}

// Search attributes the workflow keeps current when the namespace has them. They hold a stage
// and a deadline, never personal data: Temporal stores them unencrypted.
var (
	StageAttribute        = temporal.NewSearchAttributeKeyKeyword("SafeguardStage")
	NextDeadlineAttribute = temporal.NewSearchAttributeKeyTime("SafeguardNextDeadline")
)

// ConcernInput starts a Concern workflow: the validated raise, its reference, the policy it is
// raised under (kept for its whole life), and, after a continue-as-new, the state carried over.
type ConcernInput struct {
	activities.RaiseInput
	Policy           *policy.Policy       `json:",omitempty"`
	SearchAttributes bool                 `json:",omitempty"`
	Continued        *safeguard.Lifecycle `json:",omitempty"`
}

// a is only used to name activity methods; Temporal calls the registered instance.
var a *activities.Activities

// lifecycleVersion marks the change from the first version (record, deliver, wait) to the full
// lifecycle. Workflows started before it replay the first version's path.
const lifecycleVersion = "lifecycle"

// Concern is the workflow of one concern. It records the concern (the row exists only because
// the workflow does, and the workflow's first act is to write it, so neither is ever without
// the other), delivers its notifications, and then carries the lifecycle: each action is an
// Update, each deadline a durable timer that walks its clock's escalation ladder.
func Concern(ctx workflow.Context, in ConcernInput) error {
	w := &concern{in: in, changed: workflow.NewBufferedChannel(ctx, 1)}
	if in.Policy == nil {
		p := policy.Default()
		w.in.Policy = &p
	}
	w.cal = calendar.EnglandAndWales()
	if err := w.setup(ctx); err != nil {
		return err
	}
	if workflow.GetVersion(ctx, lifecycleVersion, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return w.runFirstVersion(ctx)
	}
	return w.run(ctx)
}

// concern is the state of one Concern workflow.
type concern struct {
	in       ConcernInput
	cal      *calendar.Calendar
	life     *safeguard.Lifecycle
	recorded *safeguard.Concern
	changed  workflow.Channel // an Update changed the state: look at the timers again
	busy     bool             // an Update is persisting its change
	sending  int              // deliveries in flight
}

// due is the concern's scheduler: when a clock started at start falls due under its policy.
func (w *concern) due(name string, start time.Time) time.Time {
	c, _ := w.in.Policy.Clock(name)
	return c.DueAt(w.cal, start)
}

func (w *concern) setup(ctx workflow.Context) error {
	err := workflow.SetUpdateHandler(ctx, UpdateRaised, func(ctx workflow.Context) (*safeguard.Concern, error) {
		if err := workflow.Await(ctx, func() bool { return w.recorded != nil }); err != nil {
			return nil, err
		}
		return w.recorded, nil
	})
	if err != nil {
		return err
	}
	for _, action := range Actions {
		err := workflow.SetUpdateHandlerWithOptions(ctx, string(action),
			func(ctx workflow.Context, cmd safeguard.Command) (*safeguard.Concern, error) { return w.act(ctx, cmd) },
			workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, cmd safeguard.Command) error {
				return w.check(ctx, action, cmd)
			}})
		if err != nil {
			return err
		}
	}
	return nil
}

// check is every action's validator: it runs the lifecycle's rules on the current state without
// keeping the result, so a refused action leaves nothing in the history.
func (w *concern) check(ctx workflow.Context, action safeguard.Action, cmd safeguard.Command) error {
	if cmd.Action != action {
		return refusal(safeguard.Errorf(safeguard.EINVALID, "the command is for %s, sent as %s", cmd.Action, action))
	}
	if w.life == nil {
		return refusal(safeguard.Errorf(safeguard.ECONFLICT, "the concern is still being recorded, or predates the lifecycle"))
	}
	_, err := w.life.Apply(cmd, workflow.Now(ctx), w.due)
	return refusal(err)
}

// act applies one action: decide, persist through an activity, then adopt the new state.
// Actions are applied one at a time, in the order they arrive.
func (w *concern) act(ctx workflow.Context, cmd safeguard.Command) (*safeguard.Concern, error) {
	if err := workflow.Await(ctx, func() bool { return !w.busy }); err != nil {
		return nil, err
	}
	w.busy = true
	defer func() { w.busy = false }()
	ch, err := w.life.Apply(cmd, workflow.Now(ctx), w.due)
	if err != nil {
		return nil, refusal(err) // the state moved on since validation
	}
	info := workflow.GetCurrentUpdateInfo(ctx)
	var res activities.ChangeApplied
	err = workflow.ExecuteActivity(w.recordOptions(ctx), a.ApplyChange, activities.ChangeInput{
		Reference: w.in.Reference, EventKey: "update/" + info.ID, Change: ch,
	}).Get(ctx, &res)
	if err != nil {
		return nil, err
	}
	w.life = ch.Lifecycle
	for _, c := range w.life.Contributions { // answers live in SQL, not in workflow state
		c.Advice, c.CareAssessment = "", ""
	}
	w.deliver(ctx, res.MailKeys)
	w.upsertSearchAttributes(ctx)
	w.changed.SendAsync(struct{}{})
	return res.Concern, nil
}

// refusal turns a domain error into an application error whose type is the error code, so the
// caller can answer 409, 403 or 422 as the domain decided.
func refusal(err error) error {
	var e *safeguard.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	var details any
	if len(e.Fields) > 0 {
		details = e.Fields
	}
	return temporal.NewNonRetryableApplicationError(e.Message, e.Code, nil, details)
}

func (w *concern) recordOptions(ctx workflow.Context) workflow.Context {
	// Retried until the database accepts it: a raised concern or a taken action must not be
	// lost because the database was briefly away. The backoff is capped at a few seconds, well
	// under what a caller waits (the API's RaiseTimeout, 20 s): with a cap of a minute, a
	// recording that had failed through a 35 s outage slept on for ~30 s after the database
	// came back, so the raise's repeat with its Idempotency-Key was refused again
	// (TestPostgresRestartUnderLoad). An attempt every 5 s during a long outage costs a failed
	// connection each. The retry policy is not part of the replay check, so histories replay.
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Second},
	})
}

// run carries the lifecycle: record (or take over the state of the previous run), then wait for
// the next ladder rung or an action, until the server suggests continuing as new.
func (w *concern) run(ctx workflow.Context) error {
	if err := w.start(ctx); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return temporal.NewCanceledError() // cancelled: nothing more to wait for
		}
		next := w.nextRung()
		fired := false
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		if next != nil {
			wait := next.at.Sub(workflow.Now(ctx))
			if wait <= 0 {
				cancelTimer()
				if err := w.fire(ctx, next); err != nil {
					return err
				}
				continue
			}
			sel.AddFuture(workflow.NewTimer(timerCtx, wait), func(f workflow.Future) { fired = f.Get(ctx, nil) == nil })
		}
		sel.AddReceive(w.changed, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {}) // cancelled: the loop's next turn ends it
		sel.Select(ctx)
		cancelTimer() // a timer whose clock was stopped or moved is not left behind
		if fired {
			if err := w.fire(ctx, next); err != nil {
				return err
			}
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return w.continueAsNew(ctx)
		}
	}
}

// start records a new concern with its first clocks, or resumes a continued one and re-sends any
// mail the previous run left pending.
func (w *concern) start(ctx workflow.Context) error {
	if w.in.Continued != nil {
		w.life = w.in.Continued
		w.recorded = &safeguard.Concern{Reference: w.in.Reference}
		var keys []string
		if err := workflow.ExecuteActivity(w.recordOptions(ctx), a.PendingMail, w.in.Reference).Get(ctx, &keys); err != nil {
			return err
		}
		w.deliver(ctx, keys)
		w.upsertSearchAttributes(ctx)
		return nil
	}
	life := safeguard.NewLifecycle(w.in.Reference, w.in.Raise.Establishment, w.in.HostLA, w.in.RaisedBy, w.in.RaisedAt, w.due)
	if w.in.Raise.AllegationAgainstStaff {
		life.StaffAllegationAt = w.in.Raise.Establishment
	}
	in := w.in.RaiseInput
	in.Clocks = life.Clocks
	var rec activities.RaiseRecorded
	if err := workflow.ExecuteActivity(w.recordOptions(ctx), a.RecordRaise, in).Get(ctx, &rec); err != nil {
		return err
	}
	w.life, w.recorded = life, rec.Concern
	w.deliver(ctx, rec.MailKeys)
	w.upsertSearchAttributes(ctx)
	return nil
}

// continueAsNew hands the state to a fresh run once every Update and delivery has finished.
func (w *concern) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && w.sending == 0 }); err != nil {
		return err
	}
	next := w.in
	next.Continued = w.life
	return workflow.NewContinueAsNewError(ctx, Concern, next)
}

// runFirstVersion is the behaviour of workflows started before the lifecycle: record, deliver,
// and stay open. It must not change: their histories replay through it.
func (w *concern) runFirstVersion(ctx workflow.Context) error {
	var rec activities.RaiseRecorded
	if err := workflow.ExecuteActivity(w.recordOptions(ctx), a.RecordRaise, w.in.RaiseInput).Get(ctx, &rec); err != nil {
		return err
	}
	w.recorded = rec.Concern
	ctx = workflow.WithActivityOptions(ctx, deliveryOptions)
	futures := make([]workflow.Future, len(rec.MailKeys))
	for i, key := range rec.MailKeys {
		futures[i] = workflow.ExecuteActivity(ctx, a.DeliverMail, key)
	}
	for _, f := range futures {
		_ = f.Get(ctx, nil)
	}
	return workflow.Await(ctx, func() bool { return false })
}

// A send is bounded by the mail client's own timeout (10s); the activity's is a little longer,
// and short, because an attempt lost with a crashed worker is only retried once it times out.
var deliveryOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 15 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
}

// deliver sends each message in the background; the lifecycle does not wait for the relay.
// A message refused for good is marked failed in the outbox by the activity.
func (w *concern) deliver(ctx workflow.Context, keys []string) {
	ctx = workflow.WithActivityOptions(ctx, deliveryOptions)
	for _, key := range keys {
		w.sending++
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { w.sending-- }()
			if err := workflow.ExecuteActivity(ctx, a.DeliverMail, key).Get(ctx, nil); err != nil {
				workflow.GetLogger(ctx).Warn("mail not delivered", "key", key, "error", err)
			}
		})
	}
}

func (w *concern) upsertSearchAttributes(ctx workflow.Context) {
	if !w.in.SearchAttributes || w.life == nil {
		return
	}
	updates := []temporal.SearchAttributeUpdate{StageAttribute.ValueSet(string(w.life.Stage))}
	var next time.Time
	for _, c := range w.life.Clocks {
		if c.Live() && (next.IsZero() || c.Due.Before(next)) {
			next = c.Due
		}
	}
	if next.IsZero() {
		updates = append(updates, NextDeadlineAttribute.ValueUnset())
	} else {
		updates = append(updates, NextDeadlineAttribute.ValueSet(next))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
}
