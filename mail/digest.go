package mail

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
)

// Digest is what the weekly digest says to one organisation's managers: counts and links, and
// nothing else. It has no field that could hold a concern's reference or anything of an adult's,
// so the digest cannot carry personal data whatever the counts are.
type Digest struct {
	Org                 string // the organisation's name
	Week                string // the ISO week, e.g. "2026-W10"
	At                  string // when it was counted, in words, UK time
	Open                int
	Overdue             []ClockCount // overdue clocks, by clock, in the order to show
	OverdueTotal        int
	DueThisWeek         int
	EscalationsLastWeek int
	OverdueLink         string
	ReportsLink         string
}

// ClockCount is how many of one kind of deadline, the deadline in words.
type ClockCount struct {
	Clock string
	N     int
}

var digestTemplates = template.Must(template.New("digest").Parse(`
{{define "subject"}}Weekly safeguarding digest for {{.Org}}, week {{.Week}}: {{.OverdueTotal}} overdue{{end}}
{{define "body"}}The weekly summary of the safeguarding concerns that involve {{.Org}}, counted {{.At}}.

Concerns open: {{.Open}}
Deadlines overdue: {{.OverdueTotal}}
{{- range .Overdue}}
  - {{.Clock}}: {{.N}}
{{- end}}
Deadlines falling due in the next 7 days: {{.DueThisWeek}}
Escalations sent in the last 7 days: {{.EscalationsLastWeek}}

The overdue list: {{.OverdueLink}}
Reports: {{.ReportsLink}}

This message deliberately carries only counts. Sign in to see the concerns.
{{end}}
`))

// RenderDigest renders the weekly digest for one manager.
func RenderDigest(to string, d Digest) (Message, error) {
	var subj, body bytes.Buffer
	if err := digestTemplates.ExecuteTemplate(&subj, "subject", d); err != nil {
		return Message{}, fmt.Errorf("mail: render digest: %w", err)
	}
	if err := digestTemplates.ExecuteTemplate(&body, "body", d); err != nil {
		return Message{}, fmt.Errorf("mail: render digest: %w", err)
	}
	return Message{To: to, Subject: strings.TrimSpace(subj.String()), Body: body.String()}, nil
}
