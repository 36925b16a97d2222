package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// designExample is the policy file snippet of DESIGN.md, "Policy file",
// verbatim.
const designExample = `timezone: Europe/London
calendar: england-and-wales      # weekends and bank holidays excluded from "wd"
clocks:
  la_acknowledgement:
    due: 1wd                     # "Nwd" working days, or a Go duration: "90s", "4h"
    ladder:
      - {at: -1wd, notify: [responsible_inbox, assignee]}
      - {at: 0,    notify: [responsible_inbox, assignee]}
      - {at: 2wd,  notify: [responsible_managers]}
      - {at: 5wd,  notify: [responsible_managers, partner_managers]}
`

func mustParse(t *testing.T, data string) Policy {
	t.Helper()
	p, err := Parse([]byte(data))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, data)
	}
	return p
}

func TestParseTheDesignExampleGivesTheDefault(t *testing.T) {
	if got := mustParse(t, designExample); !reflect.DeepEqual(got, Default()) {
		t.Errorf("Parse(DESIGN.md example) = %+v\nwant Default() %+v", got, Default())
	}
}

func TestTestdataDefaultIsDefault(t *testing.T) {
	p, err := Load("testdata/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, Default()) {
		t.Errorf("testdata/default.yaml = %+v\nwant Default() %+v", p, Default())
	}
}

func TestTestdataSecondsIsTwentySecondsEverywhere(t *testing.T) {
	p, err := Load("testdata/seconds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const want = "-10s:responsible_inbox+assignee 0:responsible_inbox+assignee 10s:responsible_managers 20s:responsible_managers+partner_managers"
	for _, name := range ClockNames {
		c, ok := p.Clock(name)
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if d, ok := c.Due.AsDuration(); !ok || d != 20*time.Second {
			t.Errorf("%s due = %s, want 20s", name, c.Due)
		}
		if got := ladderString(c.Ladder); got != want {
			t.Errorf("%s ladder = %s\nwant %s", name, got, want)
		}
	}
	if p.Timezone != DefaultTimezone || p.Calendar != DefaultCalendar {
		t.Errorf("timezone, calendar = %q, %q", p.Timezone, p.Calendar)
	}
}

func TestParseKeepsDefaultsForWhatTheFileLeavesOut(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		change func(p *Policy) // applied to Default() to give the expected policy
	}{
		{"an empty file is the default policy", "", func(*Policy) {}},
		{"a file of comments is the default policy", "# nothing yet\n", func(*Policy) {}},
		{"an empty mapping is the default policy", "{}", func(*Policy) {}},
		{"a null document is the default policy", "---\n~\n", func(*Policy) {}},
		{"an empty clocks mapping keeps every default clock", "clocks: {}", func(*Policy) {}},
		{"timezone and calendar default when left out", "clocks: {triage_decision: {due: 3wd}}",
			setDue(TriageDecision, wd(3))},
		{"a file defining one clock keeps the defaults of the other five", `
timezone: Europe/London
clocks:
  enquiry_completion:
    due: 28wd
    ladder:
      - {at: -5wd, notify: [assignee]}
      - {at: 0, notify: [assignee, responsible_managers]}
`, func(p *Policy) {
			setDue(EnquiryCompletion, wd(28))(p)
			setLadder(EnquiryCompletion, step(wd(-5), Assignee), step(zero, Assignee, ResponsibleManagers))(p)
		}},
		{"a clock given without a ladder gets the default ladder", "clocks:\n  la_contribution:\n    due: 7wd\n",
			setDue(LAContribution, wd(7))},
		{"a clock given without a due keeps its default due", "clocks:\n  la_contribution:\n    ladder: [{at: 0, notify: [assignee]}]\n",
			setLadder(LAContribution, step(zero, Assignee))},
		{"a clock given as an empty mapping is its default", "clocks: {closure_signoff: {}}", func(*Policy) {}},
		{"two clocks given, four defaults", "clocks: {triage_decision: {due: 1wd}, handover_acknowledgement: {due: 2wd}}",
			func(p *Policy) { setDue(TriageDecision, wd(1))(p); setDue(HandoverAcknowledgement, wd(2))(p) }},
		{"a ladder shared with an anchor and aliases", `
clocks:
  triage_decision: {due: 3wd, ladder: &l [{at: 0, notify: [assignee]}]}
  closure_signoff: {ladder: *l}
`, func(p *Policy) {
			setDue(TriageDecision, wd(3))(p)
			setLadder(TriageDecision, step(zero, Assignee))(p)
			setLadder(ClosureSignoff, step(zero, Assignee))(p)
		}},
		{"quoted values and offsets in other spellings", `
"timezone": "Europe/London"
clocks:
  triage_decision: {due: "+2wd", ladder: [{at: '-1wd', notify: ["assignee"]}, {at: "0wd", notify: [assignee]}, {at: 007wd, notify: [assignee]}]}
`, setLadder(TriageDecision, step(wd(-1), Assignee), step(zero, Assignee), step(wd(7), Assignee))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.file)
			if want := changed(tt.change); !reflect.DeepEqual(got, want) {
				t.Errorf("Parse\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseExplicitEmptyLadderMeansNoSteps(t *testing.T) {
	tests := []struct {
		name string
		file string
	}{
		{"YAML flow", "clocks:\n  closure_signoff:\n    ladder: []\n"},
		{"YAML flow with due", "clocks: {closure_signoff: {due: 5wd, ladder: []}}"},
		{"JSON", `{"clocks": {"closure_signoff": {"ladder": []}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.file)
			c := p.Clocks[ClosureSignoff]
			if c.Ladder == nil || len(c.Ladder) != 0 {
				t.Errorf("closure_signoff ladder = %#v, want empty and not nil", c.Ladder)
			}
			if got := ladderString(p.Clocks[TriageDecision].Ladder); got != defaultLadderString {
				t.Errorf("triage_decision ladder = %s, want the default", got)
			}
		})
	}
}

func TestParseAcceptsJSON(t *testing.T) {
	defaultJSON, err := json.MarshalIndent(Default(), "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		file   string
		change func(p *Policy)
	}{
		{"json.MarshalIndent(Default()) with tab indentation", string(defaultJSON), func(*Policy) {}},
		{"a partial JSON file", `{"clocks":{"triage_decision":{"due":"20s","ladder":[{"at":"-10s","notify":["assignee"]},{"at":0,"notify":["assignee"]}]}}}`,
			func(p *Policy) {
				setDue(TriageDecision, dur(20*time.Second))(p)
				setLadder(TriageDecision, step(dur(-10*time.Second), Assignee), step(zero, Assignee))(p)
			}},
		{"JSON escapes", `{"timezone":"Europe\/London","calendar":"england\u002dand\u002dwales"}`, func(*Policy) {}},
		{"JSON null document", `null`, func(*Policy) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.file)
			if want := changed(tt.change); !reflect.DeepEqual(got, want) {
				t.Errorf("Parse\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	const notOffset = ` is not a working-day offset ("Nwd") or a Go duration ("90s")`
	tests := []struct {
		name string
		file string
		want string // the whole message
	}{
		// Unknown keys, each with where it is.
		{"an unknown top-level key", "timezone: Europe/London\ntimezon: Europe/London\n",
			`unknown key "timezon"; valid keys are timezone, calendar, clocks`},
		{"an unknown clock", "clocks:\n  la_acknowledgment: {due: 1wd}\n",
			`clocks: unknown clock "la_acknowledgment"; valid clocks are la_acknowledgement, triage_decision, la_contribution, enquiry_completion, closure_signoff, handover_acknowledgement`},
		{"an unknown key in a clock", "clocks:\n  triage_decision: {due: 1wd, dew: 2wd}\n",
			`clocks.triage_decision: unknown key "dew"; valid keys are due, ladder`},
		{"an unknown key in a step", "clocks:\n  triage_decision:\n    ladder:\n      - {at: 0, notify: [assignee], cc: [x]}\n",
			`clocks.triage_decision.ladder[0]: unknown key "cc"; valid keys are at, notify`},
		{"an unknown key in JSON", `{"clocks": {"triage_decision": {"due": "1wd", "Due": "2wd"}}}`,
			`clocks.triage_decision: unknown key "Due"; valid keys are due, ladder`},
		{"a YAML merge key is not supported", "clocks:\n  triage_decision:\n    <<: {due: 1wd}\n",
			`clocks.triage_decision: unknown key "<<"; valid keys are due, ladder`},
		{"an unknown JSON key written as an escaped surrogate pair", `{"\ud83d\ude00": 1}`,
			`unknown key "😀"; valid keys are timezone, calendar, clocks`},
		{"an unknown key with a newline is quoted", "\"a\\nb\": 1\n",
			`unknown key "a\nb"; valid keys are timezone, calendar, clocks`},

		// Offsets.
		{"a bad step offset, with the design's wording", "clocks:\n  la_acknowledgement:\n    ladder:\n      - {at: -1wd, notify: [assignee]}\n      - {at: 3xd, notify: [assignee]}\n",
			`clocks.la_acknowledgement.ladder[1].at: "3xd"` + notOffset},
		{"a bad due", "clocks: {enquiry_completion: {due: 4 weeks}}",
			`clocks.enquiry_completion.due: "4 weeks"` + notOffset},
		{"a bare number due", "clocks: {enquiry_completion: {due: 20}}",
			`clocks.enquiry_completion.due: "20"` + notOffset},
		{"a bare number due in JSON", `{"clocks": {"enquiry_completion": {"due": 20}}}`,
			`clocks.enquiry_completion.due: "20"` + notOffset},
		{"fractional working days", "clocks: {enquiry_completion: {due: 1.5wd}}",
			`clocks.enquiry_completion.due: "1.5wd" is not a whole number of working days (want "Nwd", e.g. "2wd" or "-1wd")`},
		{"too many working days", "clocks: {enquiry_completion: {due: 10001wd}}",
			`clocks.enquiry_completion.due: "10001wd" is out of range (at most 10000 working days either way)`},
		{"an empty quoted due", `clocks: {enquiry_completion: {due: ""}}`,
			`clocks.enquiry_completion.due: empty offset; want working days ("Nwd", e.g. "2wd"), "0" or a Go duration (e.g. "90s")`},

		// Empty values and wrong shapes.
		{"an empty due", "clocks:\n  enquiry_completion:\n    due:\n",
			`clocks.enquiry_completion.due: want a due time such as "1wd" or "90s", not an empty value`},
		{"a null ladder, saying how to write none or the default", "clocks:\n  enquiry_completion:\n    ladder:\n",
			`clocks.enquiry_completion.ladder: empty value; write "ladder: []" for no steps, or leave ladder out for the default ladder`},
		{"a JSON null ladder", `{"clocks": {"enquiry_completion": {"ladder": null}}}`,
			`clocks.enquiry_completion.ladder: empty value; write "ladder: []" for no steps, or leave ladder out for the default ladder`},
		{"an empty clock", "clocks:\n  enquiry_completion:\n",
			`clocks.enquiry_completion: want a mapping with keys due and ladder, not an empty value`},
		{"empty clocks", "clocks:\n",
			`clocks: want a mapping of clock names to clocks, not an empty value`},
		{"an empty timezone", "timezone:\n",
			`timezone: want a time zone, "Europe/London", not an empty value`},
		{"a list for the calendar", "calendar: [england-and-wales]\n",
			`calendar: want a calendar, "england-and-wales", not a list`},
		{"a ladder given as a mapping", "clocks: {triage_decision: {ladder: {at: 0, notify: [assignee]}}}",
			`clocks.triage_decision.ladder: want a list of steps, not a mapping`},
		{"a step given as a value", "clocks: {triage_decision: {ladder: [0]}}",
			`clocks.triage_decision.ladder[0]: want a step, {at: ..., notify: [...]}, not the value "0"`},
		{"notify given as one value", "clocks: {triage_decision: {ladder: [{at: 0, notify: assignee}]}}",
			`clocks.triage_decision.ladder[0].notify: want a list of targets such as [responsible_inbox, assignee], not the value "assignee"`},
		{"a target given as a list", "clocks: {triage_decision: {ladder: [{at: 0, notify: [[assignee]]}]}}",
			`clocks.triage_decision.ladder[0].notify[0]: want a target such as responsible_inbox, not a list`},
		{"an empty at", "clocks: {triage_decision: {ladder: [{at: , notify: [assignee]}]}}",
			`clocks.triage_decision.ladder[0].at: want an offset from due such as "-1wd", "0", "2wd" or "90s", not an empty value`},
		{"a step without at", "clocks: {triage_decision: {ladder: [{notify: [assignee]}]}}",
			`clocks.triage_decision.ladder[0]: missing "at", the step's offset from due`},
		{"a step without notify", "clocks: {triage_decision: {ladder: [{at: 0}]}}",
			`clocks.triage_decision.ladder[0]: missing "notify", the list of who the step tells`},
		{"a policy that is a list", "- timezone: Europe/London\n",
			`want a mapping with keys timezone, calendar and clocks, not a list`},
		{"a policy that is a value", "Europe/London\n",
			`want a mapping with keys timezone, calendar and clocks, not the value "Europe/London"`},
		{"a policy that is a JSON list", "[]",
			`want a mapping with keys timezone, calendar and clocks, not a list`},
		{"a key given as a list", "[a]: 1\n",
			`a key is a list; keys must be names`},

		// Repeats and documents.
		{"a key given twice", "clocks:\n  triage_decision: {due: 1wd}\n  triage_decision: {due: 2wd}\n",
			`clocks: key "triage_decision" appears twice`},
		{"a JSON key given twice", `{"timezone": "Europe/London", "timezone": "Europe/London"}`,
			`key "timezone" appears twice`},
		{"two YAML documents", "timezone: Europe/London\n---\ncalendar: england-and-wales\n",
			`line 3: a second YAML document; a policy file holds one`},
		{"a YAML syntax error, with its line", "clocks:\n  triage_decision: {due: 1wd\n",
			`line 1: did not find expected ',' or '}'`}, // yaml.v3 names the line of the context
		{"a tab indent", "clocks:\n\ttriage_decision: {}\n",
			`line 2: found character that cannot start any token`},
		{"an unknown anchor", "clocks: *nowhere\n",
			`unknown anchor 'nowhere' referenced`},

		// Parse validates: the rules of Validate, found in a file.
		{"an unsupported calendar", "calendar: scotland\n",
			`calendar: "scotland" is not supported; the only calendar is "england-and-wales" (weekends and England and Wales bank holidays)`},
		{"an unsupported timezone", "timezone: UTC\n",
			`timezone: "UTC" is not supported with calendar "england-and-wales", whose working days are judged in "Europe/London"; the only timezone supported is "Europe/London"`},
		{"a zero due", "clocks: {triage_decision: {due: 0}}",
			`clocks.triage_decision.due: "0" is not after the clock starts; want a positive offset such as "1wd" or "90s"`},
		{"a reminder before the clock starts", "clocks: {triage_decision: {ladder: [{at: -3wd, notify: [assignee]}]}}",
			`clocks.triage_decision.ladder[0].at: a reminder 3 working days before a due of 2 working days would fire before the clock starts`},
		{"a seconds due keeping the working-day default ladder", "clocks: {triage_decision: {due: 20s}}",
			`clocks.triage_decision.ladder[0].at: "-1wd" is in working days but due "20s" is a duration; a step before due must be in the same units as due, so it cannot fire before the clock starts`},
		{"an unknown target", "clocks: {triage_decision: {ladder: [{at: 0, notify: [assignee, inbox]}]}}",
			`clocks.triage_decision.ladder[0].notify[1]: unknown target "inbox"; valid targets are responsible_inbox, assignee, responsible_managers, partner_managers`},
		{"an empty notify", "clocks: {triage_decision: {ladder: [{at: 0, notify: []}]}}",
			`clocks.triage_decision.ladder[0].notify: no targets; want one or more of responsible_inbox, assignee, responsible_managers, partner_managers`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.file))
			if err == nil {
				t.Fatalf("Parse = %+v, want error %s", p, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Parse error\n got %s\nwant %s", got, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("Parse error is not one line: %q", err)
			}
			if !reflect.DeepEqual(p, Policy{}) {
				t.Errorf("Parse returned %+v with its error, want the zero Policy", p)
			}
		})
	}
}

func TestLoadErrorsNameTheFileAndPlace(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	badStep := write("p.yaml", "clocks:\n  la_acknowledgement:\n    ladder:\n      - {at: -1wd, notify: [assignee]}\n      - {at: 3xd, notify: [assignee]}\n")
	badSyntax := write("syntax.yaml", "clocks: [\n")
	badJSON := write("p.json", `{"clocks": {"triage_decision": {"due": "2wd", "escalate": true}}}`)
	missing := filepath.Join(dir, "missing.yaml")
	tests := []struct {
		name string
		path string
		want string
	}{
		{"a bad step offset", badStep,
			`policy ` + badStep + `: clocks.la_acknowledgement.ladder[1].at: "3xd" is not a working-day offset ("Nwd") or a Go duration ("90s")`},
		{"a YAML syntax error", badSyntax,
			`policy ` + badSyntax + `: line 1: did not find expected node content`},
		{"an unknown key in JSON", badJSON,
			`policy ` + badJSON + `: clocks.triage_decision: unknown key "escalate"; valid keys are due, ladder`},
		{"a missing file, named once", missing,
			`policy ` + missing + `: no such file or directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Load(tt.path)
			if err == nil {
				t.Fatalf("Load = %+v, want error", p)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Load error\n got %s\nwant %s", got, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("Load error is not one line: %q", err)
			}
		})
	}
	if _, err := Load(missing); !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("Load(missing) error %v does not wrap fs.ErrNotExist", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestLoadReadsJSONFiles(t *testing.T) {
	b, err := json.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, Default()) {
		t.Errorf("Load(JSON of Default()) = %+v", p)
	}
}
