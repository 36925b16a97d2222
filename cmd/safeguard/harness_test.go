package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/safeguard-project/safeguard/config"
)

// syncBuffer collects a service's log lines; the service writes from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a test's configuration, as the environment would give it.
type env map[string]string

func (e env) get(name string) string { return e[name] }

// running is a service started in-process by a test, with what the test needs to look inside.
type running struct {
	t      *testing.T
	svc    *service
	cfg    *config.Config
	base   string
	logs   *syncBuffer
	tokens map[string]string // demo email -> API token
}

// startService runs `safeguard serve` in this process with the given environment (the data
// directory defaults to a temporary one) and creates the demo users.
func startService(t *testing.T, e env) *running {
	t.Helper()
	if e["SAFEGUARD_DATA_DIR"] == "" {
		e["SAFEGUARD_DATA_DIR"] = t.TempDir()
	}
	if e["SAFEGUARD_ADDR"] == "" {
		e["SAFEGUARD_ADDR"] = "127.0.0.1:0"
	}
	cfg, err := config.Load(e.get)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx := context.Background()
	svc, err := start(ctx, cfg, modeServe, logs)
	if err != nil {
		t.Fatalf("start: %v\n%s", err, logs.String())
	}
	r := &running{t: t, svc: svc, cfg: cfg, base: "http://" + svc.addr, logs: logs}
	t.Cleanup(func() {
		if err := svc.stop(); err != nil {
			t.Logf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("service log:\n%s", logs.String())
		}
		assertNoPersonalData(t, "the service log", logs.String())
	})
	r.tokens = demoTokens(t, e)
	return r
}

// demoTokens runs `safeguard demo` against the environment and returns email -> token.
func demoTokens(t *testing.T, e env) map[string]string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"demo"}, e.get, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("safeguard demo exited %d: %s", code, errOut.String())
	}
	tokens := map[string]string{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && strings.HasPrefix(f[3], "sgt_") {
			tokens[f[2]] = f[3]
		}
	}
	if len(tokens) != len(demoUsers) {
		t.Fatalf("demo printed %d tokens, want %d:\n%s", len(tokens), len(demoUsers), out.String())
	}
	return tokens
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorBody is the API's error shape.
type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// testClient gives up on an answer that never comes, so a hung request fails its test instead
// of the whole run.
var testClient = &http.Client{Timeout: 90 * time.Second}

// do sends a request as the demo user with that email ("" for none).
func (r *running) do(method, path, email string, body io.Reader, headers ...string) response {
	r.t.Helper()
	req, err := http.NewRequest(method, r.base+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	if email != "" {
		tok, ok := r.tokens[email]
		if !ok {
			tok = email // a raw token
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := testClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// db opens the service's database directly, to check what was and was not written.
func (r *running) db() *sqlx.DB {
	r.t.Helper()
	return r.svc.db.DB
}

// counts returns the number of rows in each table a raise writes.
func counts(t *testing.T, db *sqlx.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"concerns", "concern_orgs", "timeline", "outbox", "reference_counters", "idempotency_keys"} {
		var n int
		if err := db.Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

// workflowStatus describes the concern's workflow in Temporal.
func (r *running) workflowStatus(ref string) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := r.svc.client.DescribeWorkflowExecution(ctx, ref, "")
	if err != nil {
		r.t.Fatalf("describe workflow %s: %v", ref, err)
	}
	return d.WorkflowExecutionInfo.Status.String()
}
