-- +goose Up
-- Covering indexes for the SAC return (docs/reports.md, "Speed"): every column the return's
-- queries read is in the index, so the period's concerns are read by an index-only scan
-- rather than from the table, whose rows carry the whole raise (details).
--
-- Raised in the period: the scope's columns, the SG1–SG4 "asked" facts and the custody route.
CREATE INDEX concerns_report_raised ON concerns(raised_at) INCLUDE (reference, staff_allegation_at, raised_by,
    age_band, gender, ethnicity, support_reason, autism, location_of_risk, source_of_risk,
    lacked_capacity, advocacy, msp_asked, stage, establishment, raised_establishment);
-- Concluded in the period: the findings and the MSP outcome; it replaces concerns_concluded.
CREATE INDEX concerns_report_concluded ON concerns(concluded_at) INCLUDE (reference, staff_allegation_at, raised_by,
    risk_finding, action_taken, risk_outcome, msp_outcome) WHERE concluded_at IS NOT NULL;
DROP INDEX concerns_concluded;

-- +goose Down
CREATE INDEX concerns_concluded ON concerns(concluded_at) WHERE concluded_at IS NOT NULL;
DROP INDEX concerns_report_concluded;
DROP INDEX concerns_report_raised;
