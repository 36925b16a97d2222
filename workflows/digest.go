package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/safeguard-project/safeguard/activities"
)

// The weekly digest is started by a Temporal Schedule (DigestSchedule), not by a request: each
// Monday morning, UK time, it tells every organisation's managers how its concerns stand, in
// counts and links only (safeguard.Digest).

// DigestScheduleID names the one schedule of the service; DigestWorkflowID is the ID its runs
// start under (Temporal adds the scheduled time to it).
const (
	DigestScheduleID = "safeguard-weekly-digest"
	DigestWorkflowID = "safeguard-digest"
)

// DigestSpec is when the digest runs: Mondays at 08:00 in Europe/London, so that it follows
// the clocks through summer time. Every field is written out, so that the spec read back from
// the server compares equal to this one and a start-up can tell whether it changed.
var DigestSpec = client.ScheduleSpec{
	Calendars: []client.ScheduleCalendarSpec{{
		Second:     []client.ScheduleRange{{Start: 0}},
		Minute:     []client.ScheduleRange{{Start: 0}},
		Hour:       []client.ScheduleRange{{Start: 8}},
		DayOfMonth: []client.ScheduleRange{{Start: 1, End: 31}},
		Month:      []client.ScheduleRange{{Start: 1, End: 12}},
		DayOfWeek:  []client.ScheduleRange{{Start: 1}}, // Monday
		Comment:    "weekly digest: Mondays 08:00 UK time",
	}},
	TimeZoneName: "Europe/London",
}

// DigestSchedule is the schedule the service keeps: DigestSpec, starting Digest. A run missed
// while the service was down is still made within a day; a run never overlaps the last (the
// default overlap policy skips a run while the previous one is going).
func DigestSchedule() client.ScheduleOptions {
	return client.ScheduleOptions{
		ID:   DigestScheduleID,
		Spec: DigestSpec,
		Action: &client.ScheduleWorkflowAction{
			ID:        DigestWorkflowID,
			Workflow:  Digest,
			TaskQueue: TaskQueue,
			// The run's own time bound: delivery waits at most a day for the relay.
			WorkflowExecutionTimeout: 26 * time.Hour,
		},
		CatchupWindow: 24 * time.Hour,
	}
}

// Writing a digest reads and writes the database: retried while it is briefly away, for an
// hour at most, so that one organisation's failure does not hold up the others' mail for long.
var digestWriteOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: time.Hour,
	RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
}

// Delivering retries as concern mail does (deliveryOptions), for a day at most: by then the
// next week's digest is nearer than this one's news is useful.
var digestDeliveryOptions = func() workflow.ActivityOptions {
	o := deliveryOptions
	o.ScheduleToCloseTimeout = 24 * time.Hour
	return o
}()

// Digest is one week's digest: list the organisations with managers, write each one's digest
// into the outbox (counted at the run's start, keyed by its ISO week, so a retry or a second
// run in the same week writes nothing new), then deliver every message. It fails, naming how
// many, if any organisation's digest could not be written or any message delivered, so that a
// missed digest shows in Temporal; the others are sent all the same.
func Digest(ctx workflow.Context) error {
	at := workflow.Now(ctx).UTC()
	logger := workflow.GetLogger(ctx)
	wctx := workflow.WithActivityOptions(ctx, digestWriteOptions)
	var orgs []string
	if err := workflow.ExecuteActivity(wctx, a.DigestOrganisations).Get(ctx, &orgs); err != nil {
		return err
	}
	writes := make([]workflow.Future, len(orgs))
	for i, org := range orgs {
		writes[i] = workflow.ExecuteActivity(wctx, a.WriteDigest, activities.DigestInput{Org: org, At: at})
	}
	dctx := workflow.WithActivityOptions(ctx, digestDeliveryOptions)
	var deliveries []workflow.Future
	unwritten := 0
	for i, f := range writes {
		var keys []string
		if err := f.Get(ctx, &keys); err != nil {
			logger.Warn("digest not written", "organisation", orgs[i], "error", err)
			unwritten++
			continue
		}
		for _, key := range keys {
			deliveries = append(deliveries, workflow.ExecuteActivity(dctx, a.DeliverMail, key))
		}
	}
	undelivered := 0
	for _, f := range deliveries {
		if err := f.Get(ctx, nil); err != nil {
			logger.Warn("digest not delivered", "error", err)
			undelivered++
		}
	}
	if unwritten > 0 || undelivered > 0 {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("weekly digest incomplete: %d of %d organisations not written, %d of %d messages not delivered", unwritten, len(orgs), undelivered, len(deliveries)),
			"digest_incomplete", nil)
	}
	return nil
}
