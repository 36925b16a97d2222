package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// TestTemporalHoldsNoPersonalData raises a concern and carries it a step, then reads the
// workflow's history as Temporal stores it (raw, without the service's codec): the raise and
// the Updates are there, sealed, and none of the adult's details can be read.
func TestTemporalHoldsNoPersonalData(t *testing.T) {
	svc := startService(t, env{})
	ref := svc.raise(t)
	if res := svc.do("POST", "/api/v1/concerns/"+ref+"/triage", lead,
		strings.NewReader(`{"decision":"no_further_action","rationale":"`+subjectName+` is not in need of care and support."}`)); res.status != 200 {
		t.Fatalf("triage: %d %s", res.status, res.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	it := svc.svc.client.GetWorkflowHistory(ctx, ref, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	// history is the events as JSON (payload bytes in base64), raw the events as stored bytes,
	// where an unsealed payload's JSON would be readable as it is.
	var history, raw strings.Builder
	events, sealed := 0, 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events++
		b, err := protojson.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		history.Write(b)
		history.WriteByte('\n')
		wire, err := proto.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		raw.Write(wire)
	}
	sealed = strings.Count(history.String(), "YmluYXJ5L3NhZmVndWFyZC1hZXMyNTZnY20=") // base64 of the sealed encoding's name
	if events < 5 || sealed < 3 {
		t.Fatalf("history has %d events and %d sealed payloads; want the raise and the triage in it, sealed", events, sealed)
	}
	if !strings.Contains(raw.String(), ref) {
		t.Fatal("the raw history does not even hold the reference: the check below would prove nothing")
	}
	assertNoPersonalData(t, "the workflow history in Temporal", raw.String())
	if strings.Contains(raw.String(), "is not in need of care") {
		t.Error("the triage rationale is readable in Temporal's history")
	}
}
