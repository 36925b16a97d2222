-- +goose Up
-- Organisations: establishments, local authorities and partners. host_la is set for
-- establishments only; re-pointing it later does not rewrite concerns already raised.
CREATE TABLE organisations (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('prison','approved_premises','local_authority','health','police','probation')),
    inbox      TEXT NOT NULL DEFAULT '',
    host_la    TEXT REFERENCES organisations(code),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX organisations_kind ON organisations(kind, code);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    org_code      TEXT NOT NULL REFERENCES organisations(code),
    role          TEXT NOT NULL,
    password_hash TEXT,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL
);
-- Managers of an organisation are looked up when an escalation fires.
CREATE INDEX users_org_role ON users(org_code, role);

-- API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id),
    hash         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX tokens_user ON tokens(user_id);

-- The next sequence number of concern references per establishment and year.
CREATE TABLE reference_counters (
    establishment TEXT NOT NULL,
    year          INTEGER NOT NULL,
    next_seq      INTEGER NOT NULL,
    PRIMARY KEY (establishment, year)
);

-- Idempotency-Key: the first answer to a raise is the answer to every repeat.
CREATE TABLE idempotency_keys (
    user_id      BIGINT NOT NULL REFERENCES users(id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    reference    TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE concerns (
    reference             TEXT PRIMARY KEY,
    establishment         TEXT NOT NULL REFERENCES organisations(code),
    host_la               TEXT NOT NULL REFERENCES organisations(code),
    stage                 TEXT NOT NULL,
    raised_by             BIGINT NOT NULL REFERENCES users(id),
    raised_at             TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    subject_prison_number TEXT NOT NULL,
    subject_name_lower    TEXT NOT NULL,
    immediate_risk        BOOLEAN NOT NULL,
    details               JSONB NOT NULL
);
-- Lists are newest first; the auditor's national list and filters by stage use these.
CREATE INDEX concerns_raised ON concerns(raised_at DESC, reference DESC);
CREATE INDEX concerns_stage ON concerns(stage, raised_at DESC, reference DESC);
CREATE INDEX concerns_prison_number ON concerns(subject_prison_number);

-- Which organisations take part in a concern; lists are scoped by joining on org_code.
CREATE TABLE concern_orgs (
    reference TEXT NOT NULL REFERENCES concerns(reference),
    org_code  TEXT NOT NULL REFERENCES organisations(code),
    relation  TEXT NOT NULL CHECK (relation IN ('establishment','host_la','contributor','receiving','previous')),
    raised_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (reference, org_code, relation)
);
CREATE INDEX concern_orgs_scope ON concern_orgs(org_code, raised_at DESC, reference DESC);

-- The timeline: one row per thing that happened. event_key makes activity retries harmless.
CREATE TABLE timeline (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference TEXT NOT NULL REFERENCES concerns(reference),
    event_key TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    kind      TEXT NOT NULL,
    actor_id  BIGINT REFERENCES users(id),
    org_code  TEXT,
    detail    TEXT,
    UNIQUE (reference, event_key)
);

-- Every message is written here first, under a key that is never sent twice.
CREATE TABLE outbox (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    reference  TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('pending','sent','held','failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    sent_at    TIMESTAMPTZ
);
CREATE INDEX outbox_status ON outbox(status, created_at);
CREATE INDEX outbox_reference ON outbox(reference, id);

-- Who read or changed what, when and from where. The hash chain and its checkpoints are added
-- with the audit trail; this table already records every concern read and write.
CREATE TABLE audit_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    user_id    BIGINT,
    action     TEXT NOT NULL,
    reference  TEXT,
    outcome    TEXT NOT NULL,
    remote     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_reference ON audit_log(reference, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE outbox;
DROP TABLE timeline;
DROP TABLE concern_orgs;
DROP TABLE concerns;
DROP TABLE idempotency_keys;
DROP TABLE reference_counters;
DROP TABLE tokens;
DROP TABLE users;
DROP TABLE organisations;
