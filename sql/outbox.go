package sql

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/safeguard-project/safeguard"
)

// Outbox states. A message is pending until it is sent, held when the deployment has no SMTP
// relay (shown at /dev/mail instead), or failed when the relay refused it for good.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxHeld    = "held"
	OutboxFailed  = "failed"
)

// OutboxMessage is one stored message and what became of it.
type OutboxMessage struct {
	ID        int64      `db:"id" json:"-"`
	Key       string     `db:"key" json:"key"`
	Reference string     `db:"reference" json:"reference"`
	Recipient string     `db:"recipient" json:"recipient"`
	Subject   string     `db:"subject" json:"subject"`
	Body      string     `db:"body" json:"body"`
	Status    string     `db:"status" json:"status"`
	Attempts  int        `db:"attempts" json:"attempts"`
	LastError string     `db:"last_error" json:"last_error,omitempty"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	SentAt    *time.Time `db:"sent_at" json:"sent_at,omitempty"`
}

func (db *DB) enqueue(ctx context.Context, tx *sqlx.Tx, ref string, at time.Time, mail []Mail) error {
	for _, m := range mail {
		_, err := tx.ExecContext(ctx, db.Rebind(`
			INSERT INTO outbox (key, reference, recipient, subject, body, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO NOTHING`), m.Key, ref, m.Recipient, m.Subject, m.Body, OutboxPending, at)
		if err != nil {
			return err
		}
	}
	return nil
}

const outboxColumns = `id, key, reference, recipient, subject, body, status, attempts, last_error, created_at, sent_at`

// OutboxMessage returns the message stored under key, or ENOTFOUND.
func (db *DB) OutboxMessage(ctx context.Context, key string) (*OutboxMessage, error) {
	var m OutboxMessage
	err := db.GetContext(ctx, &m, db.Rebind(`SELECT `+outboxColumns+` FROM outbox WHERE key = ?`), key)
	if isNoRows(err) {
		return nil, safeguard.Errorf(safeguard.ENOTFOUND, "no outbox message %q", key)
	}
	return &m, err
}

// PendingMail returns the keys of a concern's messages that are still pending, oldest first;
// with a prefix, only keys that start with it.
func (db *DB) PendingMail(ctx context.Context, ref, prefix string) ([]string, error) {
	var keys []string
	err := db.SelectContext(ctx, &keys, db.Rebind(`SELECT key FROM outbox WHERE reference = ? AND status = ? AND key LIKE ? ESCAPE '\' ORDER BY id`),
		ref, OutboxPending, escapeLike(prefix)+"%")
	return keys, err
}

// ClaimForSending claims a pending message for one sender, for lease, and counts the attempt.
// It returns false if the message is no longer pending (sent, held or failed by an earlier
// attempt) or another sender's claim on it has not lapsed: then nothing must be sent. Two
// senders racing for one message get one true between them (one UPDATE of one row).
func (db *DB) ClaimForSending(ctx context.Context, key string, lease time.Duration) (bool, error) {
	now := db.Now().UTC().Truncate(time.Microsecond)
	res, err := db.ExecContext(ctx, db.Rebind(`UPDATE outbox SET attempts = attempts + 1, claimed_until = ?
		WHERE key = ? AND status = ? AND (claimed_until IS NULL OR claimed_until <= ?)`), now.Add(lease), key, OutboxPending, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RetryLater records a temporary failure of a pending message: its claim is released and it is
// not due again for wait.
func (db *DB) RetryLater(ctx context.Context, key, lastError string, wait time.Duration) error {
	at := db.Now().UTC().Truncate(time.Microsecond).Add(wait)
	_, err := db.ExecContext(ctx, db.Rebind(`UPDATE outbox SET last_error = ?, claimed_until = NULL, next_attempt_at = ? WHERE key = ? AND status = ?`),
		lastError, at, key, OutboxPending)
	return err
}

// DueMail returns up to limit pending messages that are due (never tried, or past their
// backoff) and that no sender holds, oldest first.
func (db *DB) DueMail(ctx context.Context, limit int) ([]OutboxMessage, error) {
	now := db.Now().UTC().Truncate(time.Microsecond)
	var msgs []OutboxMessage
	err := db.SelectContext(ctx, &msgs, db.Rebind(`SELECT `+outboxColumns+` FROM outbox
		WHERE status = ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?) AND (claimed_until IS NULL OR claimed_until <= ?)
		ORDER BY id LIMIT ?`), OutboxPending, now, now, limit)
	return msgs, err
}

// SetOutboxStatus records what became of a message: sent (with the time), held or failed (with
// the error). Any claim on it is released. A temporary failure is RetryLater's.
func (db *DB) SetOutboxStatus(ctx context.Context, key, status, lastError string) error {
	var sentAt *time.Time
	if status == OutboxSent {
		now := db.Now()
		sentAt = &now
	}
	_, err := db.ExecContext(ctx, db.Rebind(`UPDATE outbox SET status = ?, last_error = ?, sent_at = COALESCE(?, sent_at), claimed_until = NULL WHERE key = ?`),
		status, lastError, sentAt, key)
	return err
}

// RecentOutbox returns the newest messages first, for the development mailbox.
func (db *DB) RecentOutbox(ctx context.Context, limit int) ([]OutboxMessage, error) {
	var msgs []OutboxMessage
	err := db.SelectContext(ctx, &msgs, db.Rebind(`SELECT `+outboxColumns+` FROM outbox ORDER BY id DESC LIMIT ?`), limit)
	return msgs, err
}

// OutboxBacklog returns how many messages wait to be sent, for /metrics.
func (db *DB) OutboxBacklog(ctx context.Context) (int, error) {
	var n int
	err := db.GetContext(ctx, &n, db.Rebind(`SELECT COUNT(*) FROM outbox WHERE status = ?`), OutboxPending)
	return n, err
}
