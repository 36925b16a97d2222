package main

// safeguard bench: a load tool for a running instance. It sends requests at a fixed arrival
// rate (open loop: a slow answer never delays the next request), times each one from the moment
// it was due to be sent rather than from when it went out, so that a stalled server cannot hide
// its own queueing (coordinated omission), and reports throughput and latency per operation.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/config"
)

const benchSynopsis = `bench [--url URL] [--tokens FILE | --demo] [--mix full|raise] [--rate N] [--duration D]
                       [--find-max [--step D] [--factor F]] [--baseline] [--compare] [--baseline-rate N]`

// maxBenchDuration bounds any one run, so that a mistyped flag cannot load a machine for hours.
const maxBenchDuration = 15 * time.Minute

// benchOptions configures one load run.
type benchOptions struct {
	base     string            // http://127.0.0.1:PORT
	tokens   map[string]string // role -> API token
	mix      string            // "full" or "raise"
	rate     float64           // requests per second
	duration time.Duration
	runID    string // makes this run's Idempotency-Keys unique
	// maxInFlight bounds the requests outstanding at once; one due while that many are still
	// out is not sent and counts as "dropped" (the server is hopelessly behind).
	maxInFlight int
	timeout     time.Duration // per request
	client      *http.Client
}

func bench(ctx context.Context, cfg *config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("bench", benchSynopsis, stderr)
	base := fs.String("url", "http://"+cfg.Addr, "the instance to drive; only loopback addresses are accepted")
	tokensFile := fs.String("tokens", "", "a file holding the output of 'safeguard demo' (- for standard input)")
	seed := fs.Bool("demo", false, "run 'safeguard demo' against this environment's DATABASE_URL first and use its tokens")
	mix := fs.String("mix", "full", "full: raises, every lifecycle action in order on the concerns raised, reads and lists; raise: raises only")
	rate := fs.Float64("rate", 10, "requests (or, with --baseline, workflows) per second; with --find-max, the first step's rate")
	duration := fs.Duration("duration", 30*time.Second, "how long to run; with --find-max or --compare, the whole ramp's budget")
	findMax := fs.Bool("find-max", false, "ramp the rate step by step until it is no longer sustained; report the highest sustained")
	step := fs.Duration("step", 8*time.Second, "with --find-max, how long each step runs")
	factor := fs.Float64("factor", 1.25, "with --find-max, each step's rate over the last")
	maxP99 := fs.Duration("max-p99", time.Second, "with --find-max, a step whose p99 exceeds this is not sustained")
	baselineRate := fs.Float64("baseline-rate", 0, "with --baseline, the empty workflows' (first) rate, if not --rate")
	baseline := fs.Bool("baseline", false, "start and complete empty workflows on this environment's Temporal (the embedded default: a fresh embedded server) instead of driving HTTP")
	compare := fs.Bool("compare", false, "ramp empty workflows and raises together, a step of each at every rate, print the ratio of their maximum sustained rates, then run the full mix at half the raises' maximum")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if *duration <= 0 || *duration > maxBenchDuration || *rate <= 0 || *step <= 0 || *factor <= 1 {
		fmt.Fprintf(stderr, "bench: --duration must be in (0, %s], --rate and --step above 0, --factor above 1\n", maxBenchDuration)
		return errUsage
	}
	if *mix != "full" && *mix != "raise" {
		fmt.Fprintf(stderr, "bench: --mix is full or raise, not %q\n", *mix)
		return errUsage
	}
	fmt.Fprintf(stdout, "safeguard bench, %s, %s\n", time.Now().UTC().Format(time.RFC3339), machineLine())
	defer func() {
		fmt.Fprintf(stdout, "\nfinished %s, %s\n", time.Now().UTC().Format(time.RFC3339), loadAverage())
	}()
	ramp := rampOptions{step: *step, factor: *factor, maxP99: *maxP99, budget: *duration}

	if *baseline && !*compare {
		b, err := startBaseline(ctx, cfg)
		if err != nil {
			return err
		}
		rate := *rate
		if *baselineRate > 0 {
			rate = *baselineRate
		}
		if *findMax {
			_, err = findMaxRate(ctx, stdout, "empty workflows", rate, ramp, func(ctx context.Context, r float64, d time.Duration) *report {
				return openLoop(ctx, r, d, 10000, b.fire)
			})
		} else {
			openLoop(ctx, rate, *duration, 10000, b.fire).print(stdout, "empty workflows")
		}
		if stopErr := b.stop(); err == nil {
			err = stopErr
		}
		return err
	}

	opts := &benchOptions{base: strings.TrimRight(*base, "/"), mix: *mix, rate: *rate, duration: *duration,
		runID: strconv.FormatInt(time.Now().UnixNano(), 36), maxInFlight: 10000, timeout: 30 * time.Second}
	if err := checkLoopback(opts.base); err != nil {
		return err
	}
	var err error
	switch {
	case *seed:
		var out bytes.Buffer
		if err := demo(ctx, cfg, nil, &out, stderr); err != nil {
			return err
		}
		opts.tokens, err = parseDemoTokens(&out)
	case *tokensFile == "-":
		opts.tokens, err = parseDemoTokens(stdin)
	case *tokensFile != "":
		f, ferr := os.Open(*tokensFile)
		if ferr != nil {
			return ferr
		}
		opts.tokens, err = parseDemoTokens(f)
		f.Close()
	default:
		return fmt.Errorf("bench needs API tokens: --tokens FILE (the output of 'safeguard demo') or --demo")
	}
	if err != nil {
		return err
	}
	raiseStep := func(ctx context.Context, r float64, d time.Duration) *report {
		o := *opts
		o.mix, o.rate, o.duration = "raise", r, d
		return runLoad(ctx, &o)
	}

	if *compare {
		b, err := startBaseline(ctx, cfg)
		if err != nil {
			return err
		}
		defer b.stop()
		best, err := compareMax(ctx, stdout, *rate, ramp, func(ctx context.Context, r float64, d time.Duration) *report {
			return openLoop(ctx, r, d, 10000, b.fire)
		}, raiseStep)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nmaximum sustained raise rate %.1f/s = %.0f%% of the engine's empty-workflow rate %.1f/s\n",
			best[1], 100*best[1]/best[0], best[0])
		half := *opts
		half.mix, half.rate = "full", best[1]/2
		half.duration = min(*duration, 30*time.Second)
		fmt.Fprintf(stdout, "\nthe full mix at half that rate, %.1f requests/s for %s:\n", half.rate, half.duration)
		runLoad(ctx, &half).print(stdout, "full mix")
		return nil
	}
	if *findMax {
		_, err := findMaxRate(ctx, stdout, opts.mix, *rate, ramp, func(ctx context.Context, r float64, d time.Duration) *report {
			o := *opts
			o.rate, o.duration = r, d
			return runLoad(ctx, &o)
		})
		return err
	}
	runLoad(ctx, opts).print(stdout, opts.mix+" mix")
	return nil
}

// checkLoopback refuses to drive anything but this machine.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("bench: --url %q is not an http URL", base)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("bench: --url %q: only loopback addresses (127.0.0.1, ::1, localhost) may be driven", base)
	}
	return nil
}

// parseDemoTokens reads the table 'safeguard demo' prints (ROLE ORGANISATION EMAIL TOKEN) and
// returns role -> token. The roles the full mix acts as must all be there.
func parseDemoTokens(r io.Reader) (map[string]string, error) {
	tokens := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && strings.HasPrefix(f[3], "sgt_") {
			tokens[f[0]] = f[3]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, role := range []safeguard.Role{safeguard.RolePrisonLead, safeguard.RolePrisonManager, safeguard.RoleLAPractitioner, safeguard.RolePartner} {
		if tokens[string(role)] == "" {
			return nil, fmt.Errorf("bench: no %s token in the demo output", role)
		}
	}
	return tokens, nil
}

// A lifecycle step the full mix takes on a concern it raised, in the order of the lifecycle
// (the walk of cmd/safeguard/lifecycle_test.go without the detours).
type lifecycleStep struct {
	op, path string
	role     safeguard.Role
	body     string
}

var lifecycleSteps = []lifecycleStep{
	{"acknowledge", "acknowledge", safeguard.RoleLAPractitioner, `{}`},
	{"triage", "triage", safeguard.RolePrisonLead, `{"decision":"enquiry","rationale":"All three tests are met."}`},
	{"contribution_request", "contribution-requests", safeguard.RolePrisonLead, `{"organisation":"LEI-HEALTH","question":"Is a care assessment needed?"}`},
	{"contribution", "contributions", safeguard.RolePartner, `{"advice":"A nurse will review his medication.","care_assessment":"needed"}`},
	{"findings", "findings", safeguard.RolePrisonLead, `{"risk":"identified","action_taken":true,"risk_outcome":"reduced","summary":"Canteen returned; the other prisoner moved."}`},
	{"close_proposal", "close", safeguard.RolePrisonLead, `{"msp_outcomes":"fully","feedback_given":true}`},
	{"sign_off", "close", safeguard.RolePrisonManager, `{}`},
}

// benchRaise is the raise body: an invented adult, as in testdata/raise.json.
const benchRaise = `{"establishment":"LEI","subject":{"prison_number":"A1234BC","name":"Sample Person","date_of_birth":"1958-03-14","support_needs":["older_age","memory_cognition"]},` +
	`"categories":["financial","psychological"],"location_of_risk":"custody","source_of_risk":"other_known",` +
	`"summary":"Another prisoner is taking his canteen each week and threatening him if he tells staff.","immediate_risk":false,` +
	`"actions_taken":"Moved to another landing; spoke with him privately.","police_informed":false,"consent":{"given":true},` +
	`"capacity_concern":true,"desired_outcomes":{"asked":true,"outcomes":"To feel safe on the wing."}}`

// The full mix's shares of arrivals. An action is taken on a concern whose previous step has
// been answered; while none is ready, the arrival becomes a raise.
const (
	shareRaise  = 0.20
	shareAction = 0.50
	shareRead   = 0.20 // the rest are lists
)

// walk is the full mix's state: the concerns raised, and those ready for their next step.
type walk struct {
	mu    sync.Mutex
	seq   int
	ready []pending // FIFO: the oldest concern moves on first
	known []string
}

type pending struct {
	ref  string
	step int
}

func (w *walk) takeReady() (pending, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.ready) == 0 {
		return pending{}, false
	}
	p := w.ready[0]
	w.ready = w.ready[1:]
	return p, true
}

func (w *walk) advance(p pending) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p.step < len(lifecycleSteps) {
		w.ready = append(w.ready, p)
	}
}

func (w *walk) raised(ref string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.known = append(w.known, ref)
	w.ready = append(w.ready, pending{ref: ref})
}

func (w *walk) nextKey() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	return w.seq
}

func (w *walk) anyKnown() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.known) == 0 {
		return "", false
	}
	return w.known[rand.IntN(len(w.known))], true
}

// runLoad drives the instance at opts.rate for opts.duration with opts.mix.
func runLoad(ctx context.Context, opts *benchOptions) *report {
	client := opts.client
	if client == nil {
		client = &http.Client{Timeout: opts.timeout, Transport: &http.Transport{
			MaxIdleConns: 1000, MaxIdleConnsPerHost: 1000, IdleConnTimeout: 30 * time.Second}}
		defer client.CloseIdleConnections()
	}
	w := &walk{}
	// Keys are unique to this call: a ramp runs many steps with one runID, and a key seen
	// before would be answered from the idempotency record without raising anything.
	keyPrefix := fmt.Sprintf("bench-%s-%s", opts.runID, strconv.FormatInt(time.Now().UnixNano(), 36))
	send := func(ctx context.Context, method, path, role, body string, headers ...string) (int, []byte) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, opts.base+path, rd)
		if err != nil {
			return statusTransport, nil
		}
		req.Header.Set("Authorization", "Bearer "+opts.tokens[role])
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			return statusTransport, nil
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return statusTransport, nil
		}
		return res.StatusCode, b
	}
	raise := func(ctx context.Context) (string, int) {
		key := fmt.Sprintf("%s-%d", keyPrefix, w.nextKey())
		status, b := send(ctx, http.MethodPost, "/api/v1/concerns", string(safeguard.RolePrisonLead), benchRaise, "Idempotency-Key", key)
		if status == http.StatusCreated {
			var c struct {
				Reference string `json:"reference"`
			}
			if json.Unmarshal(b, &c) == nil && c.Reference != "" {
				w.raised(c.Reference)
			}
		}
		return "raise", status
	}
	fire := func(ctx context.Context) (string, int) {
		if opts.mix == "raise" {
			return raise(ctx)
		}
		x := rand.Float64()
		switch {
		case x < shareRaise:
			return raise(ctx)
		case x < shareRaise+shareAction:
			p, ok := w.takeReady()
			if !ok {
				return raise(ctx)
			}
			s := lifecycleSteps[p.step]
			status, _ := send(ctx, http.MethodPost, "/api/v1/concerns/"+p.ref+"/"+s.path, string(s.role), s.body)
			if status == http.StatusOK {
				w.advance(pending{ref: p.ref, step: p.step + 1})
			}
			return s.op, status
		case x < shareRaise+shareAction+shareRead:
			ref, ok := w.anyKnown()
			if !ok {
				return raise(ctx)
			}
			status, _ := send(ctx, http.MethodGet, "/api/v1/concerns/"+ref, string(safeguard.RolePrisonLead), "")
			return "read", status
		default:
			path := "/api/v1/concerns?limit=20"
			if rand.IntN(2) == 0 {
				path += "&stage=enquiry"
			}
			status, _ := send(ctx, http.MethodGet, path, string(safeguard.RolePrisonLead), "")
			return "list", status
		}
	}
	return openLoop(ctx, opts.rate, opts.duration, opts.maxInFlight, fire)
}

// Pseudo-statuses for what never got an HTTP answer.
const (
	statusTransport = -1 // connection refused or reset, timeout
	statusDropped   = -2 // not sent: maxInFlight requests were already outstanding
)

// sample is one request's outcome.
type sample struct {
	op      string
	status  int
	latency time.Duration // from when it was due to be sent to when its answer had been read
}

// openLoop calls fire rate times a second for d, each call in its own goroutine at its due time,
// then waits for the calls still out. Latency counts from the due time.
func openLoop(ctx context.Context, rate float64, d time.Duration, maxInFlight int, fire func(context.Context) (string, int)) *report {
	var (
		mu       sync.Mutex
		samples  []sample
		wg       sync.WaitGroup
		inFlight = make(chan struct{}, maxInFlight)
	)
	record := func(s sample) {
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
	}
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
loop:
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d {
			break
		}
		timer.Reset(time.Until(due))
		select {
		case <-ctx.Done():
			break loop
		case <-timer.C:
		}
		select {
		case inFlight <- struct{}{}:
		default:
			record(sample{op: "(any)", status: statusDropped})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inFlight }()
			op, status := fire(ctx)
			record(sample{op: op, status: status, latency: time.Since(due)})
		}()
	}
	sendEnd := time.Now()
	wg.Wait()
	return newReport(rate, sendEnd.Sub(start), time.Since(start), samples)
}

// report summarises a run.
type report struct {
	rate    float64       // offered, per second
	sending time.Duration // from the first due time to the last
	elapsed time.Duration // until the last answer
	ops     map[string]*opStats
	total   opStats
}

// opStats are one operation's figures. Latency percentiles are over the answered requests,
// successful or not; ok counts 2xx answers.
type opStats struct {
	count, ok          int
	statuses           map[int]int
	p50, p95, p99, max time.Duration
}

// throughput is successful requests per second of sending.
func (r *report) throughput(s *opStats) float64 { return float64(s.ok) / r.sending.Seconds() }

func newReport(rate float64, sending, elapsed time.Duration, samples []sample) *report {
	r := &report{rate: rate, sending: sending, elapsed: elapsed, ops: map[string]*opStats{}}
	byOp := map[string][]time.Duration{}
	var all []time.Duration
	r.total.statuses = map[int]int{}
	for _, s := range samples {
		st := r.ops[s.op]
		if st == nil {
			st = &opStats{statuses: map[int]int{}}
			r.ops[s.op] = st
		}
		for _, x := range []*opStats{st, &r.total} {
			x.count++
			x.statuses[s.status]++
			if s.status >= 200 && s.status < 300 {
				x.ok++
			}
		}
		if s.status > 0 {
			byOp[s.op] = append(byOp[s.op], s.latency)
			all = append(all, s.latency)
		}
	}
	for op, lat := range byOp {
		r.ops[op].setLatencies(lat)
	}
	r.total.setLatencies(all)
	return r
}

func (s *opStats) setLatencies(lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	// Nearest rank: the smallest latency at or above which p% of the answers fall.
	at := func(p float64) time.Duration {
		i := int(p*float64(len(lat))+0.999999) - 1
		return lat[max(0, min(i, len(lat)-1))]
	}
	s.p50, s.p95, s.p99, s.max = at(0.50), at(0.95), at(0.99), lat[len(lat)-1]
}

// errors is every non-2xx outcome, by status.
func (s *opStats) errors() string {
	var parts []string
	codes := make([]int, 0, len(s.statuses))
	for c := range s.statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		if c >= 200 && c < 300 {
			continue
		}
		name := strconv.Itoa(c)
		switch c {
		case statusTransport:
			name = "transport"
		case statusDropped:
			name = "dropped"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, s.statuses[c]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// opOrder is the report's row order: the raise, the lifecycle in order, reads, lists.
func opOrder(op string) int {
	for i, s := range lifecycleSteps {
		if s.op == op {
			return i + 1
		}
	}
	switch op {
	case "raise", "empty_workflow":
		return 0
	case "read":
		return 100
	case "list":
		return 101
	}
	return 200
}

func (r *report) print(w io.Writer, title string) {
	fmt.Fprintf(w, "\n%s: offered %.1f/s for %s (last answer after %s)\n", title, r.rate, r.sending.Round(time.Millisecond), r.elapsed.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\trequests\tok\tok/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\terrors by status\t")
	ops := make([]string, 0, len(r.ops))
	for op := range r.ops {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool { return opOrder(ops[i]) < opOrder(ops[j]) })
	row := func(name string, s *opStats) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", name, s.count, s.ok, r.throughput(s), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max), s.errors())
	}
	for _, op := range ops {
		row(op, r.ops[op])
	}
	row("total", &r.total)
	tw.Flush()
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

// sustained says whether a run kept up: at least 99% of requests succeeded, successes came at
// 95% of the offered rate or better, and the p99 stayed within maxP99.
func (r *report) sustained(maxP99 time.Duration) (bool, string) {
	switch {
	case r.total.count == 0:
		return false, "nothing sent"
	case float64(r.total.ok) < 0.99*float64(r.total.count):
		return false, fmt.Sprintf("%d of %d failed (%s)", r.total.count-r.total.ok, r.total.count, r.total.errors())
	case r.throughput(&r.total) < 0.95*r.rate:
		return false, fmt.Sprintf("%.1f/s succeeded of %.1f/s offered", r.throughput(&r.total), r.rate)
	case r.total.p99 > maxP99:
		return false, fmt.Sprintf("p99 %s ms over %s", ms(r.total.p99), maxP99)
	}
	return true, ""
}

type rampOptions struct {
	step, maxP99, budget time.Duration
	factor               float64
}

// findMaxRate runs steps of rising rate until one is not sustained or the budget is spent, and
// returns the highest sustained rate. Each step starts once the last one's answers are in.
func findMaxRate(ctx context.Context, w io.Writer, what string, rate float64, o rampOptions, run func(context.Context, float64, time.Duration) *report) (float64, error) {
	fmt.Fprintf(w, "\nfinding the maximum sustained rate of %s: steps of %s from %.1f/s, ×%.2f each (a step fails at <99%% success, <95%% of the offered rate, or p99 > %s)\n",
		what, o.step, rate, o.factor, o.maxP99)
	best := 0.0
	var spent time.Duration
	for spent+o.step <= o.budget {
		if ctx.Err() != nil {
			return best, ctx.Err()
		}
		r := run(ctx, rate, o.step)
		spent += r.elapsed
		ok, why := r.sustained(o.maxP99)
		verdict := "sustained"
		if !ok {
			verdict = "not sustained: " + why
		}
		fmt.Fprintf(w, "  %7.1f/s offered  %7.1f/s ok  p50 %7s ms  p99 %7s ms  %s\n", rate, r.throughput(&r.total), ms(r.total.p50), ms(r.total.p99), verdict)
		if !ok {
			break
		}
		best = rate
		rate *= o.factor
	}
	if best == 0 {
		return 0, fmt.Errorf("bench: not even the first step (%.1f/s) of %s was sustained; start lower with --rate", rate, what)
	}
	fmt.Fprintf(w, "maximum sustained rate of %s: %.1f/s\n", what, best)
	return best, nil
}

// compareMax ramps the empty workflows (runs[0]) and the raises (runs[1]) together: at each
// rate a step of one, then a step of the other, so that both meet whatever else the machine is
// doing at much the same time. Each stops rising at its first step not sustained.
func compareMax(ctx context.Context, w io.Writer, rate float64, o rampOptions, runs ...func(context.Context, float64, time.Duration) *report) ([]float64, error) {
	names := []string{"empty workflows", "raises"}
	fmt.Fprintf(w, "\nfinding the maximum sustained rates of empty workflows and raises, interleaved: steps of %s from %.1f/s, ×%.2f each (a step fails at <99%% success, <95%% of the offered rate, or p99 > %s)\n",
		o.step, rate, o.factor, o.maxP99)
	best := make([]float64, len(runs))
	going := make([]bool, len(runs))
	for i := range going {
		going[i] = true
	}
	var spent time.Duration
	for slices.Contains(going, true) && spent+o.step <= o.budget {
		for i, run := range runs {
			if !going[i] || spent+o.step > o.budget {
				continue
			}
			if ctx.Err() != nil {
				return best, ctx.Err()
			}
			r := run(ctx, rate, o.step)
			spent += r.elapsed
			ok, why := r.sustained(o.maxP99)
			verdict := "sustained"
			if ok {
				best[i] = rate
			} else {
				verdict, going[i] = "not sustained: "+why, false
			}
			fmt.Fprintf(w, "  %-15s %7.1f/s offered  %7.1f/s ok  p50 %7s ms  p99 %7s ms  %s  (%s)\n", names[i], rate, r.throughput(&r.total), ms(r.total.p50), ms(r.total.p99), verdict, loadAverage())
		}
		rate *= o.factor
	}
	for i, b := range best {
		if b == 0 {
			return best, fmt.Errorf("bench: not even the first step of %s was sustained; start lower with --rate", names[i])
		}
		if going[i] {
			fmt.Fprintf(w, "%s: the budget ran out while still sustained; %.1f/s is a lower bound (a longer --duration goes further)\n", names[i], b)
		}
	}
	return best, nil
}

// machineLine describes where the figures come from.
func machineLine() string {
	mem := "memory unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.Atoi(f[1]); err == nil {
					mem = fmt.Sprintf("%.1f GiB memory", float64(kb)/(1<<20))
				}
			}
		}
	}
	return fmt.Sprintf("%d CPUs, %s, %s, %s", runtime.NumCPU(), mem, runtime.Version(), loadAverage())
}

// loadAverage is the machine's 1, 5 and 15 minute load: a figure taken on a busy machine is
// depressed, and the report should say so.
func loadAverage() string {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			return "load average " + strings.Join(f[:3], " ")
		}
	}
	return "load unknown"
}
