package sql

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/safeguard-project/safeguard"
)

// tokenPrefix marks our secrets so that secret scanners and people can recognise a leaked one.
const tokenPrefix = "sgt_"

const userColumns = `u.id, u.email, u.name, u.org_code, o.kind AS org_kind, u.role, u.disabled, u.created_at`

// CreateUser validates and stores a new user. ECONFLICT if the email is already taken.
func (db *DB) CreateUser(ctx context.Context, u *safeguard.User) error {
	org, err := db.FindOrganisation(ctx, u.OrgCode)
	if safeguard.ErrorCode(err) == safeguard.ENOTFOUND {
		org = nil
	} else if err != nil {
		return err
	}
	if err := u.Validate(org); err != nil {
		return err
	}
	u.Created = db.Now()
	err = db.GetContext(ctx, &u.ID, db.Rebind(`
		INSERT INTO users (email, name, org_code, role, disabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
		u.Email, u.Name, u.OrgCode, u.Role, false, u.Created)
	if isUniqueViolation(err) {
		return safeguard.Errorf(safeguard.ECONFLICT, "a user with email %s already exists", u.Email)
	}
	return err
}

// FindUserByEmail returns ENOTFOUND if there is no such user.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*safeguard.User, error) {
	var u safeguard.User
	err := db.GetContext(ctx, &u, db.Rebind(`SELECT `+userColumns+`
		FROM users u JOIN organisations o ON o.code = u.org_code WHERE u.email = ?`), strings.ToLower(strings.TrimSpace(email)))
	if isNoRows(err) {
		return nil, safeguard.Errorf(safeguard.ENOTFOUND, "no user with email %s", email)
	}
	return &u, err
}

// CreateToken makes a new random secret for the user and stores only its SHA-256. The secret
// is returned once; it cannot be recovered later.
func (db *DB) CreateToken(ctx context.Context, userID int64, name string, expires *time.Time) (string, error) {
	if expires != nil {
		// SQLite compares times as text: every time is written in UTC so that text order is
		// time order.
		e := expires.UTC()
		expires = &e
	}
	secret, err := newSecret(tokenPrefix)
	if err != nil {
		return "", err
	}
	_, err = db.ExecContext(ctx, db.Rebind(`INSERT INTO tokens (user_id, hash, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
		userID, hashToken(secret), name, db.Now(), expires)
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Authenticate returns the enabled user holding a live (unrevoked, unexpired) token, and records
// when the token was last used. Any failure is EUNAUTHORIZED, without saying which check failed.
func (db *DB) Authenticate(ctx context.Context, secret string) (*safeguard.User, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return nil, safeguard.Errorf(safeguard.EUNAUTHORIZED, "invalid or expired token")
	}
	now := db.Now()
	var row struct {
		safeguard.User
		TokenID int64 `db:"token_id"`
	}
	err := db.GetContext(ctx, &row, db.Rebind(`SELECT `+userColumns+`, t.id AS token_id
		FROM tokens t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.code = u.org_code
		WHERE t.hash = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?) AND NOT u.disabled`),
		hashToken(secret), now)
	if isNoRows(err) {
		return nil, safeguard.Errorf(safeguard.EUNAUTHORIZED, "invalid or expired token")
	} else if err != nil {
		return nil, err
	}
	// Record last use at most once a minute per token, so reads do not all become writes.
	_, err = db.ExecContext(ctx, db.Rebind(`UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`),
		now, row.TokenID, now.Add(-time.Minute))
	if err != nil {
		return nil, err
	}
	return &row.User, nil
}

// CountAdmins returns how many enabled admins exist.
func (db *DB) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := db.GetContext(ctx, &n, db.Rebind(`SELECT COUNT(*) FROM users WHERE role = ? AND NOT disabled`), safeguard.RoleAdmin)
	return n, err
}

// newSecret returns prefix and 32 random bytes, base64url: the one shape of every secret the
// service hands out (API tokens, session tokens, setup links), of which only hashToken is kept.
func newSecret(prefix string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(raw), nil
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
