package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/safeguard-project/safeguard/workflows"
)

// ensureDigestSchedule makes sure the weekly digest's schedule exists and runs on
// workflows.DigestSpec: it creates the schedule if it is absent, updates it if its spec or
// workflow differ (a new release changed them), and otherwise leaves it alone. Every worker
// process calls it at start, so any number of them racing is harmless: one creates, the others
// find it.
func ensureDigestSchedule(ctx context.Context, c client.Client, logger *slog.Logger) error {
	opts := workflows.DigestSchedule()
	_, err := c.ScheduleClient().Create(ctx, opts)
	switch {
	case err == nil:
		logger.Info("weekly digest scheduled", "schedule", opts.ID)
		return nil
	case !errors.Is(err, temporal.ErrScheduleAlreadyRunning):
		return fmt.Errorf("create the weekly digest's schedule: %w", err)
	}
	updated := false
	err = c.ScheduleClient().GetHandle(ctx, opts.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			action, ok := s.Action.(*client.ScheduleWorkflowAction)
			if ok && sameSpec(s.Spec, &opts.Spec) && action.TaskQueue == workflows.TaskQueue && action.Workflow == "Digest" {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			s.Spec, s.Action = &opts.Spec, opts.Action
			if s.Policy != nil {
				s.Policy.CatchupWindow = opts.CatchupWindow
			}
			updated = true
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update the weekly digest's schedule: %w", err)
	}
	if updated {
		logger.Info("weekly digest schedule updated", "schedule", opts.ID)
	}
	return nil
}

// sameSpec reports whether a schedule's spec, as the server describes it, is want. The server
// keeps calendars in structured form, where an unset range end means the start and an unset
// step means 1, so ranges are compared in that form.
func sameSpec(got, want *client.ScheduleSpec) bool {
	if got == nil || got.TimeZoneName != want.TimeZoneName || len(got.Calendars) != len(want.Calendars) ||
		len(got.Intervals) != 0 || len(got.Skip) != 0 || got.Jitter != want.Jitter {
		return false
	}
	norm := func(rs []client.ScheduleRange) []client.ScheduleRange {
		out := make([]client.ScheduleRange, len(rs))
		for i, r := range rs {
			out[i] = r
			out[i].End = max(r.End, r.Start)
			out[i].Step = max(r.Step, 1)
		}
		return out
	}
	for i, g := range got.Calendars {
		w := want.Calendars[i]
		for _, f := range [][2][]client.ScheduleRange{{g.Second, w.Second}, {g.Minute, w.Minute}, {g.Hour, w.Hour},
			{g.DayOfMonth, w.DayOfMonth}, {g.Month, w.Month}, {g.Year, w.Year}, {g.DayOfWeek, w.DayOfWeek}} {
			if !slices.Equal(norm(f[0]), norm(f[1])) {
				return false
			}
		}
	}
	return true
}
