// Package activities holds the short steps that workflows use to touch the world: the database
// (through package sql) and the mail relay (through package mail). Workflows never do either
// directly. Every activity is idempotent, because Temporal may run it more than once.
package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/mail"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// Mailer sends one rendered message. *mail.Sender is the real one.
type Mailer interface {
	Send(ctx context.Context, messageID string, m mail.Message) error
}

// Activities holds what the activities need. Mailer is nil when the deployment has no SMTP
// relay: mail then stays in the outbox, marked held, and is shown at /dev/mail. Courier, when
// set, is the worker process's running courier: the recording activities nudge it when they
// put mail in the outbox, and the delivery activities send through it.
type Activities struct {
	DB      *sgsql.DB
	Mailer  Mailer
	Courier *Courier
	BaseURL string
	Logger  *slog.Logger
}

// RaiseInput is a validated raise, with the reference it was given and who raised it when.
type RaiseInput struct {
	Reference string
	HostLA    string // the establishment's host LA when raised
	RaisedBy  int64
	RaisedAt  time.Time
	Raise     safeguard.Raise
	Clocks    []*safeguard.ClockInstance `json:",omitempty"` // the clocks that start at raising
}

// RaiseRecorded is the recorded concern and the outbox keys of the mail still to deliver.
type RaiseRecorded struct {
	Concern  *safeguard.Concern
	MailKeys []string
}

// RecordRaise stores a newly raised concern with its notification to the host local authority
// and its confirmation to the establishment, all in one transaction. Retrying it is harmless.
func (a *Activities) RecordRaise(ctx context.Context, in RaiseInput) (*RaiseRecorded, error) {
	est, err := a.DB.FindOrganisation(ctx, in.Raise.Establishment)
	if err != nil {
		return nil, a.permanentIfDomain(err)
	}
	la, err := a.DB.FindOrganisation(ctx, est.HostLA)
	if err != nil {
		return nil, a.permanentIfDomain(err)
	}
	notice := mail.Notice{Reference: in.Reference, Link: a.link(in.Reference), Establishment: est.Name, Org: la.Name}
	var msgs []sgsql.Mail
	for _, m := range []struct{ template, to, key, clock string }{
		{"raised_host_la", la.Inbox, "raised/host_la", safeguard.ClockLAAcknowledgement},
		{"raised_confirm", est.Inbox, "raised/establishment", safeguard.ClockTriageDecision},
	} {
		n := notice
		for _, c := range in.Clocks {
			if c.Name == m.clock {
				n.Due = mail.FormatTime(c.Due)
			}
		}
		r, err := mail.Render(m.template, m.to, n)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), "render", err)
		}
		msgs = append(msgs, sgsql.Mail{Key: in.Reference + "/" + m.key, Recipient: r.To, Subject: r.Subject, Body: r.Body})
	}
	err = a.DB.RecordRaise(ctx, sgsql.NewConcern{
		Reference: in.Reference, Establishment: est.Code, HostLA: la.Code,
		RaisedBy: in.RaisedBy, RaisedAt: in.RaisedAt, Raise: in.Raise, Clocks: in.Clocks, Mail: msgs,
	})
	if err != nil {
		return nil, err
	}
	a.Courier.Nudge()
	c, err := a.DB.FindConcern(ctx, safeguard.Scope{All: true}, in.Reference)
	if err != nil {
		return nil, err
	}
	keys, err := a.DB.PendingMail(ctx, in.Reference, "")
	if err != nil {
		return nil, err
	}
	return &RaiseRecorded{Concern: c, MailKeys: keys}, nil
}

// DeliverMail sends the outbox message stored under key, once, through the Courier's Deliver
// (workflows from courierVersion leave their mail to the courier; workflows started before it,
// and the weekly digest, call this). A message
// already sent, held or failed is left alone, so a retry after a crash does not send it again.
// A temporary failure, or another sender holding the message, is returned for Temporal to
// retry; a message refused for good is marked failed and the error is not retried.
func (a *Activities) DeliverMail(ctx context.Context, key string) error {
	err := a.courier().Deliver(ctx, key)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mail.ErrPermanent):
		return temporal.NewNonRetryableApplicationError("mail refused", "mail_permanent", err)
	}
	return a.permanentIfDomain(err)
}

// courier is the worker's courier, or, where none was given (tests), one over the same
// database and mailer that is not running.
func (a *Activities) courier() *Courier {
	if a.Courier != nil {
		return a.Courier
	}
	return &Courier{DB: a.DB, Mailer: a.Mailer, Logger: a.Logger}
}

// DeliverMailBatch delivers the outbox messages stored under keys, each as DeliverMail does:
// once, a message already sent, held or failed left alone. One activity for all of a step's mail
// (a raise's notification and confirmation) costs the engine one activity and one workflow task
// instead of one per message. Every key is tried even when an earlier one failed. If any failed
// for now, the activity fails retryably and its retry sends only what is still pending; if the
// rest went but some were refused for good (marked failed), it fails without retrying.
func (a *Activities) DeliverMailBatch(ctx context.Context, keys []string) error {
	var again, refused []error
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return err // out of time: the retry carries on with what is still pending
		}
		err := a.DeliverMail(ctx, key)
		var app *temporal.ApplicationError
		switch {
		case err == nil:
		case errors.As(err, &app) && app.NonRetryable():
			refused = append(refused, fmt.Errorf("%s: %w", key, err))
		default:
			again = append(again, fmt.Errorf("%s: %w", key, err))
		}
	}
	switch {
	case len(again) > 0:
		return errors.Join(again...)
	case len(refused) > 0:
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%d of %d messages not delivered", len(refused), len(keys)), "mail_permanent", errors.Join(refused...))
	}
	return nil
}

// messageID derives a stable Message-ID from the outbox key, without the key's text.
func messageID(key string) string { return shortHash(key) + "@safeguard" }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

func (a *Activities) link(ref string) string { return a.BaseURL + "/concerns/" + ref }

// permanentIfDomain stops retries for application errors (a missing organisation will not
// appear by retrying) and leaves infrastructure errors retryable.
func (a *Activities) permanentIfDomain(err error) error {
	var e *safeguard.Error
	if errors.As(err, &e) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %s", e.Code, e.Message), e.Code, err)
	}
	return err
}
