-- +goose Up
-- One row per clock instance: the read model of every deadline. The workflow owns the timers;
-- these rows say where each clock stands, for the concern page and the overdue audit.
CREATE TABLE clocks (
    reference   TEXT NOT NULL REFERENCES concerns(reference),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    org_code    TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running','paused','met','breached','stopped')),
    step        INTEGER NOT NULL DEFAULT 0,
    breached_at TIMESTAMPTZ,
    ended_at    TIMESTAMPTZ,
    PRIMARY KEY (reference, id)
);
-- The overdue audit reads live clocks past due, most overdue first, by organisation.
CREATE INDEX clocks_live_due ON clocks(state, due_at);
CREATE INDEX clocks_org_live_due ON clocks(org_code, state, due_at);

-- Advice asked of another organisation, and its answer.
CREATE TABLE contributions (
    reference       TEXT NOT NULL REFERENCES concerns(reference),
    clock_id        TEXT NOT NULL,
    org_code        TEXT NOT NULL REFERENCES organisations(code),
    question        TEXT NOT NULL,
    requested_at    TIMESTAMPTZ NOT NULL,
    advice          TEXT,
    care_assessment TEXT,
    answered_at     TIMESTAMPTZ,
    answered_by     BIGINT REFERENCES users(id),
    PRIMARY KEY (reference, clock_id)
);

-- +goose Down
DROP TABLE contributions;
DROP TABLE clocks;
