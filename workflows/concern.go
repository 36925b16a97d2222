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
)

// TaskQueue is the queue the service's workers poll.
const TaskQueue = "safeguard"

// UpdateRaised is the Update a raising caller sends with the workflow's start
// (Update-with-Start). It completes once the concern is recorded and answers with it, so the
// HTTP request that raised the concern returns the stored concern.
const UpdateRaised = "raised"

// ConcernInput starts a Concern workflow: the validated raise and its reference.
type ConcernInput = activities.RaiseInput

// a is only used to name activity methods; Temporal calls the registered instance.
var a *activities.Activities

// Concern is the workflow of one concern. It records the concern (the row exists only because
// the workflow does, and the workflow's first act is to write it, so neither is ever without
// the other), delivers its notifications, and then waits for the lifecycle's actions.
func Concern(ctx workflow.Context, in ConcernInput) error {
	w := &concern{in: in}
	if err := w.setup(ctx); err != nil {
		return err
	}
	return w.run(ctx)
}

// concern is the state of one Concern workflow.
type concern struct {
	in       ConcernInput
	recorded *safeguard.Concern
	done     bool
}

func (w *concern) setup(ctx workflow.Context) error {
	return workflow.SetUpdateHandler(ctx, UpdateRaised, func(ctx workflow.Context) (*safeguard.Concern, error) {
		if err := workflow.Await(ctx, func() bool { return w.recorded != nil }); err != nil {
			return nil, err
		}
		return w.recorded, nil
	})
}

func (w *concern) run(ctx workflow.Context) error {
	rec, err := w.record(ctx)
	if err != nil {
		return err
	}
	w.recorded = rec.Concern
	w.deliver(ctx, rec.MailKeys)
	// The lifecycle (acknowledge, triage, enquiry, contribution, closure) continues from here;
	// until it ends, the workflow stays open so that updates can reach it.
	return workflow.Await(ctx, func() bool { return w.done })
}

// record writes the concern, retrying until the database accepts it: a concern that has been
// raised must not be lost because the database was briefly away.
func (w *concern) record(ctx workflow.Context) (*activities.RaiseRecorded, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	var rec activities.RaiseRecorded
	err := workflow.ExecuteActivity(ctx, a.RecordRaise, w.in).Get(ctx, &rec)
	return &rec, err
}

// deliver sends each message, all at once, and waits for them. A message that fails for good is
// marked failed in the outbox by the activity; the workflow goes on.
func (w *concern) deliver(ctx workflow.Context, keys []string) {
	// A send is bounded by the mail client's own timeout (10s); the activity's is a little
	// longer, and short, because an attempt lost with a crashed worker is only retried once it
	// times out.
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
	})
	futures := make([]workflow.Future, len(keys))
	for i, key := range keys {
		futures[i] = workflow.ExecuteActivity(ctx, a.DeliverMail, key)
	}
	for i, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			var appErr *temporal.ApplicationError
			if errors.As(err, &appErr) {
				workflow.GetLogger(ctx).Warn("mail not delivered", "key", keys[i], "type", appErr.Type())
			}
		}
	}
}
