package http

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/safeguard-project/safeguard"
)

// The web forms post the same bodies the API takes, as form fields named by the body's JSON
// paths ("subject.prison_number"), so that the domain's field-by-field errors land on the field
// that caused them without a second set of rules. This file turns form values into the domain's
// types and its error messages into sentences a form can show.

// option is one choice of a radio group, checkbox list or select.
type option struct {
	Value, Label, Hint string
}

// formKey is a fresh random key for a form: posted back hidden, it is the Idempotency-Key that
// makes a double submission of one form act once.
func formKey() string { return randomToken() }

// readForm parses a posted form, bounded in size.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, safeguard.Errorf(safeguard.ETOOLARGE, "The form is too large to send. Shorten the longest answers and try again.")
		}
		return nil, safeguard.Errorf(safeguard.EMALFORMED, "The form could not be read. Go back and try again.")
	}
	return r.PostForm, nil
}

// yesNo reads a yes/no radio group: nil when neither was chosen.
func yesNo(v url.Values, name string) *bool {
	switch v.Get(name) {
	case "yes":
		t := true
		return &t
	case "no":
		f := false
		return &f
	}
	return nil
}

// dateFromParts joins a day, month and year typed in three boxes (the GOV.UK date input) into
// YYYY-MM-DD; "" if all are empty, and something the validator refuses if they are not a date.
func dateFromParts(v url.Values, name string) string {
	d, m, y := strings.TrimSpace(v.Get(name+".day")), strings.TrimSpace(v.Get(name+".month")), strings.TrimSpace(v.Get(name+".year"))
	if d == "" && m == "" && y == "" {
		return ""
	}
	di, e1 := strconv.Atoi(d)
	mi, e2 := strconv.Atoi(m)
	yi, e3 := strconv.Atoi(y)
	if e1 != nil || e2 != nil || e3 != nil || len(y) != 4 {
		return "not a date"
	}
	return fmt.Sprintf("%04d-%02d-%02d", yi, mi, di)
}

// raiseFromForm builds the raise body from the raise form. It decides nothing: Raise.Validate,
// called by Server.raise exactly as for the API, does.
func raiseFromForm(v url.Values) safeguard.Raise {
	text := func(name string) string { return v.Get(name) }
	return safeguard.Raise{
		Establishment: text("establishment"),
		Subject: &safeguard.Subject{
			PrisonNumber: text("subject.prison_number"),
			Name:         text("subject.name"),
			DateOfBirth:  dateFromParts(v, "subject.date_of_birth"),
			SupportNeeds: v["subject.support_needs"],
			Gender:       text("subject.gender"),
			Ethnicity:    text("subject.ethnicity"),
		},
		Categories:             v["categories"],
		LocationOfRisk:         text("location_of_risk"),
		SourceOfRisk:           text("source_of_risk"),
		Summary:                text("summary"),
		ImmediateRisk:          yesNo(v, "immediate_risk"),
		ActionsTaken:           text("actions_taken"),
		PoliceInformed:         yesNo(v, "police_informed"),
		Consent:                &safeguard.Consent{Given: yesNo(v, "consent.given"), ReasonIfNot: text("consent.reason_if_not")},
		CapacityConcern:        yesNo(v, "capacity_concern"),
		DesiredOutcomes:        &safeguard.DesiredOutcomes{Asked: yesNo(v, "desired_outcomes.asked"), Outcomes: text("desired_outcomes.outcomes"), NotAskedReason: text("desired_outcomes.not_asked_reason")},
		AllegationAgainstStaff: v.Get("allegation_against_staff") == "yes",
		LackedCapacity:         text("lacked_capacity"),
		Advocacy:               text("advocacy"),
	}
}

// raiseFields are the raise form's fields in page order, for the error summary.
var raiseFields = []string{"establishment", "subject.prison_number", "subject.name", "subject.date_of_birth", "subject.gender", "subject.ethnicity", "subject.support_needs",
	"categories", "location_of_risk", "source_of_risk", "summary", "immediate_risk", "actions_taken", "police_informed",
	"allegation_against_staff", "consent.given", "consent.reason_if_not", "capacity_concern", "lacked_capacity", "advocacy",
	"desired_outcomes.asked", "desired_outcomes.outcomes", "desired_outcomes.not_asked_reason"}

// fieldLabels name each form field in the sentence that explains its error.
var fieldLabels = map[string]string{
	"establishment":                     "Establishment",
	"subject.prison_number":             "Prison number",
	"subject.name":                      "Full name",
	"subject.date_of_birth":             "Date of birth",
	"subject.support_needs":             "Care and support needs",
	"categories":                        "Type of abuse or neglect",
	"location_of_risk":                  "Where the risk is",
	"source_of_risk":                    "Who the risk comes from",
	"summary":                           "What happened",
	"actions_taken":                     "Actions taken",
	"consent.reason_if_not":             "Reason for sharing without consent",
	"desired_outcomes.outcomes":         "Outcomes the adult wants",
	"desired_outcomes.not_asked_reason": "Reason the adult was not asked",
	"note":                              "Note",
	"decision":                          "Triage decision",
	"rationale":                         "Rationale",
	"organisation":                      "Organisation",
	"question":                          "Question",
	"advice":                            "Advice",
	"care_assessment":                   "Care and support assessment",
	"risk":                              "Risk",
	"risk_outcome":                      "Risk outcome",
	"msp_outcomes":                      "Making Safeguarding Personal outcomes",
	"reason":                            "Reason",
	"to_establishment":                  "Establishment to transfer to",
	"receiving_la":                      "Receiving local authority",
	"release_date":                      "Release date",
	"min_days":                          "Days overdue",
	"step":                              "Escalation step",
	"page":                              "Page",
}

// requiredMessages say what to do when a field is left empty; choices ask to select.
var requiredMessages = map[string]string{
	"establishment":                     "Enter the establishment's code",
	"subject.prison_number":             "Enter the adult's prison number",
	"subject.name":                      "Enter the adult's full name",
	"subject.date_of_birth":             "Enter the adult's date of birth",
	"subject.support_needs":             "Select at least one care and support need",
	"categories":                        "Select at least one type of abuse or neglect",
	"location_of_risk":                  "Select where the risk is",
	"source_of_risk":                    "Select who the risk comes from",
	"summary":                           "Enter what happened",
	"immediate_risk":                    "Select whether the adult is at immediate risk",
	"actions_taken":                     "Enter the actions taken so far, or \"none\"",
	"police_informed":                   "Select whether the police have been told",
	"consent.given":                     "Select whether the adult consents to the concern being shared",
	"consent.reason_if_not":             "Enter why the concern is shared without the adult's consent",
	"capacity_concern":                  "Select whether there is doubt about the adult's mental capacity",
	"desired_outcomes.asked":            "Select whether the adult was asked what outcomes they want",
	"desired_outcomes.not_asked_reason": "Enter why the adult was not asked what outcomes they want",
	"decision":                          "Select a triage decision",
	"rationale":                         "Enter the rationale for the decision",
	"organisation":                      "Enter the code of the organisation to ask",
	"question":                          "Enter the question to ask",
	"advice":                            "Enter your advice",
	"care_assessment":                   "Select whether a care and support assessment is needed",
	"risk":                              "Select whether a risk was identified",
	"action_taken":                      "Select whether action was taken",
	"risk_outcome":                      "Select the risk outcome",
	"msp_outcomes":                      "Select whether the adult's desired outcomes were achieved",
	"feedback_given":                    "Select whether feedback was given to the person who raised the concern",
	"reason":                            "Enter the reason",
	"to_establishment":                  "Enter the code of the establishment to transfer to",
	"receiving_la":                      "Enter the code of the receiving local authority",
	"release_date":                      "Enter the release date",
}

var itemIndex = regexp.MustCompile(`\[\d+\]$`)

// formErrors turns the domain's field errors into the form's: one sentence per field, keyed
// prefix+field (the prefix tells apart the action forms sharing the concern page). An error
// with no fields (a wrong stage, say) comes back under the key "" for the page to show. ok is
// false for errors that are not about the form at all (not found, unavailable).
func formErrors(err error, prefix string) (map[string]string, bool) {
	var e *safeguard.Error
	if !errors.As(err, &e) {
		return nil, false
	}
	switch e.Code {
	case safeguard.EINVALID, safeguard.ECONFLICT, safeguard.EFORBIDDEN, safeguard.ETOOLARGE:
	default:
		return nil, false
	}
	out := map[string]string{}
	if len(e.Fields) == 0 {
		out[""] = sentence(e.Message)
		return out, true
	}
	for field, msg := range e.Fields {
		field = itemIndex.ReplaceAllString(field, "")
		switch {
		case field == "Idempotency-Key":
			out[""] = "The form was not recognised. Reload the page and send it again."
			continue
		case strings.HasPrefix(msg, "is required") && requiredMessages[field] != "":
			msg = requiredMessages[field]
		case field == "subject.date_of_birth" && strings.Contains(msg, "YYYY-MM-DD"):
			msg = "Date of birth must be a real date, for example 27 3 1958"
		case field == "release_date" && strings.Contains(msg, "YYYY-MM-DD"):
			msg = "Release date must be a real date, for example 1 12 2026"
		case strings.HasPrefix(msg, "must be one of") && requiredMessages[field] != "":
			msg = requiredMessages[field]
		default:
			label := fieldLabels[field]
			if label == "" {
				label = humanField(field)
			}
			msg = label + " " + msg
		}
		if _, seen := out[prefix+field]; !seen {
			out[prefix+field] = sentence(msg)
		}
	}
	return out, true
}

func humanField(f string) string {
	if i := strings.LastIndex(f, "."); i >= 0 {
		f = f[i+1:]
	}
	f = strings.ReplaceAll(f, "_", " ")
	if f == "" {
		return f
	}
	return strings.ToUpper(f[:1]) + f[1:]
}

// sentence capitalises a message's first letter for display.
// words turns a code into a label: "no_further_action" → "No further action".
func words(code string) string { return sentence(strings.ReplaceAll(code, "_", " ")) }

func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
