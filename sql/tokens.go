package sql

import (
	"context"

	"github.com/safeguard-project/safeguard"
)

// ListTokens returns the user's API tokens, oldest first, revoked and expired ones included.
// Secrets are never stored, so never listed.
func (db *DB) ListTokens(ctx context.Context, userID int64) ([]safeguard.Token, error) {
	var out []safeguard.Token
	err := db.SelectContext(ctx, &out, db.Rebind(`SELECT id, user_id, name, created_at, expires_at, revoked_at, last_used_at
		FROM tokens WHERE user_id = ? ORDER BY id`), userID)
	return out, err
}

// RevokeToken revokes a token by ID and returns it; ENOTFOUND if there is no such token,
// ECONFLICT if it was already revoked.
func (db *DB) RevokeToken(ctx context.Context, id int64) (*safeguard.Token, error) {
	var t safeguard.Token
	err := db.GetContext(ctx, &t, db.Rebind(`SELECT id, user_id, name, created_at, expires_at, revoked_at, last_used_at FROM tokens WHERE id = ?`), id)
	if isNoRows(err) {
		return nil, safeguard.Errorf(safeguard.ENOTFOUND, "no token with id %d", id)
	} else if err != nil {
		return nil, err
	}
	if t.RevokedAt != nil {
		return &t, safeguard.Errorf(safeguard.ECONFLICT, "token %d was already revoked", id)
	}
	now := db.Now()
	if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), now, id); err != nil {
		return nil, err
	}
	t.RevokedAt = &now
	return &t, nil
}
