package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/mail/mailtest"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// TestMain lets the test binary stand in for the safeguard binary: with
// SAFEGUARD_TEST_RUN_MAIN=1 it runs main, so restart tests can kill a real process.
func TestMain(m *testing.M) {
	if os.Getenv("SAFEGUARD_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// process is `safeguard serve` running as a child process.
type process struct {
	t   *testing.T
	cmd *exec.Cmd
	log *syncBuffer
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess runs the service as a child process and waits until it is ready.
func startProcess(t *testing.T, e env) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), "SAFEGUARD_TEST_RUN_MAIN=1")
	for k, v := range e {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{t: t, cmd: cmd, log: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("process log:\n%s", p.log.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + e["SAFEGUARD_ADDR"] + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service did not become ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill stops the process abruptly, as a power cut or the OOM killer would.
func (p *process) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	p.cmd.Wait()
}

// terminate stops the process as an orchestrator would, and checks it exits cleanly.
func (p *process) terminate() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			p.t.Errorf("after SIGTERM the process exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		p.t.Fatal("the process did not stop within 30s of SIGTERM")
	}
}

// TestRestartCarriesOn raises a concern while the mail relay is down, kills the process with
// SIGKILL, brings the relay back and restarts the process on the same data directory: the
// concern is still there, its workflow still runs, and each pending mail arrives exactly once.
// Then a graceful SIGTERM stop and a second restart change nothing.
func TestRestartCarriesOn(t *testing.T) {
	relay := mailtest.Reserve(t) // owns a port, not listening yet: the relay is down
	e := env{
		"SAFEGUARD_DATA_DIR": t.TempDir(),
		"SAFEGUARD_ADDR":     freeAddr(t),
		"SMTP_URL":           relay.URL(),
	}
	tokens := demoTokens(t, e)
	p := startProcess(t, e)
	base := "http://" + e["SAFEGUARD_ADDR"]

	raise := func() string {
		req, _ := http.NewRequest("POST", base+"/api/v1/concerns", strings.NewReader(raiseBody(nil)))
		req.Header.Set("Authorization", "Bearer "+tokens[lead])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var c safeguard.Concern
		if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&c) != nil {
			t.Fatalf("raise answered %d", res.StatusCode)
		}
		return c.Reference
	}
	ref := raise()

	// Wait until delivery has been tried and failed, so the mail is pending and retrying.
	db, err := sgsql.Open(context.Background(), e.dbURL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitFor(t, 30*time.Second, "a failed delivery attempt", func() bool {
		var attempts int
		db.Get(&attempts, db.Rebind("SELECT COALESCE(MIN(attempts), 0) FROM outbox WHERE reference = ? AND status = 'pending'"), ref)
		return attempts >= 1
	})

	p.kill()
	relay.Resume()
	p = startProcess(t, e)

	msgs := relay.WaitFor(2, 90*time.Second)
	time.Sleep(2 * time.Second) // a duplicate would arrive now
	if msgs = relay.Messages(); len(msgs) != 2 {
		t.Fatalf("%d messages arrived after the restart, want exactly 2", len(msgs))
	}
	if msgs[0].To[0] == msgs[1].To[0] {
		t.Errorf("both messages went to %s", msgs[0].To[0])
	}

	get := func() int {
		req, _ := http.NewRequest("GET", base+"/api/v1/concerns/"+ref, nil)
		req.Header.Set("Authorization", "Bearer "+tokens[practitioner])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(); code != http.StatusOK {
		t.Errorf("after the restart the concern answers %d", code)
	}

	p.terminate()
	p = startProcess(t, e)
	if code := get(); code != http.StatusOK {
		t.Errorf("after a graceful restart the concern answers %d", code)
	}
	second := raise()
	relay.WaitFor(4, 30*time.Second)
	if second == ref {
		t.Errorf("a new concern reused reference %s", ref)
	}
	if !strings.Contains(p.log.String(), `"msg":"safeguard started"`) {
		t.Errorf("the restarted process did not log its start")
	}
	assertNoPersonalData(t, "the process log", p.log.String())
}

func (e env) dbURL() string { return "sqlite://" + e["SAFEGUARD_DATA_DIR"] + "/safeguard.db" }

// waitFor polls cond until it holds or fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLadderCarriesOnAfterKill kills the process between two rungs of a clock's ladder and
// restarts it: the next rung still arrives, once, and no earlier rung is sent again.
func TestLadderCarriesOnAfterKill(t *testing.T) {
	relay := mailtest.Start(t)
	e := env{
		"SAFEGUARD_DATA_DIR":    t.TempDir(),
		"SAFEGUARD_ADDR":        freeAddr(t),
		"SMTP_URL":              relay.URL(),
		"SAFEGUARD_POLICY_FILE": writePolicy(t, strings.NewReplacer("due: 6s", "due: 8s", "-3s", "-4s", "at: 3s", "at: 6s", "at: 6s, notify: [responsible_managers, partner", "at: 12s, notify: [responsible_managers, partner").Replace(fastPolicy)),
	}
	tokens := demoTokens(t, e)
	p := startProcess(t, e)
	req, _ := http.NewRequest("POST", "http://"+e["SAFEGUARD_ADDR"]+"/api/v1/concerns", strings.NewReader(raiseBody(nil)))
	req.Header.Set("Authorization", "Bearer "+tokens[lead])
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("raise: %v %v", err, res)
	}
	res.Body.Close()

	waitFor(t, 30*time.Second, "the overdue notice", func() bool { return len(ladderMail(relay)) >= 2 })
	p.kill()
	if n := len(ladderMail(relay)); n != 2 {
		t.Fatalf("%d ladder messages before the kill, want the reminder and the overdue notice", n)
	}
	p = startProcess(t, e)
	waitFor(t, 90*time.Second, "both escalations", func() bool { return len(ladderMail(relay)) >= 5 })
	time.Sleep(2 * time.Second)
	msgs := ladderMail(relay)
	if len(msgs) != 5 {
		for _, m := range msgs {
			t.Logf("%v %s", m.To, m.Subject)
		}
		t.Fatalf("%d ladder messages after the restart, want 5 (each rung once)", len(msgs))
	}
	for i, kind := range []string{"Reminder", "Overdue", "Escalation", "Escalation", "Escalation"} {
		if !strings.HasPrefix(msgs[i].Subject, kind) {
			t.Errorf("message %d is %q, want %s", i, msgs[i].Subject, kind)
		}
	}
	p.terminate()
}
