package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/safeguard-project/safeguard/calendar"
)

// Load reads the policy file at path with Parse. Every error is one line
// that names the file and the place in it, for example:
//
//	policy /etc/p.yaml: clocks.la_acknowledgement.ladder[1].at: "3xd" is not a working-day offset ("Nwd") or a Go duration ("90s")
func Load(path string) (Policy, error) {
	name := path
	if strings.ContainsAny(name, "\n\r") {
		name = fmt.Sprintf("%q", name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		// The *PathError would name the file a second time.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Policy{}, fmt.Errorf("policy %s: %w", name, err)
	}
	p, err := Parse(data)
	if err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", name, err)
	}
	return p, nil
}

// Parse reads a policy written in YAML, or in JSON, with the keys of the
// Policy, Clock and Step types (see DESIGN.md, "Policy file"), fills in
// defaults for what it leaves out, and validates the result (see Validate).
//
// What is left out takes its value from Default: timezone and calendar; any
// clock not listed under clocks; a listed clock's due; a listed clock's
// ladder (whereas "ladder: []" means no steps at all). An empty file is the
// default policy. Keys that mean nothing are errors, as are empty values
// ("ladder:" with nothing after it), so that a typo is not silently a
// default. Errors are one line, starting with where the problem is:
//
//	clocks.la_acknowledgement.ladder[1].at: "3xd" is not a working-day offset ("Nwd") or a Go duration ("90s")
func Parse(data []byte) (Policy, error) {
	root, err := parseTree(data)
	if err != nil {
		return Policy{}, err
	}
	p, err := decodePolicy(root)
	if err != nil {
		return Policy{}, err
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// parseTree parses data, as JSON if it is valid JSON and otherwise as a
// single YAML document, into a YAML node tree. It returns nil for a file
// with no content.
func parseTree(data []byte) (root *yaml.Node, err error) {
	if json.Valid(data) {
		// Read JSON as JSON: YAML parsers disagree with JSON on corners
		// such as tabs and escaped surrogate pairs.
		return jsonTree(data)
	}
	defer func() {
		// The YAML parser is not ours; a panic on odd input is still an
		// error in the input.
		if r := recover(); r != nil {
			root, err = nil, pathErrorf("", "not a readable YAML policy (%s)", oneLine(fmt.Sprint(r)))
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlError(err)
	default:
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		return nil, pathErrorf("", "line %d: a second YAML document; a policy file holds one", line)
	}
	if doc.Kind != yaml.DocumentNode {
		return &doc, nil
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// yamlError makes a YAML library error one line without the "yaml: "
// prefix: "line 3: mapping values are not allowed in this context".
func yamlError(err error) error {
	return pathErrorf("", "%s", oneLine(strings.TrimPrefix(err.Error(), "yaml: ")))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// jsonTree converts a valid JSON document into the YAML node tree that the
// same document read as YAML would give.
func jsonTree(data []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := jsonValue(dec)
	if err != nil {
		return nil, pathErrorf("", "not a readable JSON policy (%s)", oneLine(err.Error()))
	}
	return n, nil
}

func jsonValue(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		var n *yaml.Node
		switch v {
		case '{':
			n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		case '[':
			n = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		default:
			return nil, fmt.Errorf("unexpected %v", v)
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				s, ok := key.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", key)
				}
				n.Content = append(n.Content, scalarNode("!!str", s))
			}
			value, err := jsonValue(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, value)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return scalarNode("!!str", v), nil
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return scalarNode("!!float", string(v)), nil
		}
		return scalarNode("!!int", string(v)), nil
	case bool:
		return scalarNode("!!bool", fmt.Sprint(v)), nil
	case nil:
		return scalarNode("!!null", "null"), nil
	default:
		return nil, fmt.Errorf("unexpected %T", tok)
	}
}

func scalarNode(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// decodePolicy reads the tree of a policy file over the default policy.
func decodePolicy(root *yaml.Node) (Policy, error) {
	p := Default()
	if root == nil {
		return p, nil
	}
	root = resolve(root)
	if isNull(root) {
		return p, nil
	}
	fields, err := entries(root, "", "a mapping with keys timezone, calendar and clocks")
	if err != nil {
		return Policy{}, err
	}
	for _, f := range fields {
		switch f.key {
		case "timezone":
			p.Timezone, err = scalar(f.value, "timezone", `a time zone, "Europe/London"`)
		case "calendar":
			p.Calendar, err = scalar(f.value, "calendar", `a calendar, "england-and-wales"`)
		case "clocks":
			err = decodeClocks(f.value, p.Clocks)
		default:
			err = pathErrorf("", "unknown key %q; valid keys are timezone, calendar, clocks", f.key)
		}
		if err != nil {
			return Policy{}, err
		}
	}
	return p, nil
}

// decodeClocks reads the clocks mapping over the defaults in clocks.
func decodeClocks(n *yaml.Node, clocks map[string]Clock) error {
	fields, err := entries(n, "clocks", "a mapping of clock names to clocks")
	if err != nil {
		return err
	}
	for _, f := range fields {
		def, ok := clocks[f.key]
		if !ok {
			return unknownClock(f.key)
		}
		c, err := decodeClock(f.value, "clocks."+f.key, def)
		if err != nil {
			return err
		}
		clocks[f.key] = c
	}
	return nil
}

// decodeClock reads one clock over its default, def.
func decodeClock(n *yaml.Node, path string, def Clock) (Clock, error) {
	fields, err := entries(n, path, "a mapping with keys due and ladder")
	if err != nil {
		return Clock{}, err
	}
	c := def
	for _, f := range fields {
		switch f.key {
		case "due":
			c.Due, err = offset(f.value, path+".due", `a due time such as "1wd" or "90s"`)
		case "ladder":
			c.Ladder, err = decodeLadder(f.value, path+".ladder")
		default:
			err = pathErrorf(path, "unknown key %q; valid keys are due, ladder", f.key)
		}
		if err != nil {
			return Clock{}, err
		}
	}
	return c, nil
}

// decodeLadder reads a ladder; "[]" gives an empty, non-nil ladder.
func decodeLadder(n *yaml.Node, path string) ([]Step, error) {
	n = resolve(n)
	if isNull(n) {
		return nil, pathErrorf(path, `empty value; write "ladder: []" for no steps, or leave ladder out for the default ladder`)
	}
	if n.Kind != yaml.SequenceNode {
		return nil, wrongKind(n, path, "a list of steps")
	}
	steps := make([]Step, 0, len(n.Content))
	for i, item := range n.Content {
		s, err := decodeStep(item, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		steps = append(steps, s)
	}
	return steps, nil
}

func decodeStep(n *yaml.Node, path string) (Step, error) {
	fields, err := entries(n, path, `a step, {at: ..., notify: [...]}`)
	if err != nil {
		return Step{}, err
	}
	var s Step
	var hasAt, hasNotify bool
	for _, f := range fields {
		switch f.key {
		case "at":
			hasAt = true
			s.At, err = offset(f.value, path+".at", `an offset from due such as "-1wd", "0", "2wd" or "90s"`)
		case "notify":
			hasNotify = true
			s.Notify, err = decodeTargets(f.value, path+".notify")
		default:
			err = pathErrorf(path, "unknown key %q; valid keys are at, notify", f.key)
		}
		if err != nil {
			return Step{}, err
		}
	}
	switch {
	case !hasAt:
		return Step{}, pathErrorf(path, `missing "at", the step's offset from due`)
	case !hasNotify:
		return Step{}, pathErrorf(path, `missing "notify", the list of who the step tells`)
	}
	return s, nil
}

func decodeTargets(n *yaml.Node, path string) ([]Target, error) {
	want := "a list of targets such as [responsible_inbox, assignee]"
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, wrongKind(n, path, want)
	}
	out := make([]Target, 0, len(n.Content))
	for i, item := range n.Content {
		s, err := scalar(item, fmt.Sprintf("%s[%d]", path, i), "a target such as responsible_inbox")
		if err != nil {
			return nil, err
		}
		out = append(out, Target(s))
	}
	return out, nil
}

// offset reads a scalar as a calendar.Offset.
func offset(n *yaml.Node, path, want string) (calendar.Offset, error) {
	s, err := scalar(n, path, want)
	if err != nil {
		return calendar.Offset{}, err
	}
	o, err := calendar.ParseOffset(s)
	if err != nil {
		return calendar.Offset{}, pathErrorf(path, "%s", strings.TrimPrefix(err.Error(), "calendar: "))
	}
	return o, nil
}

// scalar returns the text of a single, non-empty value.
func scalar(n *yaml.Node, path, want string) (string, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return "", wrongKind(n, path, want)
	}
	return n.Value, nil
}

type entry struct {
	key   string
	value *yaml.Node
}

// entries returns the keys and values of a mapping in file order, refusing
// anything else, keys that are not single values, and repeated keys.
func entries(n *yaml.Node, path, want string) ([]entry, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, wrongKind(n, path, want)
	}
	out := make([]entry, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			return nil, pathErrorf(path, "a key is %s; keys must be names", describe(k))
		}
		for _, e := range out {
			if e.key == k.Value {
				return nil, pathErrorf(path, "key %q appears twice", k.Value)
			}
		}
		out = append(out, entry{key: k.Value, value: n.Content[i+1]})
	}
	return out, nil
}

// resolve follows aliases ("*name") to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func wrongKind(n *yaml.Node, path, want string) error {
	return pathErrorf(path, "want %s, not %s", want, describe(n))
}

// describe says what a node is, quoting any text from the input.
func describe(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "an empty value"
	case n.Kind == yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.DocumentNode:
		return "a document"
	default:
		return "an alias"
	}
}
