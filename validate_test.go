package safeguard

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/London for the birthday-at-midnight case, on machines without zoneinfo
)

// raisedAt is the raising time used throughout: 15 June 2026, mid-morning.
var raisedAt = time.Date(2026, time.June, 15, 10, 0, 0, 0, time.UTC)

func boolp(b bool) *bool { return &b }

// validRaise returns a fresh raise body that passes validation; each case breaks one thing.
func validRaise() *Raise {
	return &Raise{
		Establishment: "LEI",
		Subject: &Subject{
			PrisonNumber: "A1234BC",
			Name:         "John Smith",
			DateOfBirth:  "1958-03-04",
			SupportNeeds: []string{"learning_disability", "older_age"},
		},
		Categories:      []string{"physical", "financial"},
		LocationOfRisk:  "custody",
		SourceOfRisk:    "other_known",
		Summary:         "Another prisoner takes his canteen each week and has pushed him on the landing.",
		ImmediateRisk:   boolp(false),
		ActionsTaken:    "Moved to a different landing; healthcare informed.",
		PoliceInformed:  boolp(false),
		Consent:         &Consent{Given: boolp(true)},
		CapacityConcern: boolp(false),
		DesiredOutcomes: &DesiredOutcomes{Asked: boolp(true), Outcomes: "To keep his canteen and feel safe on the wing."},
	}
}

// invalidFields asserts that err is an EINVALID *Error and returns its Fields.
func invalidFields(t *testing.T, err error) map[string]string {
	t.Helper()
	if err == nil {
		t.Fatal("Validate accepted the raise; want an invalid-fields error")
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Validate returned %T (%v); want *Error", err, err)
	}
	if e.Code != EINVALID {
		t.Fatalf("Code = %q; want %q", e.Code, EINVALID)
	}
	if ErrorCode(err) != EINVALID {
		t.Fatalf("ErrorCode = %q; want %q", ErrorCode(err), EINVALID)
	}
	return e.Fields
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestRaiseValidate_valid(t *testing.T) {
	if err := validRaise().Validate(raisedAt); err != nil {
		t.Fatalf("a complete, valid raise is refused: %v", err)
	}
}

// raiseCase is one rule of the raise body. With field empty the changed body must be accepted;
// otherwise it must be refused with exactly that one field path, and msg (if set) must appear in
// the message for it. check, if set, inspects the body after validation (normalisation).
type raiseCase struct {
	name   string
	change func(r *Raise)
	field  string
	msg    string
	check  func(t *testing.T, r *Raise)
}

func runRaiseCases(t *testing.T, now time.Time, cases []raiseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := validRaise()
			tc.change(r)
			err := r.Validate(now)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			} else {
				fields := invalidFields(t, err)
				got, ok := fields[tc.field]
				if !ok || len(fields) != 1 {
					t.Fatalf("fields = %v; want exactly %q", fields, tc.field)
				}
				if got == "" {
					t.Errorf("the message for %q is empty", tc.field)
				}
				if tc.msg != "" && !strings.Contains(got, tc.msg) {
					t.Errorf("message for %q = %q; want it to contain %q", tc.field, got, tc.msg)
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestRaiseValidate_establishment(t *testing.T) {
	runRaiseCases(t, raisedAt, []raiseCase{
		{name: "a raise without an establishment is refused with a message on establishment",
			change: func(r *Raise) { r.Establishment = "" }, field: "establishment", msg: "is required"},
		{name: "a whitespace-only establishment is refused as missing",
			change: func(r *Raise) { r.Establishment = "   " }, field: "establishment", msg: "is required"},
		{name: "a lower-case establishment is trimmed, upper-cased and accepted",
			change: func(r *Raise) { r.Establishment = " lei " },
			check: func(t *testing.T, r *Raise) {
				if r.Establishment != "LEI" {
					t.Errorf("Establishment = %q; want %q", r.Establishment, "LEI")
				}
			}},
		{name: "an approved premises code with a hyphen is accepted",
			change: func(r *Raise) { r.Establishment = "AP-BEDFORD" }},
		{name: "an establishment with punctuation is refused",
			change: func(r *Raise) { r.Establishment = "L!I" }, field: "establishment", msg: "establishment code"},
		{name: "an establishment with a space inside is refused",
			change: func(r *Raise) { r.Establishment = "LE I" }, field: "establishment"},
		{name: "a one-character establishment is refused",
			change: func(r *Raise) { r.Establishment = "L" }, field: "establishment"},
		{name: "an establishment of 33 characters is refused",
			change: func(r *Raise) { r.Establishment = strings.Repeat("A", 33) }, field: "establishment"},
	})
}

func TestRaiseValidate_subject(t *testing.T) {
	runRaiseCases(t, raisedAt, []raiseCase{
		{name: "a raise without a subject is refused with a message on subject",
			change: func(r *Raise) { r.Subject = nil }, field: "subject", msg: "is required"},

		{name: "a subject without a prison number is refused",
			change: func(r *Raise) { r.Subject.PrisonNumber = "" }, field: "subject.prison_number", msg: "is required"},
		{name: "a prison number of digits before letters (1234ABC) is refused",
			change: func(r *Raise) { r.Subject.PrisonNumber = "1234ABC" }, field: "subject.prison_number", msg: "A1234BC"},
		{name: "a prison number with five digits (A12345B) is refused",
			change: func(r *Raise) { r.Subject.PrisonNumber = "A12345B" }, field: "subject.prison_number"},
		{name: "a prison number with three trailing letters is refused",
			change: func(r *Raise) { r.Subject.PrisonNumber = "A1234BCD" }, field: "subject.prison_number"},
		{name: "a lower-case prison number is trimmed, upper-cased and accepted",
			change: func(r *Raise) { r.Subject.PrisonNumber = " a1234bc " },
			check: func(t *testing.T, r *Raise) {
				if r.Subject.PrisonNumber != "A1234BC" {
					t.Errorf("PrisonNumber = %q; want %q", r.Subject.PrisonNumber, "A1234BC")
				}
			}},

		{name: "a subject without a name is refused",
			change: func(r *Raise) { r.Subject.Name = "" }, field: "subject.name", msg: "is required"},
		{name: "a whitespace-only name is refused as missing",
			change: func(r *Raise) { r.Subject.Name = " \t " }, field: "subject.name", msg: "is required"},
		{name: "a name of 201 characters is refused",
			change: func(r *Raise) { r.Subject.Name = strings.Repeat("a", 201) }, field: "subject.name", msg: "200"},
		{name: "a name of 200 characters is accepted",
			change: func(r *Raise) { r.Subject.Name = strings.Repeat("a", 200) }},
		{name: "a name of 200 non-ASCII characters is accepted (characters, not bytes)",
			change: func(r *Raise) { r.Subject.Name = strings.Repeat("ŵ", 200) }},
		{name: "a name is trimmed",
			change: func(r *Raise) { r.Subject.Name = "  John Smith  " },
			check: func(t *testing.T, r *Raise) {
				if r.Subject.Name != "John Smith" {
					t.Errorf("Name = %q; want it trimmed", r.Subject.Name)
				}
			}},

		{name: "a subject without a date of birth is refused",
			change: func(r *Raise) { r.Subject.DateOfBirth = "" }, field: "subject.date_of_birth", msg: "is required"},
		{name: "a date of birth in day/month/year form is refused",
			change: func(r *Raise) { r.Subject.DateOfBirth = "04/03/1958" }, field: "subject.date_of_birth", msg: "YYYY-MM-DD"},
		{name: "a date of birth that is not a calendar date (30 February) is refused",
			change: func(r *Raise) { r.Subject.DateOfBirth = "1958-02-30" }, field: "subject.date_of_birth", msg: "YYYY-MM-DD"},
		{name: "a date of birth with a time of day is refused",
			change: func(r *Raise) { r.Subject.DateOfBirth = "1958-03-04T00:00:00Z" }, field: "subject.date_of_birth"},
		{name: "a date of birth in the future is refused",
			change: func(r *Raise) { r.Subject.DateOfBirth = "2026-06-16" }, field: "subject.date_of_birth", msg: "future"},
		{name: "a date of birth on the raising day is refused as not an adult",
			change: func(r *Raise) { r.Subject.DateOfBirth = "2026-06-15" }, field: "subject.date_of_birth", msg: "18 or over"},
		{name: "a subject raised the day before their 18th birthday is refused as a child",
			change: func(r *Raise) { r.Subject.DateOfBirth = "2008-06-16" }, field: "subject.date_of_birth", msg: "18 or over"},
		{name: "a subject raised on their 18th birthday is accepted",
			change: func(r *Raise) { r.Subject.DateOfBirth = "2008-06-15" }},
		{name: "a subject who is exactly 120 today is accepted",
			change: func(r *Raise) { r.Subject.DateOfBirth = "1906-06-15" }},
		{name: "a date of birth more than 120 years ago is refused",
			change: func(r *Raise) { r.Subject.DateOfBirth = "1906-06-14" }, field: "subject.date_of_birth", msg: "120 years"},

		{name: "support needs absent (null) are refused: the list is required",
			change: func(r *Raise) { r.Subject.SupportNeeds = nil }, field: "subject.support_needs", msg: "is required"},
		{name: "an empty list of support needs is accepted (none recorded)",
			change: func(r *Raise) { r.Subject.SupportNeeds = []string{} }},
		{name: "every documented support need is accepted",
			change: func(r *Raise) { r.Subject.SupportNeeds = slices.Clone(SupportNeeds) }},
		{name: "an unknown support need is refused at its index",
			change: func(r *Raise) { r.Subject.SupportNeeds = []string{"telepathy"} }, field: "subject.support_needs[0]", msg: "learning_disability"},
		{name: "an unknown support need after a known one is refused at its own index",
			change: func(r *Raise) { r.Subject.SupportNeeds = []string{"autism", "telepathy"} }, field: "subject.support_needs[1]"},
		{name: "a repeated support need is refused on the list",
			change: func(r *Raise) { r.Subject.SupportNeeds = []string{"autism", "autism"} }, field: "subject.support_needs", msg: "repeat"},
	})
}

// The adult test is done on the calendar date of the raising time in its own location: at
// 00:30 in London on the 18th birthday (23:30 UTC the day before) the subject is an adult.
func TestRaiseValidate_adultOnTheCalendarDayOfTheRaisingTime(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	justAfterMidnight := time.Date(2026, time.June, 16, 0, 30, 0, 0, london)
	runRaiseCases(t, justAfterMidnight, []raiseCase{
		{name: "a subject raised at 00:30 London time on their 18th birthday is accepted",
			change: func(r *Raise) { r.Subject.DateOfBirth = "2008-06-16" }},
		{name: "a subject raised at 00:30 London time the day before their 18th birthday is refused",
			change: func(r *Raise) { r.Subject.DateOfBirth = "2008-06-17" }, field: "subject.date_of_birth", msg: "18 or over"},
	})
}

func TestRaiseValidate_categories(t *testing.T) {
	runRaiseCases(t, raisedAt, []raiseCase{
		{name: "a raise without categories is refused with a message on categories",
			change: func(r *Raise) { r.Categories = nil }, field: "categories", msg: "is required"},
		{name: "a raise with an empty list of categories is refused",
			change: func(r *Raise) { r.Categories = []string{} }, field: "categories", msg: "at least 1"},
		{name: "an unknown category is refused at its index",
			change: func(r *Raise) { r.Categories = []string{"theft"} }, field: "categories[0]", msg: "self_neglect"},
		{name: "an unknown category after a known one is refused at its own index",
			change: func(r *Raise) { r.Categories = []string{"neglect", "theft"} }, field: "categories[1]"},
		{name: "a category in capitals is refused (enumerations are exact)",
			change: func(r *Raise) { r.Categories = []string{"Physical"} }, field: "categories[0]"},
		{name: "a repeated category is refused on the list",
			change: func(r *Raise) { r.Categories = []string{"neglect", "neglect"} }, field: "categories", msg: "repeat"},
		{name: "all 11 categories at once are accepted",
			change: func(r *Raise) {
				r.Categories = nil
				for _, c := range Categories {
					r.Categories = append(r.Categories, string(c))
				}
			}},
	})
	for _, c := range Categories {
		runRaiseCases(t, raisedAt, []raiseCase{{
			name:   "category " + string(c) + " alone is accepted",
			change: func(r *Raise) { r.Categories = []string{string(c)} },
		}})
	}
}

// The enumerations are the contract of DESIGN.md: the exported lists must say exactly that.
func TestEnumerationsMatchTheDesign(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want []string
	}{
		{"categories", func() (s []string) {
			for _, c := range Categories {
				s = append(s, string(c))
			}
			return s
		}(), []string{"physical", "domestic", "sexual", "sexual_exploitation", "psychological", "financial", "modern_slavery", "discriminatory", "organisational", "neglect", "self_neglect"}},
		{"location_of_risk", LocationsOfRisk, []string{"custody", "own_home", "community", "community_service", "care_home_nursing", "care_home_residential", "hospital_acute", "hospital_mental_health", "hospital_community", "other"}},
		{"source_of_risk", SourcesOfRisk, []string{"service_provider", "other_known", "other_unknown"}},
		{"support_needs", SupportNeeds, []string{"learning_disability", "autism", "mental_health", "physical", "sensory", "memory_cognition", "older_age", "other"}},
	} {
		t.Run(tc.name+" lists exactly the documented values", func(t *testing.T) {
			if !slices.Equal(tc.got, tc.want) {
				t.Errorf("got %v; want %v", tc.got, tc.want)
			}
		})
	}
}

func TestRaiseValidate_locationAndSourceOfRisk(t *testing.T) {
	var cases []raiseCase
	for _, l := range LocationsOfRisk {
		cases = append(cases, raiseCase{name: "location of risk " + l + " is accepted",
			change: func(r *Raise) { r.LocationOfRisk = l }})
	}
	for _, s := range SourcesOfRisk {
		cases = append(cases, raiseCase{name: "source of risk " + s + " is accepted",
			change: func(r *Raise) { r.SourceOfRisk = s }})
	}
	cases = append(cases,
		raiseCase{name: "a raise without a location of risk is refused",
			change: func(r *Raise) { r.LocationOfRisk = "" }, field: "location_of_risk", msg: "is required"},
		raiseCase{name: "an unknown location of risk is refused",
			change: func(r *Raise) { r.LocationOfRisk = "prison_wing" }, field: "location_of_risk", msg: "must be one of"},
		raiseCase{name: "a location of risk with surrounding spaces is trimmed and accepted",
			change: func(r *Raise) { r.LocationOfRisk = " custody " }},
		raiseCase{name: "a raise without a source of risk is refused",
			change: func(r *Raise) { r.SourceOfRisk = "" }, field: "source_of_risk", msg: "is required"},
		raiseCase{name: "an unknown source of risk is refused",
			change: func(r *Raise) { r.SourceOfRisk = "stranger" }, field: "source_of_risk", msg: "must be one of"},
	)
	runRaiseCases(t, raisedAt, cases)
}

func TestRaiseValidate_oneOfMessageListsTheAllowedValues(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(r *Raise)
		field   string
		allowed []string
	}{
		{"location_of_risk", func(r *Raise) { r.LocationOfRisk = "nowhere" }, "location_of_risk", LocationsOfRisk},
		{"source_of_risk", func(r *Raise) { r.SourceOfRisk = "nobody" }, "source_of_risk", SourcesOfRisk},
		{"support need", func(r *Raise) { r.Subject.SupportNeeds = []string{"x"} }, "subject.support_needs[0]", SupportNeeds},
	} {
		t.Run("the message for an unknown "+tc.name+" lists every allowed value", func(t *testing.T) {
			r := validRaise()
			tc.change(r)
			msg := invalidFields(t, r.Validate(raisedAt))[tc.field]
			want := "must be one of: " + strings.Join(tc.allowed, ", ")
			if msg != want {
				t.Errorf("message = %q; want %q", msg, want)
			}
		})
	}
}

func TestRaiseValidate_narrative(t *testing.T) {
	runRaiseCases(t, raisedAt, []raiseCase{
		{name: "a raise without a summary is refused",
			change: func(r *Raise) { r.Summary = "" }, field: "summary", msg: "is required"},
		{name: "a whitespace-only summary is refused as missing",
			change: func(r *Raise) { r.Summary = " \n\t " }, field: "summary", msg: "is required"},
		{name: "a summary of 4001 characters is refused",
			change: func(r *Raise) { r.Summary = strings.Repeat("x", 4001) }, field: "summary", msg: "4000"},
		{name: "a summary of 4000 characters is accepted",
			change: func(r *Raise) { r.Summary = strings.Repeat("x", 4000) }},
		{name: "a summary of 4000 non-ASCII characters is accepted (characters, not bytes)",
			change: func(r *Raise) { r.Summary = strings.Repeat("é", 4000) }},
		{name: "a summary of 4000 characters plus surrounding whitespace is trimmed and accepted",
			change: func(r *Raise) { r.Summary = "  " + strings.Repeat("x", 4000) + "\n" }},

		{name: "a raise without actions taken is refused",
			change: func(r *Raise) { r.ActionsTaken = "" }, field: "actions_taken", msg: "is required"},
		{name: "whitespace-only actions taken are refused as missing",
			change: func(r *Raise) { r.ActionsTaken = "   " }, field: "actions_taken"},
		{name: "actions taken of 4001 characters are refused",
			change: func(r *Raise) { r.ActionsTaken = strings.Repeat("x", 4001) }, field: "actions_taken", msg: "4000"},
	})
}

func TestRaiseValidate_booleansMustBePresent(t *testing.T) {
	runRaiseCases(t, raisedAt, []raiseCase{
		{name: "immediate_risk absent is refused",
			change: func(r *Raise) { r.ImmediateRisk = nil }, field: "immediate_risk", msg: "is required"},
		{name: "immediate_risk false is accepted",
			change: func(r *Raise) { r.ImmediateRisk = boolp(false) }},
		{name: "immediate_risk true is accepted",
			change: func(r *Raise) { r.ImmediateRisk = boolp(true) }},
		{name: "police_informed absent is refused",
			change: func(r *Raise) { r.PoliceInformed = nil }, field: "police_informed", msg: "is required"},
		{name: "police_informed false is accepted",
			change: func(r *Raise) { r.PoliceInformed = boolp(false) }},
		{name: "capacity_concern absent is refused",
			change: func(r *Raise) { r.CapacityConcern = nil }, field: "capacity_concern", msg: "is required"},
		{name: "capacity_concern true is accepted",
			change: func(r *Raise) { r.CapacityConcern = boolp(true) }},
	})
}

func TestRaiseValidate_consent(t *testing.T) {
	runRaiseCases(t, raisedAt, []raiseCase{
		{name: "a raise without consent is refused",
			change: func(r *Raise) { r.Consent = nil }, field: "consent", msg: "is required"},
		{name: "consent without given is refused on consent.given",
			change: func(r *Raise) { r.Consent = &Consent{} }, field: "consent.given", msg: "is required"},
		{name: "consent not given and no reason is refused on consent.reason_if_not",
			change: func(r *Raise) { r.Consent = &Consent{Given: boolp(false)} }, field: "consent.reason_if_not", msg: "is required"},
		{name: "consent not given with a whitespace-only reason is refused on consent.reason_if_not",
			change: func(r *Raise) { r.Consent = &Consent{Given: boolp(false), ReasonIfNot: "  "} }, field: "consent.reason_if_not"},
		{name: "consent not given with a reason is accepted",
			change: func(r *Raise) {
				r.Consent = &Consent{Given: boolp(false), ReasonIfNot: "He lacks capacity to decide about sharing this."}
			}},
		{name: "a reason of 2001 characters is refused",
			change: func(r *Raise) { r.Consent = &Consent{Given: boolp(false), ReasonIfNot: strings.Repeat("x", 2001)} },
			field:  "consent.reason_if_not", msg: "2000"},
		{name: "consent given with no reason is accepted",
			change: func(r *Raise) { r.Consent = &Consent{Given: boolp(true)} }},
	})
}

func TestRaiseValidate_desiredOutcomes(t *testing.T) {
	runRaiseCases(t, raisedAt, []raiseCase{
		{name: "a raise without desired outcomes is refused",
			change: func(r *Raise) { r.DesiredOutcomes = nil }, field: "desired_outcomes", msg: "is required"},
		{name: "desired outcomes without asked are refused on desired_outcomes.asked",
			change: func(r *Raise) { r.DesiredOutcomes = &DesiredOutcomes{Outcomes: "to be safe"} }, field: "desired_outcomes.asked", msg: "is required"},
		{name: "not asked and no reason is refused on desired_outcomes.not_asked_reason",
			change: func(r *Raise) { r.DesiredOutcomes = &DesiredOutcomes{Asked: boolp(false)} }, field: "desired_outcomes.not_asked_reason", msg: "is required"},
		{name: "not asked with a whitespace-only reason is refused",
			change: func(r *Raise) { r.DesiredOutcomes = &DesiredOutcomes{Asked: boolp(false), NotAskedReason: "   "} }, field: "desired_outcomes.not_asked_reason"},
		{name: "not asked with a reason is accepted",
			change: func(r *Raise) {
				r.DesiredOutcomes = &DesiredOutcomes{Asked: boolp(false), NotAskedReason: "In hospital, not yet able to talk."}
			}},
		{name: "asked with a not-asked reason is refused",
			change: func(r *Raise) {
				r.DesiredOutcomes = &DesiredOutcomes{Asked: boolp(true), Outcomes: "to be safe", NotAskedReason: "no time"}
			}, field: "desired_outcomes.not_asked_reason", msg: "must be empty"},
		{name: "asked with no outcomes is accepted (asked, none expressed)",
			change: func(r *Raise) { r.DesiredOutcomes = &DesiredOutcomes{Asked: boolp(true)} }},
		{name: "outcomes of 2001 characters are refused",
			change: func(r *Raise) {
				r.DesiredOutcomes = &DesiredOutcomes{Asked: boolp(true), Outcomes: strings.Repeat("x", 2001)}
			}, field: "desired_outcomes.outcomes", msg: "2000"},
	})
}

func TestRaiseValidate_reportsEveryErrorAtOnce(t *testing.T) {
	t.Run("an empty body is refused on every required top-level field", func(t *testing.T) {
		fields := invalidFields(t, (&Raise{}).Validate(raisedAt))
		want := []string{"actions_taken", "capacity_concern", "categories", "consent", "desired_outcomes",
			"establishment", "immediate_risk", "location_of_risk", "police_informed", "source_of_risk", "subject", "summary"}
		if got := sortedKeys(fields); !slices.Equal(got, want) {
			t.Errorf("fields = %v; want %v", got, want)
		}
	})
	t.Run("errors in nested fields and cross-field rules are all reported together", func(t *testing.T) {
		r := validRaise()
		r.Subject.PrisonNumber = "1234ABC"
		r.Subject.DateOfBirth = "2010-01-01"
		r.Subject.SupportNeeds = []string{"autism", "telepathy"}
		r.Categories = []string{"theft"}
		r.Summary = ""
		r.Consent = &Consent{Given: boolp(false)}
		r.DesiredOutcomes = &DesiredOutcomes{Asked: boolp(false)}
		fields := invalidFields(t, r.Validate(raisedAt))
		want := []string{"categories[0]", "consent.reason_if_not", "desired_outcomes.not_asked_reason",
			"subject.date_of_birth", "subject.prison_number", "subject.support_needs[1]", "summary"}
		if got := sortedKeys(fields); !slices.Equal(got, want) {
			t.Errorf("fields = %v; want %v (%d keys)", got, want, len(want))
		}
	})
}

func TestRaiseValidate_errorTextNamesTheFields(t *testing.T) {
	r := validRaise()
	r.LocationOfRisk = "nowhere"
	r.Categories = nil
	err := r.Validate(raisedAt)
	invalidFields(t, err)
	text := err.Error()
	for _, want := range []string{"invalid", "categories: is required", "location_of_risk: must be one of: custody"} {
		if !strings.Contains(text, want) {
			t.Errorf("Error() = %q; want it to contain %q", text, want)
		}
	}
	if strings.Index(text, "categories") > strings.Index(text, "location_of_risk") {
		t.Errorf("Error() = %q; want the fields in sorted order", text)
	}
}
