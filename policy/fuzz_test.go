package policy

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse checks that Parse never panics, that its errors are one line,
// and that whatever it accepts is valid and survives being written out as
// JSON or YAML and read back, with the same fingerprint.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/default.yaml", "testdata/seconds.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	defaultJSON, err := json.Marshal(Default())
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		designExample,
		string(defaultJSON),
		"",
		"clocks: {closure_signoff: {ladder: []}}",
		"clocks: {triage_decision: {due: 20s, ladder: [{at: -20s, notify: [assignee]}, {at: 0, notify: [assignee]}]}}",
		"clocks:\n  la_acknowledgement:\n    ladder:\n      - {at: 3xd, notify: [assignee]}\n",
		`{"clocks": {"enquiry_completion": {"due": "28wd", "ladder": [{"at": 0, "notify": ["responsible_managers"]}]}}}`,
		"clocks: {triage_decision: {ladder: &l [{at: 0, notify: [assignee]}]}, closure_signoff: {ladder: *l}}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("Parse error is not one line: %q", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse accepted a policy that does not validate: %v", err)
		}
		fp := p.Fingerprint()

		asJSON, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		if again, err := Parse(asJSON); err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("Parse(json.Marshal(p)) = %+v, %v\nwant %+v\nJSON: %s", again, err, p, asJSON)
		}
		var unmarshalled Policy
		if err := json.Unmarshal(asJSON, &unmarshalled); err != nil || !reflect.DeepEqual(unmarshalled, p) {
			t.Fatalf("json.Unmarshal(json.Marshal(p)) = %+v, %v\nwant %+v", unmarshalled, err, p)
		}

		asYAML, err := yaml.Marshal(p)
		if err != nil {
			t.Fatalf("yaml.Marshal: %v", err)
		}
		again, err := Parse(asYAML)
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("Parse(yaml.Marshal(p)) = %+v, %v\nwant %+v\nYAML:\n%s", again, err, p, asYAML)
		}
		if got := again.Fingerprint(); got != fp {
			t.Fatalf("fingerprint after a YAML round trip = %s, want %s", got, fp)
		}
	})
}
