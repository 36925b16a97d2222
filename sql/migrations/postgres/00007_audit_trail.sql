-- +goose Up
-- What an audit row is about beyond a concern: the user, token or session changed ("user:12",
-- "token:5"), and a short detail (a break-glass reason, why a sign-in failed). Neither holds
-- the personal details of the adult a concern is about.
ALTER TABLE audit_log ADD COLUMN target TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN detail TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN detail;
ALTER TABLE audit_log DROP COLUMN target;
