package safeguard

import (
	"context"
	"encoding/json"
	"time"
)

// Stage is where a concern is in its lifecycle (DESIGN.md "The lifecycle").
type Stage string

const (
	StageNotification    Stage = "notification"
	StageEnquiry         Stage = "enquiry"
	StageLAContribution  Stage = "la_contribution"
	StageClosure         Stage = "closure"
	StageClosed          Stage = "closed"
	StageNoFurtherAction Stage = "no_further_action"
	StageHandedOver      Stage = "handed_over"
	StagePaused          Stage = "paused"
)

// Stages lists every stage, for filters and validation.
var Stages = []Stage{StageNotification, StageEnquiry, StageLAContribution, StageClosure, StageClosed, StageNoFurtherAction, StageHandedOver, StagePaused}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool {
	for _, v := range Stages {
		if s == v {
			return true
		}
	}
	return false
}

// Category is a type of abuse or neglect: the ten of the Care and Support statutory guidance
// plus sexual exploitation, which the Safeguarding Adults Collection counts separately.
type Category string

// Categories lists the 11 types of risk in the order of the SAC return (SG2a).
var Categories = []Category{"physical", "domestic", "sexual", "sexual_exploitation", "psychological", "financial", "modern_slavery", "discriminatory", "organisational", "neglect", "self_neglect"}

// LocationsOfRisk lists where the risk is (SAC SG2b). There is no custody value in the return:
// "custody" is recorded here and reported as "other".
var LocationsOfRisk = []string{"custody", "own_home", "community", "community_service", "care_home_nursing", "care_home_residential", "hospital_acute", "hospital_mental_health", "hospital_community", "other"}

// SourcesOfRisk lists who the risk comes from (SAC SG2b).
var SourcesOfRisk = []string{"service_provider", "other_known", "other_unknown"}

// SupportNeeds lists the care and support needs that can be recorded for the adult.
var SupportNeeds = []string{"learning_disability", "autism", "mental_health", "physical", "sensory", "memory_cognition", "older_age", "other"}

// Subject is the adult at risk. These are the most sensitive fields the service holds: they
// never leave it in mail, logs, URLs or search attributes.
type Subject struct {
	PrisonNumber string   `json:"prison_number" validate:"required,prison_number"`
	Name         string   `json:"name" validate:"required,max=200"`
	DateOfBirth  string   `json:"date_of_birth" validate:"required,date,adult"`
	SupportNeeds []string `json:"support_needs" validate:"required,max=8,unique,dive,oneof=learning_disability autism mental_health physical sensory memory_cognition older_age other"`
	// Gender and Ethnicity are optional, for the Safeguarding Adults Collection (SG1):
	// Genders, and the NHS ethnic categories of Ethnicities. Unrecorded counts as not known.
	Gender    string `json:"gender,omitempty" validate:"omitempty,oneof=male female other not_known"`
	Ethnicity string `json:"ethnicity,omitempty" validate:"omitempty,oneof=white_british white_irish white_other mixed_white_black_caribbean mixed_white_black_african mixed_white_asian mixed_other asian_indian asian_pakistani asian_bangladeshi asian_other black_caribbean black_african black_other chinese other refused not_known"`
}

// Consent records whether the adult agreed to the concern being shared, and if not why it is
// shared anyway (DPA 2018 Sch.1 para 18: consent cannot be given, cannot reasonably be
// obtained, or asking would prejudice safeguarding).
type Consent struct {
	Given       *bool  `json:"given" validate:"required"`
	ReasonIfNot string `json:"reason_if_not,omitempty" validate:"max=2000"`
}

// DesiredOutcomes is Making Safeguarding Personal at the start: what the adult wants to
// happen, or why they were not asked.
type DesiredOutcomes struct {
	Asked          *bool  `json:"asked" validate:"required"`
	Outcomes       string `json:"outcomes,omitempty" validate:"max=2000"`
	NotAskedReason string `json:"not_asked_reason,omitempty" validate:"max=2000"`
}

// Raise is the body of POST /api/v1/concerns: what a prison lead records when raising a concern.
// Every field is required; booleans must be present (true or false), not merely absent.
type Raise struct {
	Establishment   string           `json:"establishment" validate:"required,max=32"`
	Subject         *Subject         `json:"subject" validate:"required"`
	Categories      []string         `json:"categories" validate:"required,min=1,max=11,unique,dive,oneof=physical domestic sexual sexual_exploitation psychological financial modern_slavery discriminatory organisational neglect self_neglect"`
	LocationOfRisk  string           `json:"location_of_risk" validate:"required,oneof=custody own_home community community_service care_home_nursing care_home_residential hospital_acute hospital_mental_health hospital_community other"`
	SourceOfRisk    string           `json:"source_of_risk" validate:"required,oneof=service_provider other_known other_unknown"`
	Summary         string           `json:"summary" validate:"required,max=4000"`
	ImmediateRisk   *bool            `json:"immediate_risk" validate:"required"`
	ActionsTaken    string           `json:"actions_taken" validate:"required,max=4000"`
	PoliceInformed  *bool            `json:"police_informed" validate:"required"`
	Consent         *Consent         `json:"consent" validate:"required"`
	CapacityConcern *bool            `json:"capacity_concern" validate:"required"`
	DesiredOutcomes *DesiredOutcomes `json:"desired_outcomes" validate:"required"`
	// AllegationAgainstStaff says the risk comes from a member of the establishment's staff (a
	// person in a position of trust); the concern is then hidden from the establishment's
	// other prison leads (see Involvement.StaffAllegationAt).
	AllegationAgainstStaff bool `json:"allegation_against_staff"`
	// LackedCapacity and Advocacy are optional, for the SAC (SG3): whether the adult lacked
	// capacity to take part in decisions about the safeguarding process (yes, no, not_known),
	// and if so who supported them (advocate, family_or_friend, none, not_known).
	LackedCapacity string `json:"lacked_capacity,omitempty" validate:"omitempty,oneof=yes no not_known"`
	Advocacy       string `json:"advocacy,omitempty" validate:"omitempty,oneof=advocate family_or_friend none not_known"`
}

// Concern is one safeguarding concern about one adult, from raising to closure. Its Reference
// (SG-<EST>-<YEAR>-<NNNNN>) is also the ID of the workflow that carries it.
type Concern struct {
	Reference     string         `json:"reference" db:"reference"`
	Stage         Stage          `json:"stage" db:"stage"`
	Establishment string         `json:"establishment" db:"establishment"`
	HostLA        string         `json:"host_la" db:"host_la"`
	RaisedBy      int64          `json:"raised_by" db:"raised_by"`
	RaisedAt      time.Time      `json:"raised_at" db:"raised_at"`
	UpdatedAt     time.Time      `json:"updated_at" db:"updated_at"`
	Raise                        // the fields recorded at raising; encoding/json flattens them
	Clocks        []Clock        `json:"clocks"`
	Contributions []Contribution `json:"contributions"`
	Timeline      []Event        `json:"timeline"`
}

// Clock is one deadline on a concern (DESIGN.md lists them). Step is the highest rung of the
// escalation ladder that has fired.
type Clock struct {
	ID           string     `json:"id" db:"id"`
	Name         string     `json:"name" db:"name"`
	Organisation string     `json:"organisation" db:"org_code"` // responsible for stopping it
	State        string     `json:"state" db:"state"`
	Started      time.Time  `json:"started" db:"started_at"`
	Due          time.Time  `json:"due" db:"due_at"`
	Step         int        `json:"step" db:"step"` // ladder rungs fired
	BreachedAt   *time.Time `json:"breached_at,omitempty" db:"breached_at"`
	Ended        *time.Time `json:"ended,omitempty" db:"ended_at"`
}

// Contribution is advice asked of another organisation and, once given, its answer.
type Contribution struct {
	Organisation   string     `json:"organisation" db:"org_code"`
	Question       string     `json:"question" db:"question"`
	RequestedAt    time.Time  `json:"requested_at" db:"requested_at"`
	Advice         string     `json:"advice,omitempty" db:"advice"`
	CareAssessment string     `json:"care_assessment,omitempty" db:"care_assessment"`
	AnsweredAt     *time.Time `json:"answered_at,omitempty" db:"answered_at"`
}

// Event is one entry of a concern's timeline: what happened, when, and who did it. Detail
// holds the action's own fields.
type Event struct {
	At      time.Time       `json:"at" db:"at"`
	Kind    string          `json:"kind" db:"kind"`
	ActorID *int64          `json:"actor_id,omitempty" db:"actor_id"`
	Org     string          `json:"organisation,omitempty" db:"org_code"`
	Detail  json.RawMessage `json:"detail,omitempty" db:"detail"`
}

// ConcernFilter narrows a list of concerns. Every list is also scoped to what the caller may
// see, in the query itself.
type ConcernFilter struct {
	Stage         Stage
	Establishment string
	Overdue       bool      // only concerns with a clock past due at Now
	Now           time.Time // when "overdue" is judged
	Q             string    // a reference, a prison number, or part of the adult's name
	Limit         int
	Cursor        string
}

// ConcernService reads concerns. Writes go through the concern's workflow.
type ConcernService interface {
	// FindConcern returns ENOTFOUND if the concern does not exist or is outside scope.
	FindConcern(ctx context.Context, scope Scope, ref string) (*Concern, error)
	// ListConcerns returns one page of concerns in scope, newest first, and the cursor of the next.
	ListConcerns(ctx context.Context, scope Scope, f ConcernFilter) ([]*Concern, string, error)
}
