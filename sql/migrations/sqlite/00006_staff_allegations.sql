-- +goose Up
-- A concern that alleges abuse by staff names the establishment concerned; there it is hidden
-- from everyone but the establishment's managers and the person who raised it.
ALTER TABLE concerns ADD COLUMN staff_allegation_at TEXT REFERENCES organisations(code);

-- +goose Down
ALTER TABLE concerns DROP COLUMN staff_allegation_at;
