package activities

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/safeguard-project/safeguard/mail"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// Courier delivers the outbox. Every message is written to the outbox in the same transaction
// as the change that sends it (RecordRaise, ApplyChange, FireStep, WriteDigest); the courier, a
// loop in each worker process, sends what is pending, each message once, and retries what
// failed for now with backoff. Workflows started at courierVersion or later leave their mail to
// it, so that a raise, an action or a ladder rung costs the engine no delivery activity and no
// workflow task to take its result (docs/performance.md). Earlier workflows' DeliverMail and
// DeliverMailBatch activities, and the weekly digest's, send through the same Deliver.
//
// Once: a message is claimed before it is sent (sql.ClaimForSending: one claimant at a time,
// for a lease longer than a send may take), marked sent after the relay accepted it, and never
// claimed again once sent, held or failed. A process lost in the middle of a send leaves its
// claim to lapse, and the next claimant sends the message: the relay had not accepted the first
// attempt (the fault test kills the process there), or, if it had and the process died before
// recording it, the copy carries the same Message-ID.
type Courier struct {
	DB     *sgsql.DB
	Mailer Mailer // nil: no SMTP relay; messages are marked held and shown at /dev/mail
	Logger *slog.Logger

	// Senders is how many messages are sent at once (default 4), Poll how often the outbox is
	// read when nothing has nudged the courier (default 1 s), and Lease how long a claim holds
	// a message (default 30 s, twice the longest a send may take).
	Senders int
	Poll    time.Duration
	Lease   time.Duration

	once  sync.Once
	nudge chan struct{}
}

// sendTimeout bounds one send (the mail client's own timeout is 10 s); the claim's lease is
// longer, so that no second sender starts while the first may still be talking to the relay.
const sendTimeout = 15 * time.Second

// Backoff after a temporary failure: 1 s after the first attempt, doubling to at most 5
// minutes, as the delivery activities' retry policy has it.
const (
	firstRetry = time.Second
	lastRetry  = 5 * time.Minute
)

// batch is how many due messages one read of the outbox takes.
const batch = 100

func (c *Courier) init() {
	c.once.Do(func() {
		c.nudge = make(chan struct{}, 1)
		if c.Senders <= 0 {
			c.Senders = 4
		}
		if c.Poll <= 0 {
			c.Poll = time.Second
		}
		if c.Lease <= 0 {
			c.Lease = 2 * sendTimeout
		}
		if c.Logger == nil {
			c.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

// Nudge tells the courier that new mail is in the outbox, so that it reads it now rather than
// at its next poll. It never blocks; a nil courier ignores it.
func (c *Courier) Nudge() {
	if c == nil {
		return
	}
	c.init()
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then lets the sends in flight finish and returns.
func (c *Courier) Run(ctx context.Context) {
	c.init()
	work := make(chan *sgsql.OutboxMessage)
	var wg sync.WaitGroup
	for range c.Senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				// A send in flight finishes even when ctx ends: it is bounded by sendTimeout,
				// and cutting it short would only leave a claim to lapse.
				if err := c.deliver(context.WithoutCancel(ctx), m); err != nil && !errors.Is(err, errClaimed) && !errors.Is(err, mail.ErrPermanent) {
					c.Logger.Warn("mail not delivered for now", "reference", m.Reference, "key", m.Key, "error", err)
				}
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	tick := time.NewTicker(c.Poll)
	defer tick.Stop()
	for {
		due, err := c.DB.DueMail(ctx, batch)
		if err != nil && ctx.Err() == nil {
			c.Logger.Warn("outbox not read", "error", err)
		}
		for i := range due {
			select {
			case work <- &due[i]:
			case <-ctx.Done():
				return
			}
		}
		if len(due) == batch {
			continue // more are due: a claim taken since the read is skipped by its sender
		}
		select {
		case <-ctx.Done():
			return
		case <-c.nudge:
		case <-tick.C:
		}
	}
}

// errClaimed: another sender holds the message's claim.
var errClaimed = errors.New("the message is being sent by another sender")

// Deliver sends the outbox message stored under key if it is still pending and no other sender
// holds it. nil means the message is settled: sent, held, or already settled by an earlier
// attempt. An error wrapping mail.ErrPermanent means the relay refused it for good (it is marked
// failed); errClaimed that another sender holds it; any other error is a temporary failure,
// after which the message waits out its backoff.
func (c *Courier) Deliver(ctx context.Context, key string) error {
	c.init()
	m, err := c.DB.OutboxMessage(ctx, key)
	if err != nil {
		return err
	}
	return c.deliver(ctx, m)
}

func (c *Courier) deliver(ctx context.Context, m *sgsql.OutboxMessage) error {
	if m.Status != sgsql.OutboxPending {
		return nil
	}
	switch {
	case c.Mailer == nil:
		return c.DB.SetOutboxStatus(ctx, m.Key, sgsql.OutboxHeld, "no SMTP relay is configured (SMTP_URL is unset): shown at /dev/mail")
	case m.Recipient == "":
		c.Logger.Warn("mail held: organisation has no safeguarding inbox", "reference", m.Reference, "key", m.Key)
		return c.DB.SetOutboxStatus(ctx, m.Key, sgsql.OutboxHeld, "the organisation has no safeguarding inbox: set one with 'safeguard org add'")
	}
	claimed, err := c.DB.ClaimForSending(ctx, m.Key, c.Lease)
	if err != nil {
		return err
	}
	if !claimed {
		now, err := c.DB.OutboxMessage(ctx, m.Key)
		if err != nil {
			return err
		}
		if now.Status != sgsql.OutboxPending {
			return nil // settled by another sender since it was read
		}
		return errClaimed
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	err = c.Mailer.Send(sctx, messageID(m.Key), mail.Message{To: m.Recipient, Subject: m.Subject, Body: m.Body})
	cancel()
	switch {
	case errors.Is(err, mail.ErrPermanent):
		if serr := c.DB.SetOutboxStatus(ctx, m.Key, sgsql.OutboxFailed, err.Error()); serr != nil {
			return serr
		}
		c.Logger.Error("mail refused for good", "reference", m.Reference, "key", m.Key, "error", err)
		return err
	case err != nil:
		if serr := c.DB.RetryLater(ctx, m.Key, err.Error(), backoff(m.Attempts+1)); serr != nil {
			return serr
		}
		return err
	}
	return c.DB.SetOutboxStatus(ctx, m.Key, sgsql.OutboxSent, "")
}

// backoff is how long a message waits after its n-th failed attempt.
func backoff(n int) time.Duration {
	d := firstRetry
	for i := 1; i < n && d < lastRetry; i++ {
		d *= 2
	}
	return min(d, lastRetry)
}
