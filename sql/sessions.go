package sql

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/safeguard-project/safeguard"
)

// Sessions are kept here rather than in a session library (alexedwards/scs was considered):
// what they must do is SQL over the user, not over the session. Revoking every session of a
// person, and ending them all the moment an account is disabled, are one UPDATE or one JOIN
// against users here, where a key-value session store would have to find them by scanning.
// A session row holds nothing but who is signed in and when; the page state lives in forms.

// Session is one signed-in browser.
type Session struct {
	ID        int64      `db:"id"`
	UserID    int64      `db:"user_id"`
	Created   time.Time  `db:"created_at"`
	LastSeen  time.Time  `db:"last_seen_at"`
	RevokedAt *time.Time `db:"revoked_at"`
	Remote    string     `db:"remote"`
	UserAgent string     `db:"user_agent"`
}

// sessionTouchEvery bounds how often a session's last_seen_at is written: at most once a
// minute, so that reading pages does not turn every request into a write. The idle timeout is
// counted from the last write, so it may end up to a minute early, never late.
const sessionTouchEvery = time.Minute

// CreateSession starts a session for the user with a new random token and returns the token,
// which is the cookie's value; only its SHA-256 is stored.
func (db *DB) CreateSession(ctx context.Context, userID int64, remote, userAgent string) (secret string, s *Session, err error) {
	if secret, err = newSecret(""); err != nil {
		return "", nil, err
	}
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	now := db.Now()
	s = &Session{UserID: userID, Created: now, LastSeen: now, Remote: remote, UserAgent: userAgent}
	err = db.GetContext(ctx, &s.ID, db.Rebind(`INSERT INTO sessions (hash, user_id, created_at, last_seen_at, remote, user_agent)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), hashToken(secret), userID, now, now, remote, userAgent)
	if err != nil {
		return "", nil, err
	}
	return secret, s, nil
}

// SessionUser returns the enabled user of a live session and the session's ID, and records the
// session as seen. A session is live if it is not revoked, was seen within
// safeguard.SessionIdleTimeout and began within safeguard.SessionAbsoluteTimeout. Anything
// else is EUNAUTHORIZED, without saying which.
func (db *DB) SessionUser(ctx context.Context, secret string) (*safeguard.User, int64, error) {
	if secret == "" || len(secret) > 100 {
		return nil, 0, safeguard.Errorf(safeguard.EUNAUTHORIZED, "your session has ended: sign in again")
	}
	now := db.Now()
	var row struct {
		safeguard.User
		SessionID int64     `db:"session_id"`
		LastSeen  time.Time `db:"last_seen_at"`
	}
	err := db.GetContext(ctx, &row, db.Rebind(`SELECT `+userColumns+`, s.id AS session_id, s.last_seen_at
		FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.code = u.org_code
		WHERE s.hash = ? AND s.revoked_at IS NULL AND s.last_seen_at > ? AND s.created_at > ? AND NOT u.disabled`),
		hashToken(secret), now.Add(-safeguard.SessionIdleTimeout), now.Add(-safeguard.SessionAbsoluteTimeout))
	if isNoRows(err) {
		return nil, 0, safeguard.Errorf(safeguard.EUNAUTHORIZED, "your session has ended: sign in again")
	} else if err != nil {
		return nil, 0, err
	}
	if now.Sub(row.LastSeen) >= sessionTouchEvery {
		if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE sessions SET last_seen_at = ? WHERE id = ?`), now, row.SessionID); err != nil {
			return nil, 0, err
		}
	}
	return &row.User, row.SessionID, nil
}

// RevokeSession ends the session holding secret (sign-out) and returns it; ENOTFOUND if no
// live-or-not session has that token, so signing out twice is harmless to the caller.
func (db *DB) RevokeSession(ctx context.Context, secret string) (*Session, error) {
	var s Session
	err := db.GetContext(ctx, &s, db.Rebind(`UPDATE sessions SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL
		RETURNING id, user_id, created_at, last_seen_at, revoked_at, remote, user_agent`), db.Now(), hashToken(secret))
	if isNoRows(err) {
		return nil, safeguard.Errorf(safeguard.ENOTFOUND, "no such session")
	}
	return &s, err
}

// RevokeUserSessions ends every session of the user and returns how many were open.
func (db *DB) RevokeUserSessions(ctx context.Context, userID int64) (int, error) {
	return revokeUserSessions(ctx, db.DB, db.Rebind, db.Now(), userID)
}

func revokeUserSessions(ctx context.Context, ex sqlx.ExecerContext, rebind func(string) string, now time.Time, userID int64) (int, error) {
	res, err := ex.ExecContext(ctx, rebind(`UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`), now, userID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ListSessions returns the user's sessions, newest first, live or not.
func (db *DB) ListSessions(ctx context.Context, userID int64) ([]Session, error) {
	var out []Session
	err := db.SelectContext(ctx, &out, db.Rebind(`SELECT id, user_id, created_at, last_seen_at, revoked_at, remote, user_agent
		FROM sessions WHERE user_id = ? ORDER BY id DESC`), userID)
	return out, err
}

// FindUser returns the user with that ID; ENOTFOUND if there is none.
func (db *DB) FindUser(ctx context.Context, id int64) (*safeguard.User, error) {
	var u safeguard.User
	err := db.GetContext(ctx, &u, db.Rebind(`SELECT `+userColumns+`
		FROM users u JOIN organisations o ON o.code = u.org_code WHERE u.id = ?`), id)
	if isNoRows(err) {
		return nil, safeguard.Errorf(safeguard.ENOTFOUND, "no user with id %d", id)
	}
	return &u, err
}

// SetUserDisabled disables or re-enables an account. Disabling ends every session at once (the
// session lookup joins users) and revokes them too, so that re-enabling does not bring old
// sessions back; API tokens stop working while the account is disabled.
func (db *DB) SetUserDisabled(ctx context.Context, userID int64, disabled bool) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET disabled = ? WHERE id = ?`), disabled, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return safeguard.Errorf(safeguard.ENOTFOUND, "no user with id %d", userID)
		}
		if disabled {
			_, err = revokeUserSessions(ctx, tx, tx.Rebind, db.Now(), userID)
		}
		return err
	})
}
