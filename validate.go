package safeguard

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
)

// prisonNumber is the NOMIS prisoner number: a letter, four digits, two letters (A1234BC).
var prisonNumber = regexp.MustCompile(`^[A-Z][0-9]{4}[A-Z]{2}$`)

const dateLayout = "2006-01-02"

// validate is the one validator instance: it caches struct metadata, so it is shared.
var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by their JSON names so that errors point at what the caller sent.
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	must(v.RegisterValidation("prison_number", func(fl validator.FieldLevel) bool {
		return prisonNumber.MatchString(fl.Field().String())
	}))
	must(v.RegisterValidation("date", func(fl validator.FieldLevel) bool {
		_, err := time.Parse(dateLayout, fl.Field().String())
		return err == nil
	}))
	// "adult" is checked against the raising time in Raise.Validate; the tag only documents it.
	must(v.RegisterValidation("adult", func(validator.FieldLevel) bool { return true }))
	return v
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Validate checks a raise body field by field and returns an EINVALID *Error naming each bad
// field by its JSON path, or nil. now is the raising time, used to check that the subject is an
// adult: adult safeguarding (Care Act 2014 s.42) applies from 18. Strings are trimmed, and codes
// are upper-cased, before checking.
func (r *Raise) Validate(now time.Time) error {
	r.normalise()
	fields := map[string]string{}
	if err := validate.Struct(r); err != nil {
		var verrs validator.ValidationErrors
		if !errors.As(err, &verrs) {
			return fmt.Errorf("validate raise: %w", err)
		}
		for _, fe := range verrs {
			path := fieldPath(fe.Namespace())
			if _, seen := fields[path]; !seen {
				fields[path] = message(fe)
			}
		}
	}
	if r.Establishment != "" && !orgCode.MatchString(r.Establishment) {
		fields["establishment"] = "must be an establishment code, e.g. LEI"
	}
	if s := r.Subject; s != nil && fields["subject.date_of_birth"] == "" {
		if msg := checkAdult(s.DateOfBirth, now); msg != "" {
			fields["subject.date_of_birth"] = msg
		}
	}
	if c := r.Consent; c != nil && c.Given != nil && !*c.Given && c.ReasonIfNot == "" {
		fields["consent.reason_if_not"] = "is required when consent is not given: say why the concern is shared without it"
	}
	if d := r.DesiredOutcomes; d != nil && d.Asked != nil {
		if !*d.Asked && d.NotAskedReason == "" {
			fields["desired_outcomes.not_asked_reason"] = "is required when the adult was not asked what outcomes they want"
		}
		if *d.Asked && d.NotAskedReason != "" {
			fields["desired_outcomes.not_asked_reason"] = "must be empty when the adult was asked"
		}
	}
	if r.Advocacy != "" && r.LackedCapacity == "no" && fields["advocacy"] == "" {
		fields["advocacy"] = "is recorded only when the adult lacked capacity (or it is not known): leave it out when lacked_capacity is no"
	}
	if len(fields) > 0 {
		return FieldErrors(fields)
	}
	return nil
}

func (r *Raise) normalise() {
	r.Establishment = strings.ToUpper(strings.TrimSpace(r.Establishment))
	r.Summary = strings.TrimSpace(r.Summary)
	r.ActionsTaken = strings.TrimSpace(r.ActionsTaken)
	r.LocationOfRisk = strings.TrimSpace(r.LocationOfRisk)
	r.SourceOfRisk = strings.TrimSpace(r.SourceOfRisk)
	if s := r.Subject; s != nil {
		s.PrisonNumber = strings.ToUpper(strings.TrimSpace(s.PrisonNumber))
		s.Name = strings.TrimSpace(s.Name)
		s.DateOfBirth = strings.TrimSpace(s.DateOfBirth)
		s.Gender, s.Ethnicity = strings.TrimSpace(s.Gender), strings.TrimSpace(s.Ethnicity)
	}
	r.LackedCapacity, r.Advocacy = strings.TrimSpace(r.LackedCapacity), strings.TrimSpace(r.Advocacy)
	if c := r.Consent; c != nil {
		c.ReasonIfNot = strings.TrimSpace(c.ReasonIfNot)
	}
	if d := r.DesiredOutcomes; d != nil {
		d.Outcomes = strings.TrimSpace(d.Outcomes)
		d.NotAskedReason = strings.TrimSpace(d.NotAskedReason)
	}
}

// checkAdult returns what is wrong with a date of birth for an adult at time now, or "".
func checkAdult(dob string, now time.Time) string {
	born, err := time.Parse(dateLayout, dob)
	if err != nil {
		return "must be a date in the form YYYY-MM-DD"
	}
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch {
	case born.After(today):
		return "must not be in the future"
	case born.AddDate(18, 0, 0).After(today):
		return "the adult must be 18 or over: adult safeguarding does not apply to children"
	case born.AddDate(120, 0, 0).Before(today):
		return "must be within the last 120 years"
	}
	return ""
}

// fieldPath turns the validator's namespace ("Raise.subject.support_needs[2]") into the JSON
// path the caller sent ("subject.support_needs[2]").
func fieldPath(ns string) string {
	_, rest, found := strings.Cut(ns, ".")
	if !found {
		return ns
	}
	return rest
}

// message says, in words a form can show, what a failed validation tag means.
func message(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "min":
		if fe.Kind() == reflect.Slice {
			return "must have at least " + fe.Param() + " item(s)"
		}
		return "must be at least " + fe.Param() + " characters"
	case "max":
		if fe.Kind() == reflect.Slice {
			return "must have at most " + fe.Param() + " items"
		}
		return "must be at most " + fe.Param() + " characters"
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "unique":
		return "must not repeat a value"
	case "prison_number":
		return "must be a prison number: a letter, four digits and two letters, e.g. A1234BC"
	case "date":
		return "must be a date in the form YYYY-MM-DD"
	default:
		return "is not valid (" + fe.Tag() + ")"
	}
}
