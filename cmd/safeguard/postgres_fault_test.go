package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

// privatePostgres is a PostgreSQL server of the test's own, so that the test can stop and
// start it without disturbing the shared one other tests use.
type privatePostgres struct {
	t        *testing.T
	bin, dir string
	port     int
}

// startPrivatePostgres initialises and starts a throwaway cluster on a free port. It needs the
// server binaries and root (to run them as the postgres user); without them it skips, except
// under CI=true, where it fails.
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	unusable := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("a private PostgreSQL server is required under CI: %s", why)
		}
		t.Skipf("no private PostgreSQL server: %s", why)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		unusable("no /usr/lib/postgresql/*/bin/pg_ctl")
	}
	if os.Geteuid() != 0 {
		unusable("not root, so cannot run the server as the postgres user")
	}
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		unusable("no postgres user")
	}
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)
	// Not t.TempDir: its parents are private to root, and the server runs as postgres.
	dir, err := os.MkdirTemp("", "safeguard-pg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	p := &privatePostgres{t: t, bin: filepath.Dir(bins[len(bins)-1]), dir: dir}
	addr := freeAddr(t)
	p.port, _ = strconv.Atoi(addr[strings.LastIndex(addr, ":")+1:])
	p.run("initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	p.start()
	t.Cleanup(func() {
		_ = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(p.bin, "pg_ctl"), "-D", p.data(), "-m", "immediate", "-w", "stop").Run()
		os.RemoveAll(dir)
	})
	return p
}

func (p *privatePostgres) data() string { return filepath.Join(p.dir, "data") }

func (p *privatePostgres) run(tool string, args ...string) {
	p.t.Helper()
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(p.bin, tool)}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
}

func (p *privatePostgres) start() {
	p.t.Helper()
	p.run("pg_ctl", "-D", p.data(), "-l", filepath.Join(p.dir, "log"), "-w", "-t", "60", "start",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", p.port, p.dir))
}

// stop shuts the server down at once, as a crash or a failover would (-m immediate).
func (p *privatePostgres) stop() { p.run("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop") }

func (p *privatePostgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// TestPostgresRestartUnderLoad stops the record's PostgreSQL while prison leads raise and
// practitioners read, then starts it again. Every request is answered: what succeeded,
// succeeded; what could not answers 503 with a retry hint, never 500. The service recovers
// without a restart; a raise repeated with its Idempotency-Key gets one concern, never two;
// and nothing is half written.
func TestPostgresRestartUnderLoad(t *testing.T) {
	pg := startPrivatePostgres(t)
	svc := startService(t, env{"DATABASE_URL": pg.url()})

	type outcome struct {
		key    string
		status int
		ref    string
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		stop     atomic.Bool
		wg       sync.WaitGroup
		statuses sync.Map // status -> count, for the log
	)
	count := func(code int) {
		v, _ := statuses.LoadOrStore(code, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	seedRef := svc.raise(t)
	// However the test ends, the load stops first: a failed wait must not leave requests
	// running into the service's shutdown.
	defer func() { stop.Store(true); wg.Wait() }()
	for w := range 3 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				key := fmt.Sprintf("load-%d-%d", w, i)
				res := svc.do("POST", "/api/v1/concerns", lead, strings.NewReader(raiseBody(nil)), "Idempotency-Key", key)
				count(res.status)
				o := outcome{key: key, status: res.status}
				if res.status == http.StatusCreated {
					var c safeguard.Concern
					res.json(t, &c)
					o.ref = c.Reference
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				if res.status == http.StatusServiceUnavailable && res.header.Get("Retry-After") == "" {
					t.Error("a refused raise without Retry-After")
				}
				read := svc.do("GET", "/api/v1/concerns/"+seedRef, practitioner, nil)
				count(read.status)
				if read.status != http.StatusOK && read.status != http.StatusServiceUnavailable {
					t.Errorf("read answered %d: %s", read.status, read.body)
				}
				if read.status == http.StatusServiceUnavailable && read.header.Get("Retry-After") == "" {
					t.Error("a refused read without Retry-After")
				}
				if res.status == http.StatusServiceUnavailable || read.status == http.StatusServiceUnavailable {
					// A client pauses before trying again (if less than Retry-After asks, to
					// keep meeting the outage); without a pause the loop only burns the CPU.
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	waitFor(t, 60*time.Second, "some raises before the outage", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(outcomes) >= 5
	})
	// Stop while a raise is between its reference and its recording (its key row is written,
	// its concern not yet), so that the outage interrupts a recording, not only requests that
	// had written nothing. A raise's recording takes a few milliseconds, less than stopping
	// PostgreSQL does, so the recordings are held first: a transaction of the test's takes the
	// concerns table's EXCLUSIVE lock (reads go on; the recordings' inserts wait for it), and the
	// outage ends that transaction with the rest.
	db := svc.db()
	hold, err := db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.Exec(`LOCK TABLE concerns IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a raise between its reference and its recording", func() bool {
		var n int
		db.Get(&n, `SELECT COUNT(*) FROM idempotency_keys k WHERE NOT EXISTS (SELECT 1 FROM concerns c WHERE c.reference = k.reference)`)
		return n > 0
	})
	began := time.Now()
	pg.stop()
	// Reads meet the outage at once; raises already given a reference wait on their workflow,
	// whose recording activity retries. The outage lasts until something has been refused, so
	// the test always proves the refusal, and at least minOutage: long enough for an uncapped
	// retry backoff to grow past what a raise waits (RaiseTimeout, 20 s), so that a service
	// whose recording sleeps on after the database is back fails the repeats below.
	const minOutage = 35 * time.Second
	waitFor(t, 60*time.Second, "a request to be refused with 503 during the outage", func() bool {
		v, ok := statuses.Load(http.StatusServiceUnavailable)
		return ok && v.(*atomic.Int64).Load() > 0
	})
	time.Sleep(minOutage - time.Since(began))
	pg.start()
	recovered := time.Now()
	t.Logf("PostgreSQL was down for %s", recovered.Sub(began).Round(time.Millisecond))
	// The service recovers by itself: raises succeed again without restarting it.
	mu.Lock()
	recoveredFrom := len(outcomes)
	mu.Unlock()
	waitFor(t, 30*time.Second, "raises to succeed again after PostgreSQL is back", func() bool {
		mu.Lock()
		defer mu.Unlock()
		ok := 0
		for _, o := range outcomes[recoveredFrom:] {
			if o.status == http.StatusCreated {
				ok++
			}
		}
		return ok >= 3
	})
	t.Logf("raises succeed again %s after PostgreSQL is back", time.Since(recovered).Round(time.Millisecond))
	stop.Store(true)
	wg.Wait()

	var refused []outcome
	created := map[string]string{} // key -> reference
	for _, o := range outcomes {
		switch o.status {
		case http.StatusCreated:
			created[o.key] = o.ref
		case http.StatusServiceUnavailable:
			refused = append(refused, o)
		default:
			t.Errorf("raise %s answered %d; want 201 or 503", o.key, o.status)
		}
	}
	// A refused raise was either refused before anything was written, or after its reference
	// was allocated with its key (the workflow then records it once it can). The second kind is
	// what the key is for; the first is simply raised anew by its repeat.
	var keyRows []struct {
		Key string `db:"key"`
		Ref string `db:"reference"`
	}
	if err := db.Select(&keyRows, `SELECT key, reference FROM idempotency_keys`); err != nil {
		t.Fatal(err)
	}
	allocated := map[string]string{}
	for _, k := range keyRows {
		allocated[k.Key] = k.Ref
	}
	var interrupted, before []outcome
	for _, o := range refused {
		if _, ok := allocated[o.key]; ok {
			interrupted = append(interrupted, o)
		} else {
			before = append(before, o)
		}
	}
	if len(interrupted) == 0 {
		t.Fatalf("none of the %d refused raises had been given a reference: the outage interrupted no recording", len(refused))
	}
	// Repeating a refused raise with its key gives exactly one concern for it. An interrupted
	// one answers with the reference allocated to it, at the first attempt: once the database
	// is back its workflow records it promptly, within the repeat's own wait. Of those refused
	// before anything was written, a sample is repeated (there are hundreds).
	repeat := func(o outcome, want string) {
		t0 := time.Now()
		res := svc.do("POST", "/api/v1/concerns", lead, strings.NewReader(raiseBody(nil)), "Idempotency-Key", o.key)
		if res.status != http.StatusCreated {
			t.Errorf("repeating raise %s answered %d after %s: %s", o.key, res.status, time.Since(t0).Round(time.Millisecond), res.body)
			return
		}
		var c safeguard.Concern
		res.json(t, &c)
		if want != "" && c.Reference != want {
			t.Errorf("repeating raise %s gave %s; its key was given %s", o.key, c.Reference, want)
		}
		created[o.key] = c.Reference
		again := svc.do("POST", "/api/v1/concerns", lead, strings.NewReader(raiseBody(nil)), "Idempotency-Key", o.key)
		var c2 safeguard.Concern
		again.json(t, &c2)
		if again.status != http.StatusCreated || c2.Reference != c.Reference {
			t.Errorf("raise %s: a second repeat answered %d %s after %s", o.key, again.status, c2.Reference, c.Reference)
		}
	}
	var slowest time.Duration
	for _, o := range interrupted {
		t0 := time.Now()
		repeat(o, allocated[o.key])
		slowest = max(slowest, time.Since(t0))
	}
	for i, o := range before {
		if i%max(1, len(before)/10) == 0 {
			repeat(o, "")
		}
	}
	t.Logf("%d raises refused: %d interrupted after allocation (their repeats took at most %s), %d refused before",
		len(refused), len(interrupted), slowest.Round(time.Millisecond), len(before))
	refs := map[string]bool{seedRef: true}
	for _, ref := range created {
		if refs[ref] {
			t.Errorf("%s was given to two raises", ref)
		}
		refs[ref] = true
	}

	// Nothing half written: each concern has its organisations, its first timeline entry, its
	// clocks and its two messages, and nothing refers to a concern that does not exist.
	waitFor(t, 60*time.Second, "every concern to be whole", func() bool {
		var broken int
		db.Get(&broken, `SELECT COUNT(*) FROM concerns c WHERE
			(SELECT COUNT(*) FROM concern_orgs o WHERE o.reference = c.reference) < 2 OR
			NOT EXISTS (SELECT 1 FROM timeline e WHERE e.reference = c.reference AND e.kind = 'raised') OR
			(SELECT COUNT(*) FROM clocks k WHERE k.reference = c.reference) < 2 OR
			(SELECT COUNT(*) FROM outbox m WHERE m.reference = c.reference) < 2`)
		return broken == 0
	})
	var concerns, orphans, lost int
	db.Get(&concerns, `SELECT COUNT(*) FROM concerns`)
	db.Get(&orphans, `SELECT
		(SELECT COUNT(*) FROM concern_orgs o WHERE NOT EXISTS (SELECT 1 FROM concerns c WHERE c.reference = o.reference)) +
		(SELECT COUNT(*) FROM timeline e WHERE NOT EXISTS (SELECT 1 FROM concerns c WHERE c.reference = e.reference)) +
		(SELECT COUNT(*) FROM outbox m WHERE NOT EXISTS (SELECT 1 FROM concerns c WHERE c.reference = m.reference))`)
	// Temporal was up throughout, so every reference allocated with a key was recorded.
	db.Get(&lost, `SELECT COUNT(*) FROM idempotency_keys k WHERE NOT EXISTS (SELECT 1 FROM concerns c WHERE c.reference = k.reference)`)
	if lost != 0 {
		t.Errorf("%d references allocated with a key have no concern", lost)
	}
	if orphans != 0 {
		t.Errorf("%d rows refer to concerns that do not exist", orphans)
	}
	// Every concern in the record was answered to someone (a 201, or a repeat's 201): a refused
	// raise that was nonetheless recorded is found again by its key, never left behind unseen.
	if concerns != len(refs) {
		t.Errorf("the record holds %d concerns; the raises were answered with %d references", concerns, len(refs))
	}
	var tally []string
	statuses.Range(func(k, v any) bool {
		tally = append(tally, fmt.Sprintf("%v: %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("answers %v; %d concerns", tally, concerns)
}
