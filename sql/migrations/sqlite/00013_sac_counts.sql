-- +goose Up
-- SG5 (docs/reports.md): whether the findings referred the case to the Safeguarding Adults
-- Board for a review; NULL where the findings did not say.
ALTER TABLE concerns ADD COLUMN sar_referral BOOLEAN;
DROP INDEX concerns_report_concluded;
CREATE INDEX concerns_report_concluded ON concerns(concluded_at, reference, staff_allegation_at, raised_by,
    risk_finding, action_taken, risk_outcome, msp_outcome, sar_referral) WHERE concluded_at IS NOT NULL;

-- The SAC return's counts, kept as concerns are recorded (sql/saccounts.go): for each scope
-- (the empty string for national, otherwise an organisation the concern involves, as the
-- lists' scope reads concern_orgs), each day in England (the day raised for the raised-basis
-- measures, the day concluded for the concluded-basis ones), each measure and raw value, how
-- many concerns. RecordRaise and RecordChange change these rows in the same transaction as
-- the concern, so a year's return sums a few thousand rows instead of counting a million
-- concerns once per measure. Migration 14 (Go) fills it from the concerns already recorded.
CREATE TABLE sac_counts (
    scope   TEXT NOT NULL,
    day     TEXT NOT NULL,
    measure TEXT NOT NULL,
    value   TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (scope, day, measure, value)
) WITHOUT ROWID;

-- The return is served from sac_counts unless the reader's scope would hide an allegation
-- against staff of their own organisation; this finds whether there is any such concern.
CREATE INDEX concerns_staff_allegation ON concerns(staff_allegation_at) WHERE staff_allegation_at IS NOT NULL;

-- +goose Down
DROP INDEX concerns_staff_allegation;
DROP TABLE sac_counts;
DROP INDEX concerns_report_concluded;
CREATE INDEX concerns_report_concluded ON concerns(concluded_at, reference, staff_allegation_at, raised_by,
    risk_finding, action_taken, risk_outcome, msp_outcome) WHERE concluded_at IS NOT NULL;
ALTER TABLE concerns DROP COLUMN sar_referral;
