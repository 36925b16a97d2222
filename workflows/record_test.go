package workflows

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/safeguard-project/safeguard/payload"
)

var (
	recordFrom     = flag.String("record-from", "", "the data directory of a running embedded instance to record a history from")
	recordWorkflow = flag.String("record-workflow", "", "the workflow ID (the concern's reference) to record")
	recordName     = flag.String("record-name", "", "write testdata/histories/NAME.json")
)

// TestRecordHistoryFromInstance is a tool, not a check. Payloads are sealed (package payload),
// which the replayer cannot open, so this reads a concern's history from a running embedded
// instance through the instance's own key and writes it with its payloads opened, for
// TestReplayRecordedHistories. The concern must be test data (testdata/raise.json): the file
// holds it in clear. How raised-v1 to raised-v3 were made (docs/performance.md has the rest):
//
//	D=$(mktemp -d); SAFEGUARD_DATA_DIR=$D SAFEGUARD_ADDR=127.0.0.1:18471 safeguard serve &
//	SAFEGUARD_DATA_DIR=$D safeguard demo > $D/tokens
//	# raise testdata/raise.json as the prison lead, acknowledge it as the LA practitioner
//	go test ./workflows/ -run TestRecordHistoryFromInstance -record-from=$D -record-workflow=SG-LEI-2026-00001 -record-name=raised-vN
func TestRecordHistoryFromInstance(t *testing.T) {
	if *recordFrom == "" || *recordWorkflow == "" || *recordName == "" {
		t.Skip("run with -record-from=DATADIR -record-workflow=REF -record-name=NAME to record a history")
	}
	ports, err := os.ReadFile(filepath.Join(*recordFrom, "temporal.ports"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := payload.KeyFromDataDir(*recordFrom)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := payload.NewCodec(key)
	if err != nil {
		t.Fatal(err)
	}
	open, err := converter.NewPayloadCodecGRPCClientInterceptor(converter.PayloadCodecGRPCClientInterceptorOptions{Codecs: []converter.PayloadCodec{codec}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(client.Options{HostPort: "127.0.0.1:" + strings.Fields(string(ports))[0], Namespace: "default",
		ConnectionOptions: client.ConnectionOptions{DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(open)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	iter := c.GetWorkflowHistory(context.Background(), *recordWorkflow, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
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
	path := filepath.Join("testdata", "histories", *recordName+".json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d events)", path, len(h.Events))
}
