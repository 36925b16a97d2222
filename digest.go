package safeguard

import (
	"fmt"
	"time"
)

// The weekly digest: every Monday morning each organisation's managers are told, in counts
// only, how its concerns stand — so that a manager who never opens the overdue page still
// learns that deadlines are slipping. It names no concern and no person: a count cannot
// identify an adult, and the links lead to pages that ask the reader to sign in.

// DigestWindow is the week a digest looks back over (escalations) and ahead over (due soon).
const DigestWindow = 7 * 24 * time.Hour

// Digest is one organisation's counts at one moment, over the concerns that organisation's
// managers may see (its scope, as the lists and reports apply it).
type Digest struct {
	Org  string    // the organisation's code
	At   time.Time // the moment counted at
	Week string    // the ISO week of At in Europe/London, e.g. "2026-W10"
	// Open is the concerns still being worked: not closed, ended at triage or handed over.
	Open int
	// Overdue is the counting clocks past their due time, by clock name; OverdueTotal their sum.
	Overdue      map[string]int
	OverdueTotal int
	// DueThisWeek is the counting clocks not yet due that fall due within DigestWindow of At.
	DueThisWeek int
	// EscalationsLastWeek is the ladder rungs fired in the DigestWindow before At.
	EscalationsLastWeek int
}

// DigestWeek names the ISO 8601 week that t falls in, as a manager in England reads it. It
// keys the digest's mail, so that a week's digest is sent once however often it is retried.
func DigestWeek(t time.Time, loc *time.Location) string {
	y, w := t.In(loc).ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}
