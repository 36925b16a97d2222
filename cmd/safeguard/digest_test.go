package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/safeguard-project/safeguard/mail/mailtest"
	"github.com/safeguard-project/safeguard/sql/sqltest"
	"github.com/safeguard-project/safeguard/workflows"
)

// digestMail returns the weekly digests among the messages received.
func digestMail(s *mailtest.Server) []mailtest.Message {
	var out []mailtest.Message
	for _, m := range s.Messages() {
		if strings.HasPrefix(m.Subject, "Weekly safeguarding digest") {
			out = append(out, m)
		}
	}
	return out
}

// TestWeeklyDigestEndToEnd starts the real service (embedded Temporal, SQLite, an SMTP
// server), lets a concern's acknowledgement slip and escalate, then triggers the weekly
// digest's schedule as Monday morning would: each manager of the prison and of its host LA
// receives one digest with the counts and the links and nothing of the adult's. Triggered
// again the same week, it sends nothing more; and a second start-up leaves the schedule as it
// is.
func TestWeeklyDigestEndToEnd(t *testing.T) {
	smtp := mailtest.Start(t)
	svc := startService(t, env{"DATABASE_URL": sqltest.SQLite(t), "SMTP_URL": smtp.URL(), "SAFEGUARD_POLICY_FILE": writePolicy(t, fastPolicy),
		"SAFEGUARD_BASE_URL": "https://safeguard.example.org"})
	ref := svc.raise(t)
	waitFor(t, 60*time.Second, "the acknowledgement's escalation to the LA's managers", func() bool { return len(ladderMail(smtp)) >= 3 })

	ctx := context.Background()
	h := svc.svc.client.ScheduleClient().GetHandle(ctx, workflows.DigestScheduleID)
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatalf("trigger the digest: %v", err)
	}
	waitFor(t, 60*time.Second, "a digest to each manager", func() bool { return len(digestMail(smtp)) >= 2 })
	got := map[string]mailtest.Message{}
	for _, m := range digestMail(smtp) {
		got[m.To[0]] = m
	}
	for _, who := range []string{"manager@prison.example.org", "manager@leeds.example.org"} {
		m, ok := got[who]
		if !ok {
			t.Fatalf("no digest for %s; digests went to %v", who, keys(got))
		}
		for _, want := range []string{"Concerns open: 1", "acknowledgement by the host local authority: 1",
			"https://safeguard.example.org/overdue", "https://safeguard.example.org/reports"} {
			if !strings.Contains(m.Body, want) {
				t.Errorf("digest to %s lacks %q:\n%s", who, want, m.Body)
			}
		}
		if strings.Contains(m.Body, "Escalations sent in the last 7 days: 0") {
			t.Errorf("digest to %s counts no escalation, though the ladder escalated:\n%s", who, m.Body)
		}
		assertNoPersonalData(t, "the digest", m.Subject+"\n"+m.Body)
		if strings.Contains(m.Subject+m.Body, ref) {
			t.Errorf("the digest names concern %s: it carries counts only", ref)
		}
	}

	// The same week again: the outbox already holds each manager's digest.
	waitFor(t, 30*time.Second, "the first digest run to finish", func() bool {
		d, err := h.Describe(ctx)
		return err == nil && len(d.Info.RunningWorkflows) == 0 && len(d.Info.RecentActions) == 1
	})
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatalf("trigger the digest again: %v", err)
	}
	waitFor(t, 30*time.Second, "the second digest run to finish", func() bool {
		d, err := h.Describe(ctx)
		return err == nil && len(d.Info.RunningWorkflows) == 0 && len(d.Info.RecentActions) == 2
	})
	time.Sleep(time.Second)
	if n := len(digestMail(smtp)); n != 2 {
		t.Errorf("%d digests after a second run in the same week; want still 2", n)
	}

	// A later start-up finds the schedule as it should be and neither creates nor updates it.
	var logs syncBuffer
	if err := ensureDigestSchedule(ctx, svc.svc.client, slog.New(slog.NewJSONHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if s := logs.String(); s != "" {
		t.Errorf("a second start-up changed the schedule: %s", s)
	}
	d, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	if next := d.Info.NextActionTimes; len(next) == 0 || next[0].In(london).Weekday() != time.Monday || next[0].In(london).Hour() != 8 {
		t.Errorf("next digest at %v; want a Monday at 08:00 UK time", next)
	}
}
