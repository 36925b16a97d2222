package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/config"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// TestBenchDrivesTheRealServiceAtTheRateAsked runs the full mix for a few seconds against the
// real service in this process and checks the report against what the service recorded: every
// arrival is counted once, each raise the report counts as successful is a row in the database,
// the lifecycle is walked in order, and the latencies are real and ordered.
func TestBenchDrivesTheRealServiceAtTheRateAsked(t *testing.T) {
	svc := startService(t, env{"DATABASE_URL": sqltest.SQLite(t)})
	tokens := map[string]string{}
	for _, u := range demoUsers {
		tokens[string(u.Role)] = svc.tokens[u.Email]
	}
	const rate, duration = 25.0, 3 * time.Second
	r := runLoad(context.Background(), &benchOptions{base: svc.base, tokens: tokens, mix: "full", rate: rate, duration: duration,
		runID: "test", maxInFlight: 1000, timeout: 20 * time.Second})

	if want := int(rate * duration.Seconds()); r.total.count != want {
		t.Errorf("%d arrivals counted, want %d (rate × duration)", r.total.count, want)
	}
	if r.total.ok != r.total.count {
		t.Errorf("%d of %d requests failed: %s", r.total.count-r.total.ok, r.total.count, r.total.errors())
	}
	sum := 0
	for _, s := range r.ops {
		sum += s.count
	}
	if sum != r.total.count {
		t.Errorf("the operations add up to %d requests, the total says %d", sum, r.total.count)
	}
	raise := r.ops["raise"]
	if raise == nil || raise.ok == 0 {
		t.Fatalf("no successful raise in the report: %+v", r.ops)
	}
	var rows int
	if err := svc.db().Get(&rows, "SELECT COUNT(*) FROM concerns"); err != nil {
		t.Fatal(err)
	}
	if rows != raise.ok {
		t.Errorf("the report counts %d raises, the database holds %d concerns", raise.ok, rows)
	}
	// Steps are taken in order on concerns that have answered the previous one, so no step can
	// have succeeded more often than the one before it.
	prev := raise.ok
	for _, s := range lifecycleSteps {
		n := 0
		if st := r.ops[s.op]; st != nil {
			n = st.ok
		}
		if n > prev {
			t.Errorf("%s succeeded %d times, more than the step before it (%d)", s.op, n, prev)
		}
		prev = n
	}
	if st := r.ops["acknowledge"]; st == nil || st.ok == 0 {
		t.Errorf("no concern was acknowledged: %+v", r.ops)
	}
	if st := r.ops["read"]; st == nil || st.ok == 0 {
		t.Errorf("no concern was read back: %+v", r.ops)
	}
	for op, s := range r.ops {
		if s.p50 <= 0 || s.p50 > s.p95 || s.p95 > s.p99 || s.p99 > s.max || s.max > r.elapsed {
			t.Errorf("%s latencies not ordered or not real: p50 %s p95 %s p99 %s max %s (run %s)", op, s.p50, s.p95, s.p99, s.max, r.elapsed)
		}
	}
	if got := r.throughput(&r.total); got < 0.8*rate || got > 1.2*rate {
		t.Errorf("throughput %.1f/s, offered %.1f/s", got, rate)
	}
	var out bytes.Buffer
	r.print(&out, "full mix")
	t.Log(out.String())
	for _, want := range []string{"raise", "acknowledge", "p99 ms", "total"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the printed report lacks %q:\n%s", want, out.String())
		}
	}

	t.Run("a second run with the same options raises new concerns, as each step of a ramp does", func(t *testing.T) {
		again := runLoad(context.Background(), &benchOptions{base: svc.base, tokens: tokens, mix: "raise", rate: rate, duration: time.Second,
			runID: "test", maxInFlight: 1000, timeout: 20 * time.Second})
		var after int
		if err := svc.db().Get(&after, "SELECT COUNT(*) FROM concerns"); err != nil {
			t.Fatal(err)
		}
		if got := again.ops["raise"]; got == nil || got.ok == 0 || after != rows+got.ok {
			t.Errorf("the second run counts %+v raises; the database went from %d to %d concerns", got, rows, after)
		}
	})
}

// TestBenchLatencyCountsFromTheDueTime gives the loop a server that answers only one request at a
// time, slowly: an open loop keeps sending on schedule instead of waiting for answers, and the
// requests that queued behind the slow ones are charged for the wait.
func TestBenchLatencyCountsFromTheDueTime(t *testing.T) {
	lock := make(chan struct{}, 1)
	fire := func(context.Context) (string, int) {
		lock <- struct{}{}
		time.Sleep(50 * time.Millisecond)
		<-lock
		return "slow", 200
	}
	// 40/s offered to a server that manages 20/s: after 1s about 20 requests are still queued,
	// the last of them waiting about a second.
	r := openLoop(context.Background(), 40, time.Second, 1000, fire)
	s := r.ops["slow"]
	if s == nil || s.count != 40 {
		t.Fatalf("report %+v, want 40 requests", r.ops)
	}
	if r.sending > 1100*time.Millisecond {
		t.Errorf("sending took %s: the loop waited for answers instead of keeping to the schedule", r.sending)
	}
	if s.max < 800*time.Millisecond || s.p50 < 300*time.Millisecond {
		t.Errorf("p50 %s, max %s: the queueing behind a slow server was not counted", s.p50, s.max)
	}
}

func TestBenchReadsTokensFromDemoOutput(t *testing.T) {
	out := `ROLE              ORGANISATION  EMAIL                           API TOKEN
prison_lead       LEI           lead@prison.example.org         sgt_lead
prison_manager    LEI           manager@prison.example.org      sgt_mgr
la_practitioner   E08000035     practitioner@leeds.example.org  sgt_prac
partner           LEI-HEALTH    nurse@nhs.example.org           sgt_nurse
`
	tokens, err := parseDemoTokens(strings.NewReader(out))
	if err != nil || tokens[string(safeguard.RolePrisonLead)] != "sgt_lead" || tokens[string(safeguard.RolePartner)] != "sgt_nurse" {
		t.Errorf("tokens %v, %v", tokens, err)
	}
	if _, err := parseDemoTokens(strings.NewReader(strings.Replace(out, "sgt_nurse", "", 1))); err == nil {
		t.Error("demo output without a partner token was accepted")
	}
}

func TestBenchDrivesOnlyThisMachine(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"} {
		if err := checkLoopback(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:8080", "http://example.org", "ftp://127.0.0.1/"} {
		if err := checkLoopback(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

// TestBenchBaselineCompletesEmptyWorkflows starts its own embedded Temporal server, as the
// baseline mode does, and checks that each counted workflow really ran to completion.
func TestBenchBaselineCompletesEmptyWorkflows(t *testing.T) {
	cfg, err := config.Load(env{"SAFEGUARD_DATA_DIR": t.TempDir()}.get)
	if err != nil {
		t.Fatal(err)
	}
	b, err := startBaseline(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.stop()
	r := openLoop(context.Background(), 20, time.Second, 1000, b.fire)
	s := r.ops["empty_workflow"]
	if s == nil || s.count != 20 || s.ok != 20 {
		t.Fatalf("report %+v, want 20 completed workflows", r.ops)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	last := fmt.Sprintf("bench-%s-%d", b.runID, b.started.Load())
	d, err := b.client.DescribeWorkflowExecution(ctx, last, "")
	if err != nil || d.WorkflowExecutionInfo.Status.String() != "Completed" {
		t.Errorf("the last empty workflow: %v %v", d, err)
	}
}

// BenchmarkRaiseOverHTTP raises concerns over HTTP on the real service in this process, from
// 16 callers at once, so that a CPU profile shows where a raise's time goes (the service, its
// embedded Temporal server and SQLite all in one profile):
//
//	go test -run '^$' -bench RaiseOverHTTP -benchtime 600x -cpuprofile /tmp/raise.cpu ./cmd/safeguard/
func BenchmarkRaiseOverHTTP(b *testing.B) {
	dir := b.TempDir()
	e := env{"SAFEGUARD_DATA_DIR": dir, "SAFEGUARD_ADDR": "127.0.0.1:0"}
	if url := os.Getenv("SAFEGUARD_BENCH_DATABASE_URL"); url != "" {
		e["DATABASE_URL"] = url
	}
	cfg, err := config.Load(e.get)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := start(context.Background(), cfg, modeServe, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	defer svc.stop()
	var out bytes.Buffer
	if code := run(context.Background(), []string{"demo"}, e.get, strings.NewReader(""), &out, io.Discard); code != 0 {
		b.Fatalf("demo exited %d", code)
	}
	tokens, err := parseDemoTokens(&out)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var seq atomic.Int64
	b.SetParallelism(8) // × GOMAXPROCS callers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, "http://"+svc.addr+"/api/v1/concerns", strings.NewReader(benchRaise))
			req.Header.Set("Authorization", "Bearer "+tokens[string(safeguard.RolePrisonLead)])
			req.Header.Set("Idempotency-Key", fmt.Sprintf("benchmark-%d", seq.Add(1)))
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				b.Errorf("raise: %d", res.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "raises/s")
}

// TestBenchCompareRampsBothUntilEachFails feeds the interleaved ramp two pretend systems, one
// that keeps up to 12/s and one to 20/s: each must stop at its own ceiling, and the one that
// fails first must not stop the other.
func TestBenchCompareRampsBothUntilEachFails(t *testing.T) {
	system := func(ceiling float64) func(context.Context, float64, time.Duration) *report {
		return func(_ context.Context, rate float64, d time.Duration) *report {
			var samples []sample
			for i := range int(rate * d.Seconds()) {
				status := 200
				if rate > ceiling && i%2 == 0 {
					status = 503
				}
				samples = append(samples, sample{op: "x", status: status, latency: time.Millisecond})
			}
			return newReport(rate, d, d, samples)
		}
	}
	var out bytes.Buffer
	o := rampOptions{step: time.Second, factor: 1.25, maxP99: time.Second, budget: time.Minute}
	best, err := compareMax(context.Background(), &out, 8, o, system(20), system(12))
	if err != nil {
		t.Fatal(err)
	}
	// 8, 10, 12.5, 15.6, 19.5, 24.4: the highest at or under each ceiling.
	if best[0] != 19.53125 || best[1] != 10 {
		t.Errorf("maxima %v, want [19.53125 10]\n%s", best, out.String())
	}
}
