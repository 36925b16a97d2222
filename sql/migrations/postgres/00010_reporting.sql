-- +goose Up
-- Reporting columns (docs/reports.md). The raise is stored whole in concerns.details; the
-- reports never read that blob: they count these columns, filled when the concern is recorded
-- (sql.RecordRaise) and when its findings and closure are (sql.RecordChange).
--
-- raised_establishment, raised_host_la: where the concern was raised. A transfer moves
--   establishment and host_la; the return counts a concern once, where the abuse occurred.
-- age_band … msp_asked: the SAC categories of the adult and the risk at raising
--   (safeguard.Raise.Facts), already mapped where the SAC's own values differ.
-- risk_finding, action_taken, risk_outcome, concluded_at: the findings (SG2c).
-- msp_outcome: Making Safeguarding Personal at closure (SG4).
ALTER TABLE concerns ADD COLUMN raised_establishment TEXT;
ALTER TABLE concerns ADD COLUMN raised_host_la TEXT;
ALTER TABLE concerns ADD COLUMN age_band TEXT;
ALTER TABLE concerns ADD COLUMN gender TEXT;
ALTER TABLE concerns ADD COLUMN ethnicity TEXT;
ALTER TABLE concerns ADD COLUMN support_reason TEXT;
ALTER TABLE concerns ADD COLUMN autism BOOLEAN;
ALTER TABLE concerns ADD COLUMN location_of_risk TEXT;
ALTER TABLE concerns ADD COLUMN source_of_risk TEXT;
ALTER TABLE concerns ADD COLUMN lacked_capacity TEXT;
ALTER TABLE concerns ADD COLUMN advocacy TEXT;
ALTER TABLE concerns ADD COLUMN msp_asked TEXT;
ALTER TABLE concerns ADD COLUMN risk_finding TEXT;
ALTER TABLE concerns ADD COLUMN action_taken BOOLEAN;
ALTER TABLE concerns ADD COLUMN risk_outcome TEXT;
ALTER TABLE concerns ADD COLUMN concluded_at TIMESTAMPTZ;
ALTER TABLE concerns ADD COLUMN msp_outcome TEXT;
-- The auditor's national return reads by raising time (concerns_raised) or by conclusion.
CREATE INDEX concerns_concluded ON concerns(concluded_at) WHERE concluded_at IS NOT NULL;

-- A concern's types of risk, one row each (SG2a counts a concern in every type it has).
CREATE TABLE concern_categories (
    reference TEXT NOT NULL REFERENCES concerns(reference),
    category  TEXT NOT NULL,
    PRIMARY KEY (reference, category)
);

-- Concerns recorded before this migration: what the stored raise says directly. The adult's
-- demographics stay unrecorded (counted as not known) rather than guessed.
UPDATE concerns SET raised_establishment = establishment, raised_host_la = host_la,
    location_of_risk = details::jsonb->>'location_of_risk',
    source_of_risk = details::jsonb->>'source_of_risk',
    autism = COALESCE((details::jsonb->'subject'->'support_needs') @> '["autism"]'::jsonb, false),
    msp_asked = CASE
        WHEN COALESCE(details::jsonb->'desired_outcomes'->>'asked', '') <> 'true' THEN 'not_asked'
        WHEN COALESCE(details::jsonb->'desired_outcomes'->>'outcomes', '') = '' THEN 'asked_none_expressed'
        ELSE 'asked_outcomes_expressed' END;
INSERT INTO concern_categories (reference, category)
    SELECT c.reference, j.value FROM concerns c, jsonb_array_elements_text(c.details::jsonb->'categories') j
    ON CONFLICT DO NOTHING;

-- Time to meet each clock, for performance against timescales: working days from start to
-- the clock being met, leaving out the time it spent paused (paused_seconds), and whether it
-- was met by its due time. Filled when the clock is met.
ALTER TABLE clocks ADD COLUMN paused_seconds BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clocks ADD COLUMN working_days INTEGER;
ALTER TABLE clocks ADD COLUMN met_on_time BOOLEAN;
CREATE INDEX clocks_met ON clocks(state, ended_at);

-- +goose Down
DROP INDEX clocks_met;
ALTER TABLE clocks DROP COLUMN met_on_time;
ALTER TABLE clocks DROP COLUMN working_days;
ALTER TABLE clocks DROP COLUMN paused_seconds;
DROP TABLE concern_categories;
DROP INDEX concerns_concluded;
ALTER TABLE concerns DROP COLUMN msp_outcome;
ALTER TABLE concerns DROP COLUMN concluded_at;
ALTER TABLE concerns DROP COLUMN risk_outcome;
ALTER TABLE concerns DROP COLUMN action_taken;
ALTER TABLE concerns DROP COLUMN risk_finding;
ALTER TABLE concerns DROP COLUMN msp_asked;
ALTER TABLE concerns DROP COLUMN advocacy;
ALTER TABLE concerns DROP COLUMN lacked_capacity;
ALTER TABLE concerns DROP COLUMN source_of_risk;
ALTER TABLE concerns DROP COLUMN location_of_risk;
ALTER TABLE concerns DROP COLUMN autism;
ALTER TABLE concerns DROP COLUMN support_reason;
ALTER TABLE concerns DROP COLUMN ethnicity;
ALTER TABLE concerns DROP COLUMN gender;
ALTER TABLE concerns DROP COLUMN age_band;
ALTER TABLE concerns DROP COLUMN raised_host_la;
ALTER TABLE concerns DROP COLUMN raised_establishment;
