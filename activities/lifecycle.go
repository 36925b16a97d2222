package activities

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/mail"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// ChangeInput is one lifecycle action decided by the workflow, with the key (the Update's ID)
// that makes recording it twice harmless.
type ChangeInput struct {
	Reference string
	EventKey  string
	Change    *safeguard.Change
}

// ChangeApplied is the concern after the change, and the mail it put in the outbox.
type ChangeApplied struct {
	Concern  *safeguard.Concern
	MailKeys []string
}

// ApplyChange stores an action and the notifications it sends, in one transaction, and returns
// the concern as it now stands.
func (a *Activities) ApplyChange(ctx context.Context, in ChangeInput) (*ChangeApplied, error) {
	ch := in.Change
	var msgs []sgsql.Mail
	var est *safeguard.Organisation
	if len(ch.Notify) > 0 {
		var err error
		if est, err = a.DB.FindOrganisation(ctx, ch.Establishment); err != nil {
			return nil, a.permanentIfDomain(err)
		}
	}
	for _, n := range ch.Notify {
		org, err := a.DB.FindOrganisation(ctx, n.Org)
		if err != nil {
			return nil, a.permanentIfDomain(err)
		}
		m, err := mail.Render(n.Template, org.Inbox, mail.Notice{Reference: in.Reference, Link: a.link(in.Reference), Establishment: est.Name, Org: org.Name})
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), "render", err)
		}
		msgs = append(msgs, sgsql.Mail{Key: in.Reference + "/" + in.EventKey + "/" + n.Template + "/" + n.Org, Recipient: m.To, Subject: m.Subject, Body: m.Body})
	}
	if err := a.DB.RecordChange(ctx, sgsql.ChangeRecord{Reference: in.Reference, EventKey: in.EventKey, Change: ch, Mail: msgs}); err != nil {
		return nil, a.permanentIfDomain(err)
	}
	if len(msgs) > 0 {
		a.Courier.Nudge()
	}
	c, err := a.DB.FindConcern(ctx, safeguard.Scope{All: true}, in.Reference)
	if err != nil {
		return nil, err
	}
	keys, err := a.DB.PendingMail(ctx, in.Reference, in.Reference+"/"+in.EventKey+"/")
	if err != nil {
		return nil, err
	}
	return &ChangeApplied{Concern: c, MailKeys: keys}, nil
}

// StepInput is one rung of a clock's ladder that has come due.
type StepInput struct {
	Reference string
	Clock     safeguard.ClockInstance
	Index     int
	At        time.Time
	Breached  bool     // the rung is at or after the due time
	Targets   []string // policy.Target values
}

// clockLabels are the clocks as a reader of a message knows them.
var clockLabels = map[string]string{
	safeguard.ClockLAAcknowledgement:       "acknowledgement by the host local authority",
	safeguard.ClockTriageDecision:          "triage decision",
	safeguard.ClockLAContribution:          "advice requested",
	safeguard.ClockEnquiryCompletion:       "completion of the enquiry",
	safeguard.ClockClosureSignoff:          "manager sign-off of closure",
	safeguard.ClockHandoverAcknowledgement: "acknowledgement of the handover",
}

// FireStep records a ladder rung and its mail, once: recipients are resolved now (the
// responsible organisation's inbox, the assignee, managers), so people who joined or left since
// the clock started are counted as they are. It returns the keys of the rung's mail to deliver.
func (a *Activities) FireStep(ctx context.Context, in StepInput) ([]string, error) {
	c := in.Clock
	org, err := a.DB.FindOrganisation(ctx, c.Org)
	if err != nil {
		return nil, a.permanentIfDomain(err)
	}
	var to []string
	add := func(addrs ...string) {
		for _, addr := range addrs {
			if addr != "" && !slices.Contains(to, addr) {
				to = append(to, addr)
			}
		}
	}
	for _, t := range in.Targets {
		switch t {
		case "responsible_inbox":
			add(org.Inbox)
		case "assignee":
			if c.Assignee != 0 {
				email, err := a.DB.UserEmail(ctx, c.Assignee)
				if err != nil {
					return nil, err
				}
				add(email)
			}
		case "responsible_managers", "partner_managers":
			code := c.Org
			if t == "partner_managers" {
				code = c.Partner
			}
			emails, err := a.DB.ManagerEmails(ctx, code)
			if err != nil {
				return nil, err
			}
			add(emails...)
		}
	}
	template := "ladder_reminder"
	switch {
	case in.Breached && in.At.Equal(c.Due):
		template = "ladder_overdue"
	case in.Breached:
		template = "ladder_escalation"
	}
	notice := mail.Notice{Reference: in.Reference, Link: a.link(in.Reference), Org: org.Name,
		Clock: clockLabels[c.Name], Due: mail.FormatTime(c.Due)}
	prefix := fmt.Sprintf("%s/%s/step-%d/", in.Reference, c.ID, in.Index)
	var msgs []sgsql.Mail
	for _, addr := range to {
		m, err := mail.Render(template, addr, notice)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), "render", err)
		}
		// The key names the recipient by a hash: keys appear in logs, addresses should not.
		msgs = append(msgs, sgsql.Mail{Key: prefix + shortHash(addr), Recipient: addr, Subject: m.Subject, Body: m.Body})
	}
	if len(msgs) == 0 {
		a.Logger.Warn("ladder rung has no one to tell", "reference", in.Reference, "clock", c.Name, "step", in.Index)
	}
	_, err = a.DB.RecordStep(ctx, sgsql.StepRecord{Reference: in.Reference, ClockID: c.ID, Index: in.Index, At: in.At, Breached: in.Breached, Mail: msgs,
		Detail: map[string]any{"clock": c.Name, "clock_id": c.ID, "step": in.Index, "due": c.Due, "notified": in.Targets, "recipients": len(msgs),
			"organisation": c.Org, "partner": c.Partner}})
	if err != nil {
		return nil, a.permanentIfDomain(err)
	}
	if len(msgs) > 0 {
		a.Courier.Nudge()
	}
	return a.DB.PendingMail(ctx, in.Reference, prefix)
}

// PendingMail returns the keys of a concern's mail not yet sent, for a workflow that continues
// as new to finish delivering.
func (a *Activities) PendingMail(ctx context.Context, ref string) ([]string, error) {
	return a.DB.PendingMail(ctx, ref, "")
}
