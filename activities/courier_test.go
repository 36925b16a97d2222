package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard/mail"
	sgsql "github.com/safeguard-project/safeguard/sql"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// countingMailer records each send by Message-ID and when it came, taking a little time over
// each, as a relay does.
type countingMailer struct {
	mu    sync.Mutex
	delay time.Duration
	fail  map[string][]error // by recipient, as scriptedMailer
	tries map[string][]time.Time
	sent  map[string]int // by Message-ID
}

func newCountingMailer(delay time.Duration) *countingMailer {
	return &countingMailer{delay: delay, fail: map[string][]error{}, tries: map[string][]time.Time{}, sent: map[string]int{}}
}

func (m *countingMailer) Send(ctx context.Context, id string, msg mail.Message) error {
	time.Sleep(m.delay)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tries[msg.To] = append(m.tries[msg.To], time.Now())
	if q := m.fail[msg.To]; len(q) > 0 {
		m.fail[msg.To] = q[1:]
		return q[0]
	}
	m.sent[id]++
	return nil
}

func (m *countingMailer) sends(id string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent[id]
}

func (m *countingMailer) total() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.sent {
		n += c
	}
	return n
}

// run starts c and returns a function that stops it and waits for it to return.
func run(t *testing.T, c *Courier) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the courier did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: still waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// raiseMore records n more concerns with a and returns their outbox keys (named here, not taken
// from the answer: RecordRaise answers with the keys still pending, and a running courier may
// have sent them already).
func raiseMore(t *testing.T, a *Activities, n int) []string {
	t.Helper()
	var keys []string
	for i := range n {
		ctx := context.Background()
		ref, _, err := a.DB.AllocateReference(ctx, "LEI", 2026, nil)
		must(t, err)
		_, err = a.RecordRaise(ctx, RaiseInput{Reference: ref, HostLA: "E08000035", RaisedBy: 1, RaisedAt: time.Date(2026, 2, 23, 10, i, 0, 0, time.UTC),
			Raise: namedRaise(adults[i%len(adults)])})
		must(t, err)
		keys = append(keys, ref+"/raised/host_la", ref+"/raised/establishment")
	}
	return keys
}

// Two worker processes each run a courier over the same outbox: every message is sent once.
func TestTwoCouriersOverOneOutboxSendEachMessageOnce(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			url := sqltest.SQLite(t)
			if dialect == "postgres" {
				url = sqltest.Postgres(t)
			}
			m := newCountingMailer(2 * time.Millisecond)
			a, db, keys := raisedOn(t, url, m, "safeguarding@leeds.example")
			keys = append(keys, raiseMore(t, a, 19)...)
			other, err := sgsql.Open(context.Background(), url) // the second process's own connections
			must(t, err)
			t.Cleanup(func() { other.Close() })

			stop1 := run(t, &Courier{DB: db, Mailer: m, Logger: a.Logger, Poll: 20 * time.Millisecond})
			stop2 := run(t, &Courier{DB: other, Mailer: m, Logger: a.Logger, Poll: 20 * time.Millisecond})
			waitUntil(t, 30*time.Second, fmt.Sprintf("%d messages", len(keys)), func() bool { return m.total() >= len(keys) })
			time.Sleep(100 * time.Millisecond) // a second copy would be sent now
			stop1()
			stop2()

			if got := m.total(); got != len(keys) {
				t.Errorf("%d sends for %d messages", got, len(keys))
			}
			for _, k := range keys {
				if n := m.sends(messageID(k)); n != 1 {
					t.Errorf("%s sent %d times; want once", k, n)
				}
				if msg, err := db.OutboxMessage(context.Background(), k); err != nil || msg.Status != sgsql.OutboxSent || msg.Attempts != 1 {
					t.Errorf("%s: %+v, %v; want sent after one attempt", k, msg, err)
				}
			}
		})
	}
}

// A temporary failure is retried after its backoff (1 s after a first failure), not at the
// next poll; a message refused for good is marked failed and not tried again.
func TestTheCourierRetriesATemporaryFailureAfterItsBackoffAndGivesUpOnARefusal(t *testing.T) {
	m := newCountingMailer(0)
	m.fail["safeguarding@leeds.example"] = []error{errors.New("421 try again later")}
	a, db, keys := raised(t, m, "safeguarding@leeds.example")
	m.fail["safeguarding@lei.example"] = []error{fmt.Errorf("%w: 550 no such mailbox", mail.ErrPermanent)}
	run(t, &Courier{DB: db, Mailer: m, Logger: a.Logger, Poll: 20 * time.Millisecond})

	waitUntil(t, 10*time.Second, "the retried message", func() bool { return m.total() == 1 })
	time.Sleep(200 * time.Millisecond)
	m.mu.Lock()
	la, lei := m.tries["safeguarding@leeds.example"], m.tries["safeguarding@lei.example"]
	m.mu.Unlock()
	if len(la) != 2 || la[1].Sub(la[0]) < 900*time.Millisecond {
		t.Errorf("the temporarily refused message was tried at %v; want twice, the second a backoff (1 s) after the first", la)
	}
	if len(lei) != 1 {
		t.Errorf("the message refused for good was tried %d times; want once", len(lei))
	}
	if got := statuses(t, db, keys); got != "sent/2 failed/1 " {
		t.Errorf("outbox = %q; want the LA's sent after 2 attempts, the prison's failed after 1", got)
	}
}

// A sender lost in the middle of a send (its process killed) leaves its claim; once the claim
// lapses the courier sends the message, once. Messages nobody holds go at once.
func TestTheCourierSendsAMessageWhoseSenderWasLostOnceItsClaimLapses(t *testing.T) {
	m := newCountingMailer(0)
	a, db, keys := raised(t, m, "safeguarding@leeds.example")
	const lease = 400 * time.Millisecond
	claimed, err := db.ClaimForSending(context.Background(), keys[0], lease) // the lost sender
	must(t, err)
	if !claimed {
		t.Fatal("could not claim a fresh message")
	}
	start := time.Now()
	run(t, &Courier{DB: db, Mailer: m, Logger: a.Logger, Poll: 20 * time.Millisecond, Lease: lease})
	waitUntil(t, 5*time.Second, "the free message", func() bool { return m.total() == 1 })
	if m.sends(messageID(keys[0])) != 0 {
		t.Fatal("the claimed message was sent while its claim held")
	}
	waitUntil(t, 5*time.Second, "the lapsed claim's message", func() bool { return m.total() == 2 })
	if waited := time.Since(start); waited < lease {
		t.Errorf("sent %s after the claim; want after its %s lease", waited, lease)
	}
	time.Sleep(100 * time.Millisecond)
	if got := statuses(t, db, keys); got != "sent/2 sent/1 " {
		t.Errorf("outbox = %q; want both sent, the lost one on its second attempt", got)
	}
}

// The recording activities nudge the worker's courier: new mail goes out at once, not at the
// next poll (an hour away here).
func TestTheRecordingActivitiesNudgeTheCourier(t *testing.T) {
	m := newCountingMailer(0)
	a, db, first := raised(t, m, "safeguarding@leeds.example")
	a.Courier = &Courier{DB: db, Mailer: m, Logger: a.Logger, Poll: time.Hour}
	run(t, a.Courier)
	waitUntil(t, 5*time.Second, "the mail already waiting when the courier started", func() bool { return m.total() == 2 })
	keys := raiseMore(t, a, 1)
	waitUntil(t, 5*time.Second, "the new concern's mail", func() bool { return m.total() == 4 })
	if got := statuses(t, db, append(first, keys...)); got != "sent/1 sent/1 sent/1 sent/1 " {
		t.Errorf("outbox = %q", got)
	}
}

// Without an SMTP relay every message is held (shown at /dev/mail), none claimed or sent.
func TestWithoutARelayTheCourierHoldsEveryMessage(t *testing.T) {
	a, db, keys := raised(t, nil, "safeguarding@leeds.example")
	run(t, &Courier{DB: db, Logger: a.Logger, Poll: 20 * time.Millisecond})
	waitUntil(t, 5*time.Second, "both messages held", func() bool { return statuses(t, db, keys) == "held/0 held/0 " })
}
