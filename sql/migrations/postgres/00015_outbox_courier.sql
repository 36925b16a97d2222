-- +goose Up
-- The outbox is delivered by a courier in each worker process rather than by an activity per
-- message (activities.Courier, docs/architecture.md). A sender claims a message before sending
-- it, until claimed_until, so that two senders never send the same message at once and the
-- claim of a process lost in the middle of a send lapses; after a temporary failure the message
-- waits until next_attempt_at. The courier reads the pending messages, oldest first: this index
-- holds only those, which are few, so it stays small however much has been sent.
ALTER TABLE outbox ADD COLUMN claimed_until TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN next_attempt_at TIMESTAMPTZ;
CREATE INDEX outbox_pending ON outbox(id) WHERE status = 'pending';

-- +goose Down
DROP INDEX outbox_pending;
ALTER TABLE outbox DROP COLUMN next_attempt_at;
ALTER TABLE outbox DROP COLUMN claimed_until;
