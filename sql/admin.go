package sql

import (
	"context"

	"github.com/safeguard-project/safeguard"
)

// The lists the admin pages page through. Changes go through the same functions the CLI calls
// (CreateUser, SetUserDisabled, RevokeUserSessions, CreateToken, RevokeToken,
// UpsertOrganisation).

// ListUsers returns up to limit users from offset, ordered by email, and whether more follow.
func (db *DB) ListUsers(ctx context.Context, limit, offset int) ([]safeguard.User, bool, error) {
	var out []safeguard.User
	err := db.SelectContext(ctx, &out, db.Rebind(`SELECT `+userColumns+`
		FROM users u JOIN organisations o ON o.code = u.org_code ORDER BY u.email LIMIT ? OFFSET ?`), limit+1, offset)
	if err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// ListOrganisations returns up to limit organisations from offset, ordered by kind and code,
// and whether more follow.
func (db *DB) ListOrganisations(ctx context.Context, limit, offset int) ([]safeguard.Organisation, bool, error) {
	var out []safeguard.Organisation
	err := db.SelectContext(ctx, &out, db.Rebind(`SELECT code, name, kind, inbox, COALESCE(host_la, '') AS host_la
		FROM organisations ORDER BY kind, code LIMIT ? OFFSET ?`), limit+1, offset)
	if err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}
