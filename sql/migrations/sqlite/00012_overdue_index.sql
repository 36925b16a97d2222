-- +goose Up
-- The overdue list (GET /api/v1/overdue, the /overdue page) is every counting clock past due,
-- most overdue first, up to a limit. On clocks_live_due (state, due_at) the two states are two
-- ranges, so every counting clock past due was read, joined and sorted before the limit applied:
-- 25,000 of them at 100,000 concerns, 250,000 at a million. This partial index holds only the
-- counting clocks in due order (reference breaks ties, as the list's ORDER BY does), so the read
-- walks it from the most overdue and stops at the limit (docs/reports.md, "Speed"). It carries
-- the columns the list shows, so that the walk reads the index alone: a manager's scope is
-- tested on each clock walked, and only the clocks in scope fetch their concern.
CREATE INDEX clocks_counting_due ON clocks(due_at, reference, name, org_code, step, breached_at)
    WHERE state IN ('running', 'breached');

-- +goose Down
DROP INDEX clocks_counting_due;
