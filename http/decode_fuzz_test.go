package http

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

// decodeCodes are the only answers a request body may get from decoding and validation: a
// body can be malformed, too large or invalid, and nothing else (never a 500).
var decodeCodes = map[string]bool{"": true, safeguard.EMALFORMED: true, safeguard.ETOOLARGE: true, safeguard.EINVALID: true}

// checkFieldErrors insists that an EINVALID answer names at least one field, each with a
// message: a client must be able to say which field to fix.
func checkFieldErrors(t *testing.T, err error) {
	t.Helper()
	if safeguard.ErrorCode(err) != safeguard.EINVALID {
		return
	}
	e, ok := err.(*safeguard.Error)
	if !ok || len(e.Fields) == 0 {
		t.Fatalf("EINVALID without fields: %#v", err)
	}
	for name, msg := range e.Fields {
		if name == "" || msg == "" {
			t.Fatalf("field error %q: %q", name, msg)
		}
	}
}

func decodeBody(body []byte, v any) error {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/concerns", bytes.NewReader(body))
	return decodeJSON(httptest.NewRecorder(), req, v)
}

// FuzzDecodeRaise feeds arbitrary bytes to the raise body's decoder and validation. Properties:
// nothing panics; the only answers are malformed, too large or invalid-with-fields; a body
// that passes, encoded again, decodes and passes again (what is stored can be read back).
func FuzzDecodeRaise(f *testing.F) {
	if b, err := os.ReadFile("../testdata/raise.json"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{`{}`, `[]`, `null`, `{"subject":{}}`, `{"categories":"physical"}`, `{"establishment":1}`,
		`{"subject":{"date_of_birth":"1990-02-30"}}`, `{"a":1}`, `{} {}`, "\xff", `{"summary":"` + string(bytes.Repeat([]byte("x"), 5000)) + `"}`} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var raise safeguard.Raise
		err := decodeBody(body, &raise)
		if !decodeCodes[safeguard.ErrorCode(err)] {
			t.Fatalf("decode answered %v", err)
		}
		checkFieldErrors(t, err)
		if err != nil {
			return
		}
		err = raise.Validate(now)
		if code := safeguard.ErrorCode(err); code != "" && code != safeguard.EINVALID {
			t.Fatalf("validate answered %v", err)
		}
		checkFieldErrors(t, err)
		if err != nil {
			return
		}
		again, merr := json.Marshal(raise)
		if merr != nil {
			t.Fatal(merr)
		}
		var back safeguard.Raise
		if err := decodeBody(again, &back); err != nil {
			t.Fatalf("a valid raise, encoded again, does not decode: %v\n%s", err, again)
		}
		if err := back.Validate(now); err != nil {
			t.Fatalf("a valid raise, encoded again, does not validate: %v\n%s", err, again)
		}
	})
}

// FuzzDecodeAction does the same for every lifecycle action's body.
func FuzzDecodeAction(f *testing.F) {
	for _, s := range []string{`{}`, `{"decision":"enquiry","rationale":"All three tests are met."}`,
		`{"organisation":"E08000035","question":"Is there a care assessment?"}`, `{"advice":"x","care_assessment":"needed"}`,
		`{"risk":"identified","action_taken":true,"risk_outcome":"reduced","summary":"s"}`, `{"msp_outcomes":"fully","feedback_given":true}`,
		`{"reason":"hospital"}`, `{"to_establishment":"WDI"}`, `{"receiving_la":"E08000036","release_date":"2026-12-01"}`,
		`{"action_taken":"yes"}`, `{"release_date":"2026-13-45"}`, `{"note":1}`} {
		f.Add([]byte(s), uint8(0))
	}
	actions := []safeguard.Action{safeguard.ActionAcknowledge, safeguard.ActionTriage, safeguard.ActionRequestAdvice,
		safeguard.ActionContribute, safeguard.ActionFindings, safeguard.ActionProposeClosure, safeguard.ActionSignOffClosure,
		safeguard.ActionPause, safeguard.ActionResume, safeguard.ActionReopen, safeguard.ActionTransfer, safeguard.ActionRelease}
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		a := actions[int(which)%len(actions)]
		var in safeguard.Input
		err := decodeBody(body, &in)
		if !decodeCodes[safeguard.ErrorCode(err)] {
			t.Fatalf("decode answered %v", err)
		}
		checkFieldErrors(t, err)
		if err != nil {
			return
		}
		err = in.Validate(a)
		if code := safeguard.ErrorCode(err); code != "" && code != safeguard.EINVALID {
			t.Fatalf("%s: validate answered %v", a, err)
		}
		checkFieldErrors(t, err)
		if err == nil {
			// Validation normalises (trims, upper-cases codes): doing it twice changes nothing.
			before := in
			if err := in.Validate(a); err != nil || in != before {
				t.Fatalf("%s: validating a valid input again changed it or failed: %v", a, err)
			}
		}
	})
}
