// Package workflows holds the durable processes of the service. One Concern workflow carries one
// safeguarding concern, with the concern's reference as its workflow ID. Workflows decide what
// happens and when; activities do the writing, and the worker's courier (activities.Courier)
// sends the mail the writing put in the outbox.
package workflows

import (
	"encoding/json"
	"errors"
	"reflect"
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

// fewerTasksVersion marks the change to fewer engine round trips per raise, action and rung:
// the recording activities (RecordRaise, ApplyChange, FireStep, PendingMail) run as local
// activities inside the workflow task that needs them, a step's mail goes in one
// DeliverMailBatch activity instead of one DeliverMail per message, and search attributes are
// upserted only when they change (a raise's are set with the start, StartSearchAttributes).
// Workflows started before it replay the lifecycle's path above.
//
// It is asked before lifecycleVersion, so a new workflow records one version marker (each
// GetVersion also upserts TemporalChangeVersion, a visibility write), and a workflow started
// before it, replaying, gets DefaultVersion here and then its own lifecycle marker.
const fewerTasksVersion = "fewer-tasks"

// courierVersion marks the change to mail delivered by the worker's courier
// (activities.Courier) instead of by the workflow: the recording activities write the mail to
// the outbox in their transaction and nudge the courier, and the workflow schedules no delivery
// activity, so a raise, an action or a rung is one workflow task (docs/performance.md). It
// implies fewerTasksVersion's changes. A continued run no longer asks for the pending mail
// either: the courier sends whatever is pending, whichever run wrote it. It is asked first, as
// fewerTasksVersion was before lifecycleVersion: a new workflow records this one marker, and one
// started earlier gets DefaultVersion here and replays its own path.
const courierVersion = "courier"

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
	if workflow.GetVersion(ctx, courierVersion, workflow.DefaultVersion, 1) == 1 {
		w.fewerTasks, w.courier = true, true
		return w.run(ctx)
	}
	if workflow.GetVersion(ctx, fewerTasksVersion, workflow.DefaultVersion, 1) == 1 {
		w.fewerTasks = true // implies the lifecycle
		return w.run(ctx)
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
	// fewerTasks: started at fewerTasksVersion or later (local recording activities, one
	// delivery activity per batch of mail, search attributes upserted only when they change).
	fewerTasks bool
	// courier: started at courierVersion or later (the worker's courier delivers the mail).
	courier bool
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
	err = w.record(ctx, a.ApplyChange, activities.ChangeInput{
		Reference: w.in.Reference, EventKey: "update/" + info.ID, Change: ch,
	}, &res)
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

// localRecordTimeout is how long a recording may run as a local activity, retries included,
// before the server takes over its retries. A local activity holds its workflow task open (the
// SDK heartbeats the task every 8 s, three history events each time), so a long database outage
// is left to an ordinary activity, which retries without adding to the history.
const localRecordTimeout = 10 * time.Second

// record runs one of the recording activities (idempotent SQL transactions; each returns what
// SQL then holds) and decodes its result into out. Before fewerTasksVersion it is an ordinary
// activity. From it, it is first a local activity: the worker runs it inside the workflow task
// that asked for it and the result is a marker in that task's completion, so the raise, an
// action or a rung costs no activity task and no extra workflow task. Run twice (a worker lost
// before the task completed runs it again on replay), it writes nothing the second time. If it
// still fails retryably after localRecordTimeout, the same activity is scheduled on the server,
// with recordOptions' retries.
func (w *concern) record(ctx workflow.Context, activity, in, out any) error {
	if !w.fewerTasks {
		return workflow.ExecuteActivity(w.recordOptions(ctx), activity, in).Get(ctx, out)
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: localRecordTimeout,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Second},
	})
	// A local activity is handed the workflow's own values, not a serialized copy as an
	// activity is, and the workflow goes on changing its clocks: give it a copy.
	in, err := copyOf(in)
	if err != nil {
		return err
	}
	err = workflow.ExecuteLocalActivity(lctx, activity, in).Get(ctx, out)
	var app *temporal.ApplicationError
	var canceled *temporal.CanceledError
	if err == nil || (errors.As(err, &app) && app.NonRetryable()) || errors.As(err, &canceled) || ctx.Err() != nil {
		return err
	}
	workflow.GetLogger(ctx).Warn("recording handed to the server's retries", "error", err)
	return workflow.ExecuteActivity(w.recordOptions(ctx), activity, in).Get(ctx, out)
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
		if w.courier {
			w.upsertSearchAttributes(ctx)
			return nil // the courier sends what the previous run left pending
		}
		var keys []string
		if err := w.record(ctx, a.PendingMail, w.in.Reference, &keys); err != nil {
			return err
		}
		w.deliver(ctx, keys)
		w.upsertSearchAttributes(ctx)
		return nil
	}
	life := w.newLifecycle()
	in := w.in.RaiseInput
	in.Clocks = life.Clocks
	var rec activities.RaiseRecorded
	if err := w.record(ctx, a.RecordRaise, in, &rec); err != nil {
		return err
	}
	w.life, w.recorded = life, rec.Concern
	w.deliver(ctx, rec.MailKeys)
	w.upsertSearchAttributes(ctx)
	return nil
}

// copyOf returns a deep copy of v, of the same type, through JSON (as the activity's input would
// be sent): deterministic, and nothing in it shared with the workflow's state.
func copyOf(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	p := reflect.New(reflect.TypeOf(v))
	if err := json.Unmarshal(b, p.Interface()); err != nil {
		return nil, err
	}
	return p.Elem().Interface(), nil
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
// A message refused for good is marked failed in the outbox by the activity. From
// courierVersion it does nothing: the message is in the outbox, and the courier sends it.
func (w *concern) deliver(ctx workflow.Context, keys []string) {
	if w.courier {
		return
	}
	if w.fewerTasks {
		w.deliverBatch(ctx, keys)
		return
	}
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

// deliverBatch sends a step's messages in the background in one DeliverMailBatch activity,
// which sends each key once and retries only what is still pending. Its timeout allows each
// message the mail client's 10 s.
func (w *concern) deliverBatch(ctx workflow.Context, keys []string) {
	if len(keys) == 0 {
		return
	}
	opts := deliveryOptions
	opts.StartToCloseTimeout = 5*time.Second + time.Duration(len(keys))*10*time.Second
	ctx = workflow.WithActivityOptions(ctx, opts)
	w.sending++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { w.sending-- }()
		if err := workflow.ExecuteActivity(ctx, a.DeliverMailBatch, keys).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("mail not delivered", "keys", len(keys), "first", keys[0], "error", err)
		}
	})
}

// attributeValues are the search attributes' values for a lifecycle: its stage and the earliest
// due time among its counting clocks (zero: none).
func attributeValues(life *safeguard.Lifecycle) (stage string, next time.Time) {
	for _, c := range life.Clocks {
		if c.Live() && (next.IsZero() || c.Due.Before(next)) {
			next = c.Due
		}
	}
	return string(life.Stage), next
}

// StartSearchAttributes are the search attributes of a newly raised concern, for the start
// request (StartWorkflowOptions.TypedSearchAttributes), so that the workflow need not upsert
// them in its first task: the stage and the next deadline as the workflow's first act will
// set them, computed the same way from the same input. None without in.SearchAttributes. If
// they differ from what the workflow computes, it upserts its own.
func StartSearchAttributes(in ConcernInput) temporal.SearchAttributes {
	if !in.SearchAttributes || in.Continued != nil {
		return temporal.NewSearchAttributes()
	}
	w := &concern{in: in, cal: calendar.EnglandAndWales()}
	if in.Policy == nil {
		p := policy.Default()
		w.in.Policy = &p
	}
	stage, next := attributeValues(w.newLifecycle())
	updates := []temporal.SearchAttributeUpdate{StageAttribute.ValueSet(stage)}
	if !next.IsZero() {
		updates = append(updates, NextDeadlineAttribute.ValueSet(next))
	}
	return temporal.NewSearchAttributes(updates...)
}

// newLifecycle is a new concern's lifecycle, with its first clocks.
func (w *concern) newLifecycle() *safeguard.Lifecycle {
	life := safeguard.NewLifecycle(w.in.Reference, w.in.Raise.Establishment, w.in.HostLA, w.in.RaisedBy, w.in.RaisedAt, w.due)
	if w.in.Raise.AllegationAgainstStaff {
		life.StaffAllegationAt = w.in.Raise.Establishment
	}
	return life
}

// upsertSearchAttributes sets the stage and the next deadline. From fewerTasksVersion it does
// so only when they differ from what the workflow already has (set with the start, or by an
// earlier upsert): every upsert is a history event and a visibility write.
func (w *concern) upsertSearchAttributes(ctx workflow.Context) {
	if !w.in.SearchAttributes || w.life == nil {
		return
	}
	stage, next := attributeValues(w.life)
	if w.fewerTasks && hasAttributes(workflow.GetTypedSearchAttributes(ctx), stage, next) {
		return
	}
	updates := []temporal.SearchAttributeUpdate{StageAttribute.ValueSet(stage)}
	if next.IsZero() {
		updates = append(updates, NextDeadlineAttribute.ValueUnset())
	} else {
		updates = append(updates, NextDeadlineAttribute.ValueSet(next))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
}

// hasAttributes reports whether sa already holds this stage and next deadline (zero: unset).
func hasAttributes(sa temporal.SearchAttributes, stage string, next time.Time) bool {
	s, ok := sa.GetKeyword(StageAttribute)
	if !ok || s != stage {
		return false
	}
	d, ok := sa.GetTime(NextDeadlineAttribute)
	if next.IsZero() {
		return !ok
	}
	return ok && d.Equal(next)
}
