package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/mail"
	sgsql "github.com/safeguard-project/safeguard/sql"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// scriptedMailer answers each recipient with the errors queued for it, then nil, and counts
// what it sent.
type scriptedMailer struct {
	mu    sync.Mutex
	fail  map[string][]error
	sends map[string]int
}

func (m *scriptedMailer) Send(_ context.Context, _ string, msg mail.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if q := m.fail[msg.To]; len(q) > 0 {
		m.fail[msg.To] = q[1:]
		return q[0]
	}
	m.sends[msg.To]++
	return nil
}

// raised records one concern (its notification to the LA and its confirmation to the prison)
// and returns the activities and the two outbox keys.
func raised(t *testing.T, m Mailer, laInbox string) (*Activities, *sgsql.DB, []string) {
	t.Helper()
	return raisedOn(t, sqltest.SQLite(t), m, laInbox)
}

// raisedOn is raised on the database at dbURL.
func raisedOn(t *testing.T, dbURL string, m Mailer, laInbox string) (*Activities, *sgsql.DB, []string) {
	t.Helper()
	ctx := context.Background()
	db, err := sgsql.Open(ctx, dbURL)
	must(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	must(t, err)
	const leeds = "E08000035"
	must(t, db.UpsertOrganisation(ctx, &safeguard.Organisation{Code: leeds, Name: "Leeds City Council", Kind: safeguard.KindLocalAuthority, Inbox: laInbox}))
	must(t, db.UpsertOrganisation(ctx, &safeguard.Organisation{Code: "LEI", Name: "HMP Leeds", Kind: safeguard.KindPrison, Inbox: "safeguarding@lei.example", HostLA: leeds}))
	lead := &safeguard.User{Email: "lead@lei.example", Name: "Pat Lead", OrgCode: "LEI", Role: safeguard.RolePrisonLead}
	must(t, db.CreateUser(ctx, lead))
	a := &Activities{DB: db, Mailer: m, BaseURL: "https://safeguard.example", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ref, _, err := db.AllocateReference(ctx, "LEI", 2026, nil)
	must(t, err)
	rec, err := a.RecordRaise(ctx, RaiseInput{Reference: ref, HostLA: leeds, RaisedBy: lead.ID, RaisedAt: time.Date(2026, 2, 23, 10, 0, 0, 0, time.UTC),
		Raise: namedRaise(adults[0])})
	must(t, err)
	if len(rec.MailKeys) != 2 {
		t.Fatalf("the raise left %v in the outbox, want two messages", rec.MailKeys)
	}
	return a, db, rec.MailKeys
}

func statuses(t *testing.T, db *sgsql.DB, keys []string) string {
	t.Helper()
	var out string
	for _, k := range keys {
		m, err := db.OutboxMessage(context.Background(), k)
		must(t, err)
		out += fmt.Sprintf("%s/%d ", m.Status, m.Attempts)
	}
	return out
}

func TestDeliverMailBatchSendsEachMessageOnceAndRetriesOnlyWhatIsPending(t *testing.T) {
	m := &scriptedMailer{sends: map[string]int{}, fail: map[string][]error{"adults@leeds.example": {errors.New("421 try again later")}}}
	a, db, keys := raised(t, m, "adults@leeds.example")
	ctx := context.Background()

	err := a.DeliverMailBatch(ctx, keys)
	var app *temporal.ApplicationError
	if err == nil || (errors.As(err, &app) && app.NonRetryable()) {
		t.Fatalf("a temporary failure of one message: %v, want a retryable error", err)
	}
	if m.sends["safeguarding@lei.example"] != 1 || m.sends["adults@leeds.example"] != 0 {
		t.Fatalf("after the first attempt sent %v, want the prison's confirmation only (the LA's failed for now)", m.sends)
	}
	// Temporal retries the activity: only the message still pending goes.
	must(t, a.DeliverMailBatch(ctx, keys))
	must(t, a.DeliverMailBatch(ctx, keys)) // and a third run (a retry after a lost answer) sends nothing
	if m.sends["safeguarding@lei.example"] != 1 || m.sends["adults@leeds.example"] != 1 {
		t.Errorf("sent %v, want each message once", m.sends)
	}
	if got, want := statuses(t, db, keys), "sent/2 sent/1 "; got != want {
		t.Errorf("outbox (status/attempts) %q, want %q", got, want)
	}
}

func TestDeliverMailBatchMarksAMessageRefusedForGoodAndStillSendsTheOthers(t *testing.T) {
	m := &scriptedMailer{sends: map[string]int{}, fail: map[string][]error{"adults@leeds.example": {fmt.Errorf("550 no such mailbox: %w", mail.ErrPermanent)}}}
	a, db, keys := raised(t, m, "adults@leeds.example")
	err := a.DeliverMailBatch(context.Background(), keys)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != "mail_permanent" {
		t.Fatalf("one message refused for good: %v, want a non-retryable mail_permanent error", err)
	}
	if m.sends["safeguarding@lei.example"] != 1 {
		t.Errorf("sent %v, want the prison's confirmation despite the LA's refusal", m.sends)
	}
	if got, want := statuses(t, db, keys), "failed/1 sent/1 "; got != want {
		t.Errorf("outbox (status/attempts) %q, want %q", got, want)
	}
}

func TestDeliverMailBatchWithoutARelayHoldsEveryMessage(t *testing.T) {
	a, db, keys := raised(t, nil, "")
	a.Mailer = nil
	must(t, a.DeliverMailBatch(context.Background(), keys))
	must(t, a.DeliverMailBatch(context.Background(), keys))
	if got, want := statuses(t, db, keys), "held/0 held/0 "; got != want {
		t.Errorf("outbox (status/attempts) %q, want %q", got, want)
	}
}
