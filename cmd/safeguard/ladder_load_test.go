package main

// The ladder burst: many concerns whose escalation ladder step falls due in the same minute,
// sent through a real SMTP server, counted once each. TestLadderBurst is the short version that
// runs with the suite; TestLadderBurstLoad is the measured one, only with SAFEGUARD_LADDER_N set
// (see docs/performance.md, "Ladder steps due in the same minute").

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/config"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// burstPolicy has one ladder step, the overdue notice at due, on the LA acknowledgement clock,
// due `due` after the raise; every other clock is a day away with no ladder.
func burstPolicy(due time.Duration) string {
	return fmt.Sprintf(`
timezone: Europe/London
calendar: england-and-wales
clocks:
  la_acknowledgement: {due: %s, ladder: [{at: 0, notify: [responsible_inbox]}]}
  triage_decision: {due: 24h, ladder: []}
  la_contribution: {due: 24h, ladder: []}
  enquiry_completion: {due: 24h, ladder: []}
  closure_signoff: {due: 24h, ladder: []}
  handover_acknowledgement: {due: 24h, ladder: []}
`, due.Round(time.Second))
}

// received is one message as the recording relay took it, with when.
type received struct {
	at        time.Time
	messageID string
	subject   string
}

// relay is an SMTP server on a loopback port that records each message's arrival time (the
// mailtest server does not keep one).
type relay struct {
	ln  net.Listener
	srv *smtp.Server
	mu  sync.Mutex
	got []received
}

func startRelay(t *testing.T) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln}
	r.srv = smtp.NewServer(r)
	r.srv.Domain = "localhost"
	r.srv.AllowInsecureAuth = true
	r.srv.ReadTimeout, r.srv.WriteTimeout = 10*time.Second, 10*time.Second
	r.srv.MaxRecipients = 10
	go r.srv.Serve(ln)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *relay) URL() string { return "smtp://" + r.ln.Addr().String() + "?tls=none" }

func (r *relay) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *relay) NewSession(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }

type relaySession struct{ r *relay }

func (*relaySession) Reset()                               {}
func (*relaySession) Logout() error                        { return nil }
func (*relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (*relaySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x *relaySession) Data(r io.Reader) error {
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
	x.r.mu.Lock()
	x.r.got = append(x.r.got, received{at: at, messageID: m.Header.Get("Message-Id"), subject: subject})
	x.r.mu.Unlock()
	return nil
}

// burstOptions is one burst scenario.
type burstOptions struct {
	n       int           // concerns, one ladder step each
	lead    time.Duration // from the start to the minute the steps fall due
	window  time.Duration // the longest one service raises for before it restarts with a new policy
	workers int           // concurrent raises
	wait    time.Duration // from the first due time, how long to wait for the last message
	dbURL   string
}

// burstResult is what a burst measured.
type burstResult struct {
	raised, batches         int
	raiseTime               time.Duration
	firstDue, lastDue       time.Time
	arrived, missing, twice int           // distinct expected steps that arrived; expected that did not; extra copies
	lastArrival             time.Duration // from the first due time to the last step received
	p50, p95, p99, max      time.Duration // lateness: received - due
	early                   int           // steps received before their due time
	loadBefore, loadAfter   string
}

var refInSubject = regexp.MustCompile(`SG-[A-Z0-9]+-\d{4}-\d+`)

// runBurst raises o.n concerns so that each one's ladder step falls due in the same minute,
// waits for the mail and measures it. A concern keeps the policy it was raised under, so the
// concerns are raised in batches of at most o.window, each by the service restarted with a
// policy whose due time is the target minute less the batch's start: the steps of all batches
// then fall due within one window of the target, however long raising takes.
func runBurst(t *testing.T, o burstOptions) burstResult {
	t.Helper()
	res := burstResult{loadBefore: loadAverage()}
	smtpRelay := startRelay(t)
	dir := t.TempDir()
	e := env{"DATABASE_URL": o.dbURL, "SMTP_URL": smtpRelay.URL(), "SAFEGUARD_DATA_DIR": dir, "SAFEGUARD_ADDR": "127.0.0.1:0"}
	begun := time.Now()
	target := begun.Add(o.lead)
	due := map[string]time.Time{} // reference -> its step's due time
	var dueMu sync.Mutex
	var tokens map[string]string
	client := &http.Client{Timeout: 60 * time.Second}

	startSvc := func(policyDue time.Duration) (*service, *syncBuffer) {
		t.Helper()
		e["SAFEGUARD_POLICY_FILE"] = writePolicy(t, burstPolicy(policyDue))
		cfg, err := config.Load(e.get)
		if err != nil {
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		svc, err := start(context.Background(), cfg, modeServe, logs)
		if err != nil {
			t.Fatalf("start: %v\n%s", err, logs.String())
		}
		return svc, logs
	}

	var svc *service
	var logs *syncBuffer
	defer func() {
		if svc != nil {
			svc.stop()
		}
		if t.Failed() && logs != nil {
			out := logs.String()
			t.Logf("last service log (tail):\n%s", out[max(0, len(out)-4000):])
		}
	}()
	raiseStart := time.Now()
	var seq atomic.Int64
	for res.raised < o.n {
		// The batch's policy: due at the target minute for a concern raised now. The second is
		// rounded up, so no step is due before the target.
		policyDue := target.Sub(time.Now()).Truncate(time.Second) + time.Second
		if policyDue < 2*time.Second {
			t.Fatalf("raising ran past the target minute after %d of %d concerns; give a longer lead", res.raised, o.n)
		}
		if svc != nil {
			if err := svc.stop(); err != nil {
				t.Logf("stop: %v", err)
			}
		}
		svc, logs = startSvc(policyDue)
		if tokens == nil {
			byEmail := demoTokens(t, e)
			tokens = map[string]string{"lead": byEmail[lead]}
		}
		res.batches++
		batchEnd := time.Now().Add(o.window)
		base := "http://" + svc.addr
		var wg sync.WaitGroup
		var failed atomic.Int64
		var mu sync.Mutex
		todo := o.n - res.raised
		var got int
		for range o.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(batchEnd) {
					mu.Lock()
					if todo == 0 {
						mu.Unlock()
						return
					}
					todo--
					mu.Unlock()
					key := fmt.Sprintf("ladder-burst-%d-%d", begun.UnixNano(), seq.Add(1))
					ref, d, err := raiseOnce(client, base, tokens["lead"], key)
					if err != nil {
						// The same key again is answered with the concern if the first try was recorded.
						ref, d, err = raiseOnce(client, base, tokens["lead"], key)
					}
					mu.Lock()
					if err != nil {
						failed.Add(1)
						todo++
					} else {
						got++
					}
					mu.Unlock()
					if err == nil {
						dueMu.Lock()
						due[ref] = d
						dueMu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		if failed.Load() > int64(o.n/10+5) {
			t.Fatalf("%d raises failed in batch %d", failed.Load(), res.batches)
		}
		res.raised += got
		t.Logf("batch %d: policy due %s, %d raised (%d in all, %s since start, %s)", res.batches, policyDue, got, res.raised, time.Since(begun).Round(time.Second), loadAverage())
	}
	res.raiseTime = time.Since(raiseStart)
	if len(due) != o.n {
		t.Fatalf("%d distinct concerns raised, want %d", len(due), o.n)
	}
	for _, d := range due {
		if res.firstDue.IsZero() || d.Before(res.firstDue) {
			res.firstDue = d
		}
		if d.After(res.lastDue) {
			res.lastDue = d
		}
	}

	// Wait for one step per concern, or until the time allowed has passed.
	isStep := func(m received) bool {
		return strings.Contains(m.subject, "acknowledgement by the host local authority")
	}
	deadline := res.firstDue.Add(o.wait)
	for time.Now().Before(deadline) {
		n := 0
		seen := map[string]bool{}
		for _, m := range smtpRelay.messages() {
			if isStep(m) && !seen[m.messageID] {
				seen[m.messageID] = true
				n++
			}
		}
		if n >= o.n {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // a copy sent twice would arrive now
	res.loadAfter = loadAverage()

	byID := map[string]int{}
	stepsOf := map[string]int{} // reference -> distinct step messages
	var late []time.Duration
	var last time.Time
	for _, m := range smtpRelay.messages() {
		if !isStep(m) {
			continue
		}
		byID[m.messageID]++
		if byID[m.messageID] > 1 {
			res.twice++
			continue
		}
		ref := refInSubject.FindString(m.subject)
		d, ok := due[ref]
		if !ok {
			t.Errorf("a ladder message for a concern not raised here: %q", m.subject)
			continue
		}
		stepsOf[ref]++
		if stepsOf[ref] > 1 {
			res.twice++ // a second message for the same step, under another Message-ID
			continue
		}
		res.arrived++
		l := m.at.Sub(d)
		if l < 0 {
			res.early++
		}
		late = append(late, l)
		if m.at.After(last) {
			last = m.at
		}
	}
	res.missing = o.n - res.arrived
	if !last.IsZero() {
		res.lastArrival = last.Sub(res.firstDue)
	}
	if len(late) > 0 {
		slices.Sort(late)
		at := func(p float64) time.Duration {
			i := int(p*float64(len(late))+0.999999) - 1
			return late[max(0, min(i, len(late)-1))]
		}
		res.p50, res.p95, res.p99, res.max = at(0.50), at(0.95), at(0.99), late[len(late)-1]
	}
	return res
}

// raiseOnce raises a concern and returns its reference and its LA acknowledgement's due time.
func raiseOnce(client *http.Client, base, token, key string) (string, time.Time, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/concerns", strings.NewReader(raiseBody(nil)))
	if err != nil {
		return "", time.Time{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := client.Do(req)
	if err != nil {
		return "", time.Time{}, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
		return "", time.Time{}, fmt.Errorf("raise: %d %s", res.StatusCode, b)
	}
	var c safeguard.Concern
	if err := json.Unmarshal(b, &c); err != nil {
		return "", time.Time{}, err
	}
	for _, k := range c.Clocks {
		if k.Name == safeguard.ClockLAAcknowledgement {
			return c.Reference, k.Due, nil
		}
	}
	return "", time.Time{}, fmt.Errorf("raise %s: no la_acknowledgement clock", c.Reference)
}

func (r burstResult) String() string {
	return fmt.Sprintf("%d concerns raised in %s (%d batches, %.1f/s); steps due from %s to %s (spread %s); "+
		"%d of %d steps arrived, %d missing, %d sent twice, %d early; last received %s after the first due time; "+
		"lateness p50 %s p95 %s p99 %s max %s; before: %s; after: %s",
		r.raised, r.raiseTime.Round(time.Second), r.batches, float64(r.raised)/r.raiseTime.Seconds(),
		r.firstDue.UTC().Format("15:04:05"), r.lastDue.UTC().Format("15:04:05"), r.lastDue.Sub(r.firstDue).Round(time.Second),
		r.arrived, r.raised, r.missing, r.twice, r.early, r.lastArrival.Round(time.Millisecond),
		r.p50.Round(time.Millisecond), r.p95.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.max.Round(time.Millisecond),
		r.loadBefore, r.loadAfter)
}

// check fails the test unless every step arrived once, none early, the last within limit.
func (r burstResult) check(t *testing.T, limit time.Duration) {
	t.Helper()
	if r.missing != 0 || r.twice != 0 || r.early != 0 {
		t.Errorf("%d steps missing, %d sent twice, %d before their due time", r.missing, r.twice, r.early)
	}
	if r.lastArrival > limit {
		t.Errorf("the last step arrived %s after the first due time, want within %s", r.lastArrival, limit)
	}
}

// TestLadderBurst is the short version: 40 concerns whose step falls due together a few
// seconds after they are raised; each step must arrive once.
func TestLadderBurst(t *testing.T) {
	r := runBurst(t, burstOptions{n: 40, lead: 10 * time.Second, window: time.Minute, workers: 8, wait: 40 * time.Second, dbURL: sqltest.SQLite(t)})
	t.Log(r)
	r.check(t, 40*time.Second)
}

// TestLadderBurstLoad is the measured burst, the target of issue 7: SAFEGUARD_LADDER_N concerns
// (5,000 for the target) with one ladder step each due in the same minute, all sent within 5
// minutes, none twice. SAFEGUARD_LADDER_LEAD (a duration) is how long after the start the
// minute comes, long enough to raise them all (default: N/12 seconds plus a minute);
// SAFEGUARD_LADDER_DB=postgres records in PostgreSQL instead of SQLite.
func TestLadderBurstLoad(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SAFEGUARD_LADDER_N"))
	if n <= 0 {
		t.Skip("set SAFEGUARD_LADDER_N (e.g. 5000) to run the ladder burst")
	}
	lead := time.Duration(n/12)*time.Second + time.Minute
	if s := os.Getenv("SAFEGUARD_LADDER_LEAD"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		lead = d
	}
	db := sqltest.SQLite(t)
	if os.Getenv("SAFEGUARD_LADDER_DB") == "postgres" {
		db = sqltest.Postgres(t)
	}
	t.Logf("ladder burst: %d concerns, steps due %s from now, %s, %s", n, lead, os.Getenv("SAFEGUARD_LADDER_DB"), machineLine())
	r := runBurst(t, burstOptions{n: n, lead: lead, window: 45 * time.Second, workers: 16, wait: 8 * time.Minute, dbURL: db})
	t.Log(r)
	r.check(t, 5*time.Minute)
}
