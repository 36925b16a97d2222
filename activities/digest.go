package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/mail"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// DigestInput is one organisation's weekly digest, counted at At (the Digest workflow's start,
// so that every retry counts the same moment and keys the same week).
type DigestInput struct {
	Org string
	At  time.Time
}

// DigestOrganisations returns the organisations whose managers get the weekly digest.
func (a *Activities) DigestOrganisations(ctx context.Context) ([]string, error) {
	return a.DB.DigestOrganisations(ctx)
}

// WriteDigest counts one organisation's week and writes a digest to each of its managers into
// the outbox, under keys digest/<ISO week>/<org>/<recipient hash>: a retry, or a second run in
// the same week, writes nothing new. It returns the keys still to deliver.
func (a *Activities) WriteDigest(ctx context.Context, in DigestInput) ([]string, error) {
	org, err := a.DB.FindOrganisation(ctx, in.Org)
	if err != nil {
		return nil, a.permanentIfDomain(err)
	}
	d, err := a.DB.DigestCounts(ctx, in.Org, in.At)
	if err != nil {
		return nil, err
	}
	managers, err := a.DB.ManagerEmails(ctx, in.Org)
	if err != nil {
		return nil, err
	}
	m := digestMail(org.Name, d, a.BaseURL)
	prefix := "digest/" + d.Week + "/" + in.Org + "/"
	var msgs []sgsql.Mail
	for _, addr := range managers {
		r, err := mail.RenderDigest(addr, m)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), "render", err)
		}
		msgs = append(msgs, sgsql.Mail{Key: prefix + shortHash(addr), Recipient: addr, Subject: r.Subject, Body: r.Body})
	}
	keys, err := a.DB.RecordDigest(ctx, prefix, msgs)
	if err == nil && len(keys) > 0 {
		a.Courier.Nudge()
	}
	return keys, err
}

// digestMail turns an organisation's counts into what its digest says: every clock that has
// an overdue count, in the policy's order, by the name readers know it by, and the links to
// the overdue list and the reports.
func digestMail(orgName string, d *safeguard.Digest, baseURL string) mail.Digest {
	m := mail.Digest{Org: orgName, Week: d.Week, At: mail.FormatTime(d.At), Open: d.Open, OverdueTotal: d.OverdueTotal,
		DueThisWeek: d.DueThisWeek, EscalationsLastWeek: d.EscalationsLastWeek,
		OverdueLink: baseURL + "/overdue", ReportsLink: baseURL + "/reports"}
	for _, name := range safeguard.ClockNames {
		if n := d.Overdue[name]; n > 0 {
			m.Overdue = append(m.Overdue, mail.ClockCount{Clock: clockLabels[name], N: n})
		}
	}
	return m
}
