package main

import (
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/safeguard-project/safeguard"
)

var recordHistory = flag.String("record-history", "", "raise a concern and write its workflow history to workflows/testdata/histories/NAME.json, for replay tests")

// TestRecordHistory is a tool, not a check: with -record-history=NAME it raises a concern on
// the real stack and saves the workflow's history so that workflows/replay_test.go can replay
// it against later versions of the workflow code.
func TestRecordHistory(t *testing.T) {
	if *recordHistory == "" {
		t.Skip("run with -record-history=NAME to record a workflow history")
	}
	svc := startService(t, env{})
	res := svc.do("POST", "/api/v1/concerns", lead, strings.NewReader(raiseBody(nil)))
	if res.status != http.StatusCreated {
		t.Fatalf("raise: %d %s", res.status, res.body)
	}
	var c safeguard.Concern
	res.json(t, &c)
	waitFor(t, 20e9, "mail held", func() bool {
		var n int
		svc.db().Get(&n, "SELECT COUNT(*) FROM outbox WHERE status = 'held'")
		return n == 2
	})
	iter := svc.svc.client.GetWorkflowHistory(context.Background(), c.Reference, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "workflows", "testdata", "histories", *recordHistory+".json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d events)", path, len(h.Events))
}
