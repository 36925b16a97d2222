-- +goose Up
-- Web sessions. Only the SHA-256 of the cookie's token is kept, so a copy of the database
-- cannot be replayed as a cookie. A session is live while it is not revoked, was seen within
-- the idle timeout and began within the absolute timeout; the lookup joins users, so disabling
-- an account ends every session it has at once.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    hash         TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP,
    remote       TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id, revoked_at);

-- Failed sign-ins since failures_since, and the lock they led to (safeguard.Lockout).
ALTER TABLE users ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failures_since TIMESTAMP;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMP;

-- One-time links that let a person set their password (the first admin's, printed at start).
-- Only the hash is kept; used_at makes each single-use.
CREATE TABLE setup_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    hash       TEXT NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);

-- +goose Down
DROP TABLE setup_tokens;
ALTER TABLE users DROP COLUMN locked_until;
ALTER TABLE users DROP COLUMN failures_since;
ALTER TABLE users DROP COLUMN failed_sign_ins;
DROP TABLE sessions;
