package main

// Open concerns at scale: many concerns open at once, each a running workflow with live durable
// timers, while the worker's memory is sampled and probe concerns' ladder steps are timed.
// TestOpenConcernsAtScale runs only with SAFEGUARD_OPEN_N set (see docs/performance.md, "Open
// concerns: memory and timer lateness"); TestOpenConcernsWorkerChild is the worker process it
// starts, and skips unless started so.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	_ "net/http/pprof" // the worker child's /debug/pprof, for its heap profile
	"net/mail"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/worker"

	"github.com/safeguard-project/safeguard/config"
	"github.com/safeguard-project/safeguard/embedded"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// openBulkPolicy keeps every bulk concern open with live timers that do not fire during the
// measurement: both clocks a raise starts (LA acknowledgement, triage decision) are due in 24 h,
// with a reminder an hour before and the overdue notice at due. The workflow holds one durable
// timer, for the earliest rung (23 h away).
const openBulkPolicy = `
timezone: Europe/London
calendar: england-and-wales
clocks:
  la_acknowledgement: {due: 24h, ladder: [{at: -1h, notify: [responsible_inbox]}, {at: 0, notify: [responsible_inbox]}]}
  triage_decision: {due: 24h, ladder: [{at: -1h, notify: [responsible_inbox]}, {at: 0, notify: [responsible_inbox]}]}
  la_contribution: {due: 24h, ladder: []}
  enquiry_completion: {due: 24h, ladder: []}
  closure_signoff: {due: 24h, ladder: []}
  handover_acknowledgement: {due: 24h, ladder: []}
`

// openProbePolicy is the probes' policy: the LA acknowledgement's overdue notice falls due `due`
// after the raise (the step that is timed), and a second rung a day later keeps a live timer
// once it has fired, as does the triage clock; the probe stays open.
func openProbePolicy(due time.Duration) string {
	return fmt.Sprintf(`
timezone: Europe/London
calendar: england-and-wales
clocks:
  la_acknowledgement: {due: %s, ladder: [{at: 0, notify: [responsible_inbox]}, {at: 24h, notify: [responsible_inbox]}]}
  triage_decision: {due: 24h, ladder: [{at: 0, notify: [responsible_inbox]}]}
  la_contribution: {due: 24h, ladder: []}
  enquiry_completion: {due: 24h, ladder: []}
  closure_signoff: {due: 24h, ladder: []}
  handover_acknowledgement: {due: 24h, ladder: []}
`, due.Round(time.Second))
}

// stepRelay is an SMTP server on a loopback port that keeps, with its arrival time, only the
// ladder steps it is asked to time (the raise notifications, two per concern, are counted).
type stepRelay struct {
	ln     net.Listener
	srv    *smtp.Server
	mu     sync.Mutex
	steps  []received
	others atomic.Int64
}

func startStepRelay(t *testing.T) *stepRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &stepRelay{ln: ln}
	r.srv = smtp.NewServer(r)
	r.srv.Domain = "localhost"
	r.srv.AllowInsecureAuth = true
	r.srv.ReadTimeout, r.srv.WriteTimeout = 10*time.Second, 10*time.Second
	r.srv.MaxRecipients = 10
	go r.srv.Serve(ln)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *stepRelay) URL() string { return "smtp://" + r.ln.Addr().String() + "?tls=none" }

func (r *stepRelay) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.steps)
}

func (r *stepRelay) NewSession(*smtp.Conn) (smtp.Session, error) { return &stepSession{r: r}, nil }

type stepSession struct{ r *stepRelay }

func (*stepSession) Reset()                               {}
func (*stepSession) Logout() error                        { return nil }
func (*stepSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*stepSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x *stepSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	at := time.Now()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unreadable message"}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subject = m.Header.Get("Subject")
	}
	if !isAckStep(subject) {
		x.r.others.Add(1)
		return nil
	}
	x.r.mu.Lock()
	x.r.steps = append(x.r.steps, received{at: at, messageID: m.Header.Get("Message-Id"), subject: subject})
	x.r.mu.Unlock()
	return nil
}

// isAckStep is the LA acknowledgement's ladder message (as in TestLadderBurstLoad).
func isAckStep(subject string) bool {
	return strings.Contains(subject, "acknowledgement by the host local authority")
}

// memSample is one process's memory at one moment.
type memSample struct {
	RSS, HWM     int64  // VmRSS, VmHWM from /proc/<pid>/status, bytes
	HeapAlloc    uint64 // live heap after a forced GC
	HeapSys      uint64
	Sys          uint64 // all memory the Go runtime holds from the OS
	StackInuse   uint64
	NumGoroutine int
}

func (m memSample) String() string {
	return fmt.Sprintf("RSS %s (peak %s), heap live %s, Go sys %s, stacks %s, %d goroutines",
		mib(m.RSS), mib(m.HWM), mib(int64(m.HeapAlloc)), mib(int64(m.Sys)), mib(int64(m.StackInuse)), m.NumGoroutine)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// procStatus reads VmRSS and VmHWM of a process ("self" or a pid).
func procStatus(pid string) (rss, hwm int64) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return -1, -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			if f[0] == "VmRSS:" {
				rss = kb << 10
			} else {
				hwm = kb << 10
			}
		}
	}
	return rss, hwm
}

// selfMem samples this process: RSS first (as it is), then the Go heap after a GC.
func selfMem() memSample {
	var s memSample
	s.RSS, s.HWM = procStatus("self")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.HeapAlloc, s.HeapSys, s.Sys, s.StackInuse, s.NumGoroutine = ms.HeapAlloc, ms.HeapSys, ms.Sys, ms.StackInuse, runtime.NumGoroutine()
	return s
}

// TestOpenConcernsWorkerChild is `safeguard worker` in a process of its own, started by
// TestOpenConcernsAtScale, with a loopback debug server for its memory (/memstats) and heap
// profile (/debug/pprof/heap). SAFEGUARD_OPEN_STICKY sets the SDK's sticky workflow cache size.
func TestOpenConcernsWorkerChild(t *testing.T) {
	if os.Getenv("SAFEGUARD_OPEN_CHILD") != "1" {
		t.Skip("the worker process of TestOpenConcernsAtScale")
	}
	if n, err := strconv.Atoi(os.Getenv("SAFEGUARD_OPEN_STICKY")); err == nil && n > 0 {
		worker.SetStickyWorkflowCacheSize(n)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	http.HandleFunc("/memstats", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(selfMem())
	})
	go http.Serve(ln, nil)
	if err := os.WriteFile(os.Getenv("SAFEGUARD_OPEN_CHILD_ADDR"), []byte(ln.Addr().String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if code := run(ctx, []string{"worker"}, os.Getenv, strings.NewReader(""), os.Stdout, os.Stderr); code != 0 {
		t.Fatalf("safeguard worker exited %d", code)
	}
}

// workerChild is the running worker process.
type workerChild struct {
	cmd   *exec.Cmd
	debug string // its debug server's address
	done  chan error
}

func startWorkerChild(t *testing.T, e env, logPath string) *workerChild {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "child.addr")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestOpenConcernsWorkerChild$", "-test.v", "-test.timeout", "0")
	cmd.Env = append(os.Environ(), "SAFEGUARD_OPEN_CHILD=1", "SAFEGUARD_OPEN_CHILD_ADDR="+addrFile)
	for k, v := range e {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &workerChild{cmd: cmd, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-c.done
		}
	})
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			c.debug = string(b)
			return c
		}
	}
	t.Fatalf("the worker process did not start; its log is %s", logPath)
	return nil
}

// mem samples the worker process: RSS from /proc, the Go heap from its debug server.
func (c *workerChild) mem(t *testing.T) memSample {
	t.Helper()
	rss, hwm := procStatus(strconv.Itoa(c.cmd.Process.Pid))
	var s memSample
	res, err := http.Get("http://" + c.debug + "/memstats")
	if err != nil {
		t.Fatalf("worker memstats: %v", err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		t.Fatalf("worker memstats: %v", err)
	}
	s.RSS, s.HWM = rss, hwm
	return s
}

func (c *workerChild) heapProfile(t *testing.T, path string) {
	res, err := http.Get("http://" + c.debug + "/debug/pprof/heap")
	if err != nil {
		t.Logf("worker heap profile: %v", err)
		return
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Logf("worker heap profile: %v", err)
	}
}

// openPoint is what was measured with a number of concerns open.
type openPoint struct {
	open                 int // concerns open (raised and not closed) before the probes
	workflows            int64
	at                   time.Time
	load                 string
	worker, server       memSample // worker process; the process with the Temporal server and the API
	probes               int
	arrived, missing     int
	twice, early         int
	p50, p95, p99, max   time.Duration // lateness of the probes' steps: mail received - due
	workerAfter          memSample     // after the probes' steps fired
	raisedSince          int
	raiseTime            time.Duration // raising the bulk concerns since the previous point
	firstDue, lastDue    time.Time
	lastArrivalAfterLast time.Duration
}

func (p openPoint) String() string {
	return fmt.Sprintf("open %d (%d running workflows), %s, at %s\n  worker: %s\n  server+api: %s\n  probes: %d, %d arrived, %d missing, %d twice, %d early; due %s–%s; lateness p50 %s p95 %s p99 %s max %s\n  worker after the probes: %s\n  bulk raised before this point: %d in %s (%.1f/s)",
		p.open, p.workflows, p.load, p.at.UTC().Format("15:04:05"), p.worker, p.server,
		p.probes, p.arrived, p.missing, p.twice, p.early, p.firstDue.UTC().Format("15:04:05"), p.lastDue.UTC().Format("15:04:05"),
		p.p50.Round(time.Millisecond), p.p95.Round(time.Millisecond), p.p99.Round(time.Millisecond), p.max.Round(time.Millisecond),
		p.workerAfter, p.raisedSince, p.raiseTime.Round(time.Second), float64(p.raisedSince)/max(p.raiseTime.Seconds(), 0.001))
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a whole number", name, s)
	}
	return n
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return d
}

// TestOpenConcernsAtScale is the open-concerns target of issue 7: SAFEGUARD_OPEN_N concerns
// (50,000 for the target) open at once, each a running Concern workflow with live timers,
// raised over the API; the worker's resident memory must stay under 1 GiB and the probes'
// timer lateness p99 under 2 s. The layout is the split deployment on the embedded server: this
// process runs the embedded Temporal server (SQLite, WAL) and the API (`safeguard api`, twice:
// one with the bulk policy, one with the probes'), and `safeguard worker` runs in a child
// process, so that the worker's memory is its own. Mail goes to an SMTP server here.
//
// At 0 and every SAFEGUARD_OPEN_STEP open concerns (default N/5), raising stops and the test
// samples both processes' memory, then raises SAFEGUARD_OPEN_PROBES probes (default 200) at
// SAFEGUARD_OPEN_PROBE_RATE a second (default 10) whose overdue notice falls due
// SAFEGUARD_OPEN_PROBE_DUE (default 40s) after each one's raise, so that the steps fire at that
// rate while nothing else runs, and times each step's mail. Every probe's step must arrive
// once, none early. Other settings: SAFEGUARD_OPEN_DB=postgres (PostgreSQL as the record),
// SAFEGUARD_OPEN_STICKY (the worker's sticky workflow cache size; the SDK's default is 10,000),
// SAFEGUARD_OPEN_CALLERS (concurrent raises, default 16), SAFEGUARD_OPEN_PROFILE_DIR (heap
// profiles of both processes at the end).
func TestOpenConcernsAtScale(t *testing.T) {
	n := envInt(t, "SAFEGUARD_OPEN_N", 0)
	if n <= 0 {
		t.Skip("set SAFEGUARD_OPEN_N (e.g. 50000) to measure open concerns at scale")
	}
	step := envInt(t, "SAFEGUARD_OPEN_STEP", max(n/5, 1))
	probes := envInt(t, "SAFEGUARD_OPEN_PROBES", 200)
	probeRate := envInt(t, "SAFEGUARD_OPEN_PROBE_RATE", 10)
	probeDue := envDuration(t, "SAFEGUARD_OPEN_PROBE_DUE", 40*time.Second)
	callers := envInt(t, "SAFEGUARD_OPEN_CALLERS", 16)
	profileDir := os.Getenv("SAFEGUARD_OPEN_PROFILE_DIR")
	if time.Duration(probes/max(probeRate, 1))*time.Second >= probeDue {
		t.Fatalf("the probes take longer to raise (%d at %d/s) than their due (%s): their steps would fire while probes are raised", probes, probeRate, probeDue)
	}
	db := sqltest.SQLite(t)
	store := "SQLite"
	if os.Getenv("SAFEGUARD_OPEN_DB") == "postgres" {
		db, store = sqltest.Postgres(t), "PostgreSQL"
	}
	t.Logf("open concerns: %d, a point every %d, %d probes a point at %d/s due %s, record %s, sticky cache %q, %s",
		n, step, probes, probeRate, probeDue, store, os.Getenv("SAFEGUARD_OPEN_STICKY"), machineLine())

	// One key for every process, as the split deployment requires.
	raw := make([]byte, 32)
	rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	relay := startStepRelay(t)
	temporalDir := t.TempDir()
	base := env{"DATABASE_URL": db, "SMTP_URL": relay.URL(), "SAFEGUARD_PAYLOAD_KEY": key}
	cfg0, err := config.Load(base.get)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	ts, err := embedded.Start(embedded.Options{DataDir: temporalDir, Namespace: cfg0.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ts.Stop(); err != nil {
			t.Logf("stop temporal: %v", err)
		}
	})
	t.Logf("embedded temporal server started in %s at %s", time.Since(t0).Round(time.Millisecond), ts.HostPort())
	base["TEMPORAL_ADDRESS"] = ts.HostPort()

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"migrate"}, base.get, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("migrate exited %d: %s", code, errOut.String())
	}
	tokens := demoTokens(t, base)
	token := tokens[lead]

	// The worker, in its own process.
	workerEnv := env{"SAFEGUARD_DATA_DIR": t.TempDir()}
	for k, v := range base {
		workerEnv[k] = v
	}
	if s := os.Getenv("SAFEGUARD_OPEN_STICKY"); s != "" {
		workerEnv["SAFEGUARD_OPEN_STICKY"] = s
	}
	workerLog := filepath.Join(t.TempDir(), "worker.log")
	if profileDir != "" {
		workerLog = filepath.Join(profileDir, "worker.log")
	}
	child := startWorkerChild(t, workerEnv, workerLog)

	// The two API processes' worth, here: bulk and probe policies.
	startAPI := func(policy string) *service {
		t.Helper()
		e := env{"SAFEGUARD_DATA_DIR": t.TempDir(), "SAFEGUARD_ADDR": "127.0.0.1:0", "SAFEGUARD_POLICY_FILE": writePolicy(t, policy)}
		for k, v := range base {
			e[k] = v
		}
		cfg, err := config.Load(e.get)
		if err != nil {
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		svc, err := start(context.Background(), cfg, modeAPI, logs)
		if err != nil {
			t.Fatalf("start api: %v\n%s", err, logs.String())
		}
		t.Cleanup(func() {
			if err := svc.stop(); err != nil {
				t.Logf("stop api: %v", err)
			}
			if t.Failed() {
				out := logs.String()
				t.Logf("api log (tail):\n%s", out[max(0, len(out)-3000):])
			}
		})
		return svc
	}
	bulkAPI := startAPI(openBulkPolicy)
	probeAPI := startAPI(openProbePolicy(probeDue))
	client := &http.Client{Timeout: 60 * time.Second}

	running := func() int64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err := bulkAPI.client.WorkflowService().CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Namespace: cfg0.Namespace, Query: "WorkflowType = 'Concern' AND ExecutionStatus = 'Running'",
		})
		if err != nil {
			t.Logf("count workflows: %v", err)
			return -1
		}
		return res.GetCount()
	}

	var seq atomic.Int64
	stamp := time.Now().UnixNano()
	open := 0
	// raiseBulk raises until `until` concerns are open, with `callers` closed-loop callers.
	raiseBulk := func(until int) (int, time.Duration) {
		began := time.Now()
		var todo atomic.Int64
		todo.Store(int64(until - open))
		var got, failed atomic.Int64
		var wg sync.WaitGroup
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for todo.Add(-1) >= 0 {
					k := fmt.Sprintf("open-bulk-%d-%d", stamp, seq.Add(1))
					var err error
					for try := 0; try < 5; try++ { // the same key: a recorded raise answers with its concern
						if _, _, err = raiseOnce(client, "http://"+bulkAPI.addr, token, k); err == nil {
							break
						}
						time.Sleep(time.Second)
					}
					if err != nil {
						if failed.Add(1) <= 3 {
							t.Logf("raise: %v", err)
						}
						continue
					}
					if c := got.Add(1); c%2000 == 0 {
						t.Logf("  %d of %d raised (%s, %s)", open+int(c), until, time.Since(began).Round(time.Second), loadAverage())
					}
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 {
			t.Fatalf("%d raises failed after five tries", failed.Load())
		}
		open += int(got.Load())
		return int(got.Load()), time.Since(began)
	}

	// probe raises k probes paced at probeRate and times their steps.
	probe := func(p *openPoint) {
		due := map[string]time.Time{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		began := time.Now()
		for i := range probes {
			at := began.Add(time.Duration(i) * time.Second / time.Duration(probeRate))
			time.Sleep(time.Until(at))
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := fmt.Sprintf("open-probe-%d-%d", stamp, seq.Add(1))
				var ref string
				var d time.Time
				var err error
				for try := 0; try < 5; try++ {
					if ref, d, err = raiseOnce(client, "http://"+probeAPI.addr, token, k); err == nil {
						break
					}
					time.Sleep(time.Second)
				}
				if err != nil {
					t.Errorf("probe raise: %v", err)
					return
				}
				mu.Lock()
				due[ref] = d
				mu.Unlock()
			}()
		}
		wg.Wait()
		open += len(due)
		p.probes = len(due)
		for _, d := range due {
			if p.firstDue.IsZero() || d.Before(p.firstDue) {
				p.firstDue = d
			}
			if d.After(p.lastDue) {
				p.lastDue = d
			}
		}
		// Wait for one step per probe, up to two minutes after the last was due.
		isOurs := func(m received) bool { _, ok := due[refInSubject.FindString(m.subject)]; return ok }
		for deadline := p.lastDue.Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			seen := map[string]bool{}
			for _, m := range relay.messages() {
				if isOurs(m) {
					seen[m.messageID] = true
				}
			}
			if len(seen) >= len(due) {
				break
			}
		}
		time.Sleep(3 * time.Second) // a copy sent twice would arrive now
		byID := map[string]int{}
		stepsOf := map[string]int{}
		var late []time.Duration
		var last time.Time
		for _, m := range relay.messages() {
			if !isOurs(m) {
				continue
			}
			if byID[m.messageID]++; byID[m.messageID] > 1 {
				p.twice++
				continue
			}
			ref := refInSubject.FindString(m.subject)
			if stepsOf[ref]++; stepsOf[ref] > 1 {
				p.twice++
				continue
			}
			p.arrived++
			l := m.at.Sub(due[ref])
			if l < 0 {
				p.early++
			}
			late = append(late, l)
			if m.at.After(last) {
				last = m.at
			}
		}
		p.missing = p.probes - p.arrived
		if !last.IsZero() {
			p.lastArrivalAfterLast = last.Sub(p.lastDue)
		}
		if len(late) > 0 {
			slices.Sort(late)
			at := func(q float64) time.Duration {
				i := int(q*float64(len(late))+0.999999) - 1
				return late[max(0, min(i, len(late)-1))]
			}
			p.p50, p.p95, p.p99, p.max = at(0.50), at(0.95), at(0.99), late[len(late)-1]
		}
	}

	var points []openPoint
	raised, took := 0, time.Duration(0)
	for target := 0; ; target = min(target+step, n) {
		if target > open {
			raised, took = raiseBulk(target)
		}
		time.Sleep(10 * time.Second) // let the last raises' mail and search attributes settle
		p := openPoint{open: open, at: time.Now(), load: loadAverage(), raisedSince: raised, raiseTime: took}
		p.workflows = running()
		p.worker = child.mem(t)
		p.server = selfMem()
		probe(&p)
		p.workerAfter = child.mem(t)
		t.Logf("point %d:\n%s", len(points), p)
		if p.missing != 0 || p.twice != 0 || p.early != 0 {
			t.Errorf("open %d: %d probe steps missing, %d sent twice, %d before their due time", p.open, p.missing, p.twice, p.early)
		}
		points = append(points, p)
		if target >= n {
			break
		}
	}
	if profileDir != "" {
		child.heapProfile(t, filepath.Join(profileDir, "worker.heap"))
		if f, err := os.Create(filepath.Join(profileDir, "server.heap")); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}

	// A sample of the bulk workflows: each still running with a timer started and not fired.
	checkTimers(t, bulkAPI, fmt.Sprintf("SG-LEI-%d-%05d", time.Now().Year(), 1))

	var b strings.Builder
	fmt.Fprintf(&b, "| open concerns | running workflows | worker RSS | worker peak RSS | worker heap live | worker goroutines | server+API RSS | server+API heap live | probe lateness p50 / p95 / p99 / max | missing / twice / early | load average |\n")
	for _, p := range points {
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %s | %d | %s | %s | %s / %s / %s / %s | %d / %d / %d | %s |\n",
			p.open, p.workflows, mib(p.worker.RSS), mib(p.worker.HWM), mib(int64(p.worker.HeapAlloc)), p.worker.NumGoroutine,
			mib(p.server.RSS), mib(int64(p.server.HeapAlloc)),
			p.p50.Round(time.Millisecond), p.p95.Round(time.Millisecond), p.p99.Round(time.Millisecond), p.max.Round(time.Millisecond),
			p.missing, p.twice, p.early, strings.TrimPrefix(p.load, "load average "))
	}
	t.Logf("summary (%s; %d mail other than the probes' steps received):\n%s", store, relay.others.Load(), b.String())
	last := points[len(points)-1]
	if last.worker.RSS >= 1<<30 || last.workerAfter.RSS >= 1<<30 {
		t.Errorf("worker RSS %s / %s with %d open, want under 1 GiB", mib(last.worker.RSS), mib(last.workerAfter.RSS), last.open)
	}
	if last.p99 >= 2*time.Second {
		t.Errorf("probe lateness p99 %s with %d open, want under 2 s", last.p99, last.open)
	}
}

// checkTimers reads the first bulk concern's history: its workflow must still be running with
// a timer started and neither fired nor cancelled since.
func checkTimers(t *testing.T, svc *service, ref string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := svc.client.DescribeWorkflowExecution(ctx, ref, "")
	if err != nil {
		t.Errorf("describe %s: %v", ref, err)
		return
	}
	if s := d.WorkflowExecutionInfo.Status; s != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("%s is %s, want running", ref, s)
	}
	live := map[string]bool{}
	it := svc.client.GetWorkflowHistory(ctx, ref, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	events := 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Errorf("history %s: %v", ref, err)
			return
		}
		events++
		switch e.EventType {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			live[e.GetTimerStartedEventAttributes().TimerId] = true
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			delete(live, e.GetTimerFiredEventAttributes().TimerId)
		case enumspb.EVENT_TYPE_TIMER_CANCELED:
			delete(live, e.GetTimerCanceledEventAttributes().TimerId)
		}
	}
	t.Logf("%s: running, %d history events, %d live timer(s)", ref, events, len(live))
	if len(live) == 0 {
		t.Errorf("%s has no live timer", ref)
	}
}
