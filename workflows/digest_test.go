package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/safeguard-project/safeguard/activities"
)

func TestDigestWritesEachOrganisationsDigestAtTheRunsStartAndDeliversEveryMessage(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(a.DigestOrganisations, mock.Anything).Return([]string{"E08000035", "LEI"}, nil).Once()
	// Each organisation is counted at the run's start, whatever the time its activity runs.
	env.OnActivity(a.WriteDigest, mock.Anything, activities.DigestInput{Org: "E08000035", At: start}).Return([]string{"digest/2026-W10/E08000035/1", "digest/2026-W10/E08000035/2"}, nil).Once()
	env.OnActivity(a.WriteDigest, mock.Anything, activities.DigestInput{Org: "LEI", At: start}).Return([]string{"digest/2026-W10/LEI/1"}, nil).Once()
	for _, k := range []string{"digest/2026-W10/E08000035/1", "digest/2026-W10/E08000035/2", "digest/2026-W10/LEI/1"} {
		env.OnActivity(a.DeliverMail, mock.Anything, k).Return(nil).Once()
	}
	env.ExecuteWorkflow(Digest)
	if !env.IsWorkflowCompleted() {
		t.Fatal("digest did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("digest failed: %v", err)
	}
	env.AssertExpectations(t)
}

func TestDigestSendsTheOthersWhenOneOrganisationFailsAndSaysSo(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(a.DigestOrganisations, mock.Anything).Return([]string{"BAD", "LEI"}, nil).Once()
	env.OnActivity(a.WriteDigest, mock.Anything, mock.MatchedBy(func(in activities.DigestInput) bool { return in.Org == "BAD" })).
		Return(nil, temporal.NewNonRetryableApplicationError("no organisation", "not_found", nil)).Once()
	env.OnActivity(a.WriteDigest, mock.Anything, mock.MatchedBy(func(in activities.DigestInput) bool { return in.Org == "LEI" })).
		Return([]string{"digest/LEI/1", "digest/LEI/2"}, nil).Once()
	env.OnActivity(a.DeliverMail, mock.Anything, "digest/LEI/1").Return(nil).Once()
	env.OnActivity(a.DeliverMail, mock.Anything, "digest/LEI/2").Return(temporal.NewNonRetryableApplicationError("mail refused", "mail_permanent", nil)).Once()
	env.ExecuteWorkflow(Digest)
	err := env.GetWorkflowError()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != "digest_incomplete" ||
		!strings.Contains(err.Error(), "1 of 2 organisations not written, 1 of 2 messages not delivered") {
		t.Fatalf("digest error = %v; want it to count the organisation not written and the message not delivered", err)
	}
	env.AssertExpectations(t)
}
