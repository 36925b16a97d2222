package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/activities"
)

func input() ConcernInput {
	return ConcernInput{RaiseInput: activities.RaiseInput{Reference: "SG-LEI-2026-00001", HostLA: "E08000035", RaisedBy: 1,
		RaisedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Raise: safeguard.Raise{Establishment: "LEI"}}}
}

// updateResult records what an Update answered.
type updateResult struct {
	accepted bool
	concern  *safeguard.Concern
	err      error
	done     bool
}

func (u *updateResult) callbacks() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept: func() { u.accepted = true },
		OnReject: func(err error) { u.err, u.done = err, true },
		OnComplete: func(v any, err error) {
			u.done, u.err = true, err
			if c, ok := v.(*safeguard.Concern); ok {
				u.concern = c
			}
		},
	}
}

// From courierVersion the workflow records the raise, whose transaction puts the mail in the
// outbox, and leaves the sending to the worker's courier: no delivery activity, so the raise
// is one workflow task.
func TestConcernRecordsTheRaiseAndLeavesItsMailToTheCourier(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	recorded := &safeguard.Concern{Reference: "SG-LEI-2026-00001", Stage: safeguard.StageNotification}
	env.OnActivity(a.RecordRaise, mock.Anything, mock.Anything).Return(&activities.RaiseRecorded{Concern: recorded, MailKeys: []string{"k/host_la", "k/establishment"}}, nil).Once()
	env.OnActivity(a.DeliverMailBatch, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(a.DeliverMail, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(a.FireStep, mock.Anything, mock.Anything).Return([]string(nil), nil).Maybe()
	activitiesRun := 0
	env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { activitiesRun++ })

	var got updateResult
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(UpdateRaised, "raised", got.callbacks()) }, 0)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Hour)
	env.ExecuteWorkflow(Concern, input())

	env.AssertExpectations(t)
	env.AssertNotCalled(t, "DeliverMailBatch", mock.Anything, mock.Anything)
	env.AssertNotCalled(t, "DeliverMail", mock.Anything, mock.Anything)
	if activitiesRun != 0 {
		t.Errorf("%d activities were scheduled on the server; want none (recording is local, mail is the courier's)", activitiesRun)
	}
	if !got.accepted || !got.done || got.err != nil || got.concern == nil || got.concern.Reference != recorded.Reference {
		t.Errorf("the raised Update answered %+v, want the recorded concern", got)
	}
	var canceled *temporal.CanceledError
	if err := env.GetWorkflowError(); !errors.As(err, &canceled) {
		t.Errorf("the workflow should stay open until the lifecycle ends; it ended with %v", err)
	}
}

// beforeCourier runs the workflow as one started before courierVersion.
func beforeCourier(env *testsuite.TestWorkflowEnvironment) {
	env.OnGetVersion(courierVersion, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
}

// Before courierVersion the workflow delivers its own mail.
func TestConcernBeforeTheCourierRecordsTheRaiseThenDeliversEachMessageOnce(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	beforeCourier(env)
	recorded := &safeguard.Concern{Reference: "SG-LEI-2026-00001", Stage: safeguard.StageNotification}
	env.OnActivity(a.RecordRaise, mock.Anything, mock.Anything).Return(&activities.RaiseRecorded{Concern: recorded, MailKeys: []string{"k/host_la", "k/establishment"}}, nil).Once()
	// Both messages go in one activity (fewerTasksVersion), which sends each key once.
	env.OnActivity(a.DeliverMailBatch, mock.Anything, []string{"k/host_la", "k/establishment"}).Return(nil).Once()
	// These tests are about the raise: the ladder's steps, which fall due within the hour the
	// test runs for (at once, now that input's fixed raise date is in the past), send nothing.
	env.OnActivity(a.FireStep, mock.Anything, mock.Anything).Return([]string(nil), nil).Maybe()

	var got updateResult
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(UpdateRaised, "raised", got.callbacks()) }, 0)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Hour)
	env.ExecuteWorkflow(Concern, input())

	env.AssertExpectations(t)
	if !got.accepted || !got.done || got.err != nil || got.concern == nil || got.concern.Reference != recorded.Reference {
		t.Errorf("the raised Update answered %+v, want the recorded concern", got)
	}
	var canceled *temporal.CanceledError
	if err := env.GetWorkflowError(); !errors.As(err, &canceled) {
		t.Errorf("the workflow should stay open until the lifecycle ends; it ended with %v", err)
	}
}

func TestTheRaisedUpdateWaitsUntilTheConcernIsRecorded(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	// The database is away for a while: RecordRaise fails twice, then succeeds.
	calls := 0
	env.OnActivity(a.RecordRaise, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.RaiseInput) (*activities.RaiseRecorded, error) {
		calls++
		if calls < 3 {
			return nil, errors.New("database unavailable")
		}
		return &activities.RaiseRecorded{Concern: &safeguard.Concern{Reference: "SG-LEI-2026-00001"}}, nil
	})
	var got updateResult
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(UpdateRaised, "raised", got.callbacks()) }, 0)
	var doneBeforeRecorded bool
	env.RegisterDelayedCallback(func() { doneBeforeRecorded = got.done }, time.Second/2)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Hour)
	env.ExecuteWorkflow(Concern, input())

	if calls != 3 {
		t.Errorf("RecordRaise ran %d times, want 3 (retried until the database answers)", calls)
	}
	if doneBeforeRecorded {
		t.Error("the Update completed before the concern was recorded")
	}
	if !got.done || got.err != nil || got.concern == nil {
		t.Errorf("the Update answered %+v, want the concern once recorded", got)
	}
}

func TestAMessageRefusedForGoodDoesNotStopTheConcern(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	beforeCourier(env) // from courierVersion a refused message is the courier's (activities)
	env.OnActivity(a.RecordRaise, mock.Anything, mock.Anything).Return(&activities.RaiseRecorded{Concern: &safeguard.Concern{}, MailKeys: []string{"bad", "good"}}, nil)
	env.OnActivity(a.DeliverMailBatch, mock.Anything, []string{"bad", "good"}).Return(temporal.NewNonRetryableApplicationError("1 of 2 messages not delivered", "mail_permanent", nil)).Once()
	env.OnActivity(a.FireStep, mock.Anything, mock.Anything).Return([]string(nil), nil).Maybe()
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Hour)
	env.ExecuteWorkflow(Concern, input())
	env.AssertExpectations(t)
	var canceled *temporal.CanceledError
	if err := env.GetWorkflowError(); !errors.As(err, &canceled) {
		t.Errorf("a refused message ended the workflow: %v", err)
	}
}

// From fewerTasksVersion RecordRaise is a local activity. A database away for longer than a
// local activity may hold the workflow task (localRecordTimeout) hands the retries to the
// server: the same activity, scheduled, until it succeeds. The Update waits for it throughout.
func TestARecordingThatOutlastsTheLocalActivityIsRetriedByTheServer(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	start := env.Now()
	calls := 0
	env.OnActivity(a.RecordRaise, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.RaiseInput) (*activities.RaiseRecorded, error) {
		calls++
		if env.Now().Sub(start) < 30*time.Second {
			return nil, errors.New("database unavailable")
		}
		return &activities.RaiseRecorded{Concern: &safeguard.Concern{Reference: "SG-LEI-2026-00001"}, MailKeys: []string{"k/host_la"}}, nil
	})
	env.OnActivity(a.FireStep, mock.Anything, mock.Anything).Return([]string(nil), nil).Maybe()
	var local, scheduled int
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		if info.ActivityType.Name == "RecordRaise" {
			local++
		}
	})
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "RecordRaise" {
			scheduled++
		}
	})
	var got updateResult
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(UpdateRaised, "raised", got.callbacks()) }, 0)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Hour)
	env.ExecuteWorkflow(Concern, input())

	env.AssertExpectations(t)
	if local == 0 || scheduled == 0 || local+scheduled != calls {
		t.Errorf("RecordRaise ran %d times as a local activity and %d as an activity, want both", local, scheduled)
	}
	if calls < 5 {
		t.Errorf("RecordRaise ran %d times, want retries until the database answered after 30s", calls)
	}
	if !got.done || got.err != nil || got.concern == nil {
		t.Errorf("the Update answered %+v, want the concern once recorded", got)
	}
}

// A concern started before fewerTasksVersion keeps the lifecycle's path: one DeliverMail
// activity per message.
func TestAConcernStartedBeforeFewerTasksDeliversEachMessageInItsOwnActivity(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	beforeCourier(env)
	env.OnGetVersion(fewerTasksVersion, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	env.OnActivity(a.RecordRaise, mock.Anything, mock.Anything).Return(&activities.RaiseRecorded{Concern: &safeguard.Concern{}, MailKeys: []string{"k/host_la", "k/establishment"}}, nil).Once()
	env.OnActivity(a.DeliverMail, mock.Anything, "k/host_la").Return(nil).Once()
	env.OnActivity(a.DeliverMail, mock.Anything, "k/establishment").Return(nil).Once()
	env.OnActivity(a.FireStep, mock.Anything, mock.Anything).Return([]string(nil), nil).Maybe()
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Hour)
	env.ExecuteWorkflow(Concern, input())
	env.AssertExpectations(t)
	env.AssertNotCalled(t, "DeliverMailBatch", mock.Anything, mock.Anything)
}
