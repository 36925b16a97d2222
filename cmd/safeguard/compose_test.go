package main

import (
	"os"
	"strings"
	"testing"

	"github.com/safeguard-project/safeguard/embedded"
)

// TestComposeRegistersTheSearchAttributes checks that the scaled stack's namespace job creates
// every search attribute the embedded server registers, so workflows behave alike in both.
func TestComposeRegistersTheSearchAttributes(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{"INDEXED_VALUE_TYPE_KEYWORD": "Keyword", "INDEXED_VALUE_TYPE_DATETIME": "Datetime"}
	for name, typ := range embedded.SearchAttributes {
		if want := "--name " + name + " --type " + types[typ.String()]; !strings.Contains(string(b), want) {
			t.Errorf("docker-compose.yml does not create search attribute %s (want %q)", name, want)
		}
	}
}
