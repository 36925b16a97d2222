package sql

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/safeguard-project/safeguard"
)

// Credentials is what sign-in needs to know about an account: the person, the hash of their
// password (nil if none is set yet) and their recent failures.
type Credentials struct {
	safeguard.User
	PasswordHash *string `db:"password_hash"`
	safeguard.SignInFailures
}

// FindCredentials returns the credentials of the account with that email; ENOTFOUND if none.
func (db *DB) FindCredentials(ctx context.Context, email string) (*Credentials, error) {
	var c Credentials
	err := db.GetContext(ctx, &c, db.Rebind(`SELECT `+userColumns+`, u.password_hash, u.failed_sign_ins, u.failures_since, u.locked_until
		FROM users u JOIN organisations o ON o.code = u.org_code WHERE u.email = ?`), strings.ToLower(strings.TrimSpace(email)))
	if isNoRows(err) {
		return nil, safeguard.Errorf(safeguard.ENOTFOUND, "no such account")
	}
	return &c, err
}

// SetPasswordHash stores a new password hash for the user (the caller has checked the password
// against safeguard.ValidatePassword and hashed it), clears any lockout, and ends every
// session the user had: whoever knew the old password is signed out.
func (db *DB) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET password_hash = ?, failed_sign_ins = 0, failures_since = NULL, locked_until = NULL WHERE id = ?`), hash, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return safeguard.Errorf(safeguard.ENOTFOUND, "no user with id %d", userID)
		}
		_, err = revokeUserSessions(ctx, tx, tx.Rebind, db.Now(), userID)
		return err
	})
}

// RecordSignInFailure counts a failed sign-in against the account under the lockout rule and
// returns the new state. The read and write are one transaction (the row locked on
// PostgreSQL), so concurrent guesses cannot each see a count below the limit.
func (db *DB) RecordSignInFailure(ctx context.Context, userID int64, l safeguard.Lockout) (safeguard.SignInFailures, error) {
	var f safeguard.SignInFailures
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		q := `SELECT failed_sign_ins, failures_since, locked_until FROM users WHERE id = ?`
		if db.Dialect == Postgres {
			q += ` FOR UPDATE`
		}
		if err := tx.GetContext(ctx, &f, tx.Rebind(q), userID); err != nil {
			return err
		}
		f = l.Fail(f, db.Now())
		_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET failed_sign_ins = ?, failures_since = ?, locked_until = ? WHERE id = ?`),
			f.Count, f.Since, f.LockedUntil, userID)
		return err
	})
	return f, err
}

// ClearSignInFailures forgets the account's failed sign-ins, after a successful one.
func (db *DB) ClearSignInFailures(ctx context.Context, userID int64) error {
	_, err := db.ExecContext(ctx, db.Rebind(`UPDATE users SET failed_sign_ins = 0, failures_since = NULL, locked_until = NULL
		WHERE id = ? AND (failed_sign_ins <> 0 OR locked_until IS NOT NULL)`), userID)
	return err
}

// CreateSetupToken makes a one-time secret that lets the user set their password until ttl
// has passed; only its hash is stored.
func (db *DB) CreateSetupToken(ctx context.Context, userID int64, ttl time.Duration) (string, error) {
	secret, err := newSecret("")
	if err != nil {
		return "", err
	}
	now := db.Now()
	_, err = db.ExecContext(ctx, db.Rebind(`INSERT INTO setup_tokens (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`),
		hashToken(secret), userID, now, now.Add(ttl).UTC())
	return secret, err
}

// SetupTokenUser returns the enabled user a live (unused, unexpired) setup token is for, without
// using it up; EUNAUTHORIZED otherwise.
func (db *DB) SetupTokenUser(ctx context.Context, secret string) (*safeguard.User, error) {
	var u safeguard.User
	err := db.GetContext(ctx, &u, db.Rebind(`SELECT `+userColumns+`
		FROM setup_tokens t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.code = u.org_code
		WHERE t.hash = ? AND t.used_at IS NULL AND t.expires_at > ? AND NOT u.disabled`), hashToken(secret), db.Now())
	if isNoRows(err) {
		return nil, safeguard.Errorf(safeguard.EUNAUTHORIZED, "this link has expired or has already been used")
	}
	return &u, err
}

// UseSetupToken sets the password hash of the user a live setup token is for and uses the token
// up, in one transaction: of two concurrent uses, one wins and the other gets EUNAUTHORIZED.
func (db *DB) UseSetupToken(ctx context.Context, secret, passwordHash string) (*safeguard.User, error) {
	u, err := db.SetupTokenUser(ctx, secret)
	if err != nil {
		return nil, err
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE setup_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?`),
			db.Now(), hashToken(secret), db.Now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return safeguard.Errorf(safeguard.EUNAUTHORIZED, "this link has expired or has already been used")
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET password_hash = ?, failed_sign_ins = 0, failures_since = NULL, locked_until = NULL WHERE id = ?`),
			passwordHash, u.ID)
		if err != nil {
			return err
		}
		_, err = revokeUserSessions(ctx, tx, tx.Rebind, db.Now(), u.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
