// Package mail renders the service's messages and sends them over SMTP (wneessen/go-mail).
//
// Mail leaves the service, so it carries a concern's reference and a link, never the adult's
// name, prison number or any detail of the concern: the reader signs in to see those.
// Rendering lives here and only here, so that rule is kept in one place.
package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/safeguard-project/safeguard/calendar"
)

// Message is a rendered message, ready for the outbox.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Notice is what a message is about. Reference and Link are the only things in it that point
// at a concern; Org and Establishment are names of organisations, not of people.
type Notice struct {
	Reference     string
	Link          string
	Establishment string // the establishment's name
	Org           string // the receiving or responsible organisation's name
	Clock         string // for ladder mail: the deadline, in words
	Due           string // for ladder mail: when it falls due, in words, UK time
}

var london = calendar.EnglandAndWales().Location()

// FormatTime writes a deadline as people in England read it: "Tuesday 29 December 2026 at 16:00".
func FormatTime(t time.Time) string { return t.In(london).Format("Monday 2 January 2006 at 15:04") }

var templates = template.Must(template.New("mail").Parse(`
{{define "raised_host_la.subject"}}Safeguarding concern {{.Reference}} raised at {{.Establishment}}{{end}}
{{define "raised_host_la.body"}}A safeguarding concern has been raised at {{.Establishment}}, which stands in the area of {{.Org}}.

Reference: {{.Reference}}

Please acknowledge it{{if .Due}} by {{.Due}}{{end}} and give the prison's safeguarding lead any advice,
care and support assessment or strategy meeting attendance the adult may need (Care Act 2014 s.76).

Open the concern: {{.Link}}

This message deliberately carries no personal details. Sign in to read the concern.
{{end}}
{{define "raised_confirm.subject"}}Concern {{.Reference}} recorded{{end}}
{{define "raised_confirm.body"}}The safeguarding concern {{.Reference}} has been recorded for {{.Establishment}}
and {{.Org}} has been notified.

{{if .Due}}Triage is due {{.Due}}.
{{end}}
Open the concern: {{.Link}}

This message deliberately carries no personal details. Sign in to read the concern.
{{end}}
{{define "footer"}}
Open the concern: {{.Link}}

This message deliberately carries no personal details. Sign in to read the concern.
{{end}}
{{define "ladder_reminder.subject"}}Reminder: {{.Clock}} for {{.Reference}} is due {{.Due}}{{end}}
{{define "ladder_reminder.body"}}The {{.Clock}} for safeguarding concern {{.Reference}} is due {{.Due}}.
{{.Org}} is responsible for it.
{{template "footer" .}}{{end}}
{{define "ladder_overdue.subject"}}Overdue: {{.Clock}} for {{.Reference}}{{end}}
{{define "ladder_overdue.body"}}The {{.Clock}} for safeguarding concern {{.Reference}} was due {{.Due}} and has not happened.
{{.Org}} is responsible for it.
{{template "footer" .}}{{end}}
{{define "ladder_escalation.subject"}}Escalation: {{.Clock}} for {{.Reference}} is overdue{{end}}
{{define "ladder_escalation.body"}}The {{.Clock}} for safeguarding concern {{.Reference}} was due {{.Due}} and is still outstanding.
{{.Org}} is responsible for it. You are receiving this as a manager under the escalation procedure:
please resolve it, or record why it cannot be met.
{{template "footer" .}}{{end}}
{{define "contribution_requested.subject"}}Advice requested on safeguarding concern {{.Reference}}{{end}}
{{define "contribution_requested.body"}}{{.Establishment}} asks {{.Org}} for advice on safeguarding concern {{.Reference}}.
The question is on the concern's page.
{{template "footer" .}}{{end}}
{{define "contribution_received.subject"}}Advice received on safeguarding concern {{.Reference}}{{end}}
{{define "contribution_received.body"}}Advice has been given on safeguarding concern {{.Reference}}.
{{template "footer" .}}{{end}}
{{define "handover.subject"}}Safeguarding concern {{.Reference}} is being handed over to {{.Org}}{{end}}
{{define "handover.body"}}{{.Establishment}} is handing safeguarding concern {{.Reference}} over to {{.Org}}.
Please acknowledge the handover.
{{template "footer" .}}{{end}}
{{define "referred_to_la.subject"}}Safeguarding concern {{.Reference}} referred for an LA-led enquiry{{end}}
{{define "referred_to_la.body"}}{{.Establishment}} has referred safeguarding concern {{.Reference}} to {{.Org}}
for an enquiry under section 42 of the Care Act 2014. Please acknowledge the referral.
{{template "footer" .}}{{end}}
`))

// Render fills the named template ("raised_host_la", "raised_confirm") for one recipient.
func Render(name, to string, n Notice) (Message, error) {
	var subj, body bytes.Buffer
	if err := templates.ExecuteTemplate(&subj, name+".subject", n); err != nil {
		return Message{}, fmt.Errorf("mail: render %s: %w", name, err)
	}
	if err := templates.ExecuteTemplate(&body, name+".body", n); err != nil {
		return Message{}, fmt.Errorf("mail: render %s: %w", name, err)
	}
	return Message{To: to, Subject: strings.TrimSpace(subj.String()), Body: body.String()}, nil
}

// Sender delivers messages through one SMTP relay.
type Sender struct {
	host   string
	from   string
	client *gomail.Client
}

// TLS modes of SMTP_URL's ?tls= parameter.
const (
	TLSNone     = "none"     // plain SMTP, for a relay on the same host or network
	TLSStartTLS = "starttls" // upgrade with STARTTLS, which must succeed (the default)
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, usually port 465)
)

// ParseURL checks an SMTP_URL of the form smtp://user:pass@host:port?tls=none|starttls|tls.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, errors.New("must look like smtp://user:pass@host:port?tls=none|starttls|tls")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q is not a port number", p)
		}
	}
	switch u.Query().Get("tls") {
	case "", TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return nil, fmt.Errorf("tls=%q must be none, starttls or tls", u.Query().Get("tls"))
	}
	return u, nil
}

// NewSender returns a sender for SMTP_URL, sending as from. It does not connect until a message
// is sent.
func NewSender(smtpURL, from string) (*Sender, error) {
	u, err := ParseURL(smtpURL)
	if err != nil {
		return nil, err
	}
	opts := []gomail.Option{gomail.WithTimeout(10 * time.Second)}
	mode := u.Query().Get("tls")
	port := 587
	switch mode {
	case TLSNone:
		opts, port = append(opts, gomail.WithTLSPolicy(gomail.NoTLS)), 25
	case TLSImplicit:
		opts, port = append(opts, gomail.WithSSL()), 465
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	c, err := gomail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, err
	}
	return &Sender{host: u.Host, from: from, client: c}, nil
}

// ErrPermanent marks a failure that will not go away by retrying: the relay refused the message
// or the recipient for good (5xx), or the message cannot be built.
var ErrPermanent = errors.New("permanent mail failure")

// Send delivers one message. messageID is stable for the outbox key, so that if a message is
// ever delivered twice (a crash after the relay accepted it but before that was recorded) the
// receiving side can tell the copies apart from new mail. A returned error wraps ErrPermanent
// when retrying cannot help; otherwise it is temporary.
func (s *Sender) Send(ctx context.Context, messageID string, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("%w: sender %q: %v", ErrPermanent, s.from, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("%w: recipient: %v", ErrPermanent, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(messageID)
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	err := s.client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	return fmt.Errorf("mail: send via %s: %w", s.host, err)
}

// Ping checks that the relay answers, for /readyz.
func (s *Sender) Ping(ctx context.Context) error {
	c, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return err
	}
	return s.client.CloseWithSMTPClient(c)
}
