package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/safeguard-project/safeguard/mail/mailtest"
)

// TestMain fails the package's run if a test leaves a goroutine behind: the sender dials a
// connection per message and must not leave one open.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestSendDeliversOneMessageThroughTheRelay(t *testing.T) {
	relay := mailtest.Start(t)
	s, err := NewSender(relay.URL(), "safeguarding@localhost")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Render("raised_host_la", "adult.safeguarding@leeds.example.org",
		Notice{Reference: "SG-LEI-2026-00001", Link: "http://127.0.0.1:8080/concerns/SG-LEI-2026-00001", Establishment: "HMP Leeds", Org: "Leeds City Council"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping a running relay: %v", err)
	}
	if err := s.Send(ctx, "outbox-1@safeguard", m); err != nil {
		t.Fatal(err)
	}
	got := relay.WaitFor(1, 5*time.Second)
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != m.To || !strings.Contains(got[0].Subject, "SG-LEI-2026-00001") {
		t.Fatalf("the relay received %+v", got)
	}
	if !strings.Contains(got[0].ID, "outbox-1@safeguard") {
		t.Errorf("Message-ID %q, want the outbox's stable id", got[0].ID)
	}

	relay.Stop()
	if err := s.Ping(ctx); err == nil {
		t.Error("ping of a stopped relay succeeded")
	}
}
