package http

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/argon2"
	"github.com/safeguard-project/safeguard/metrics"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// BenchmarkSpeedAtVolume times the overdue audit page and the SAC return as a signed-in user
// gets them — the real handler (routes, session cookie, Authorize, the audit row each read
// writes, the query, the template or the JSON) over a database seeded by `safeguard seed` —
// and reports each request's p50, p95 and p99 beside the mean (docs/reports.md, Speed):
//
//	safeguard seed --concerns 1000000     # with DATABASE_URL set to the database below
//	SAFEGUARD_BENCH_DATABASE_URL=postgres://…/safeguard_bench_1m go test ./http/ -run '^$' \
//	    -bench SpeedAtVolume -benchtime 200x -timeout 60m
//
// Without SAFEGUARD_BENCH_DATABASE_URL it skips, so that no ordinary run seeds a million
// concerns. It adds two users to that database (an auditor and the manager of the local
// authority hosting the most concerns) and audit rows for every request: use a database of its
// own. One untimed request warms each case first; the clock is the wall clock, as the seeded
// concerns were spread over the year before the seeding.
func BenchmarkSpeedAtVolume(b *testing.B) {
	dbURL := os.Getenv("SAFEGUARD_BENCH_DATABASE_URL")
	if dbURL == "" {
		b.Skip("set SAFEGUARD_BENCH_DATABASE_URL to a database seeded by `safeguard seed`")
	}
	ctx := context.Background()
	db, err := sgsql.Open(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.CheckSchema(ctx); err != nil {
		b.Fatal(err)
	}
	var concerns int
	if err := db.GetContext(ctx, &concerns, `SELECT COUNT(*) FROM concerns`); err != nil || concerns == 0 {
		b.Fatalf("%d concerns (%v): seed the database with `safeguard seed --concerns N` first", concerns, err)
	}
	var busiest string // the host LA with the most concerns: the largest one-LA scope
	if err := db.GetContext(ctx, &busiest, `SELECT host_la FROM concerns GROUP BY host_la ORDER BY COUNT(*) DESC, host_la LIMIT 1`); err != nil {
		b.Fatal(err)
	}
	srv := &Server{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: metrics.New()}
	h := srv.Handler()
	cookies := map[string]string{}
	for label, u := range map[string]safeguard.User{
		"auditor":    {Email: "bench-auditor@bench.invalid", OrgCode: busiest, Role: safeguard.RoleAuditor},
		"la_manager": {Email: "bench-la-manager@bench.invalid", OrgCode: busiest, Role: safeguard.RoleLAManager},
	} {
		cookies[label] = benchSignIn(b, db, h, u)
	}
	b.Logf("%d concerns; one LA: %s", concerns, busiest)

	today := time.Now().In(london)
	year := url.Values{"from": {today.AddDate(-1, 0, 1).Format(time.DateOnly)}, "to": {today.Format(time.DateOnly)}}.Encode()
	for _, c := range []struct {
		name, target, accept, want string
	}{
		{"overdue_page/auditor", "/overdue", "text/html", "SG-"},
		{"overdue_page/la_manager", "/overdue", "text/html", "SG-"},
		{"overdue_api/auditor", "/api/v1/overdue", "application/json", `"reference":"SG-`},
		{"sac_year/auditor", "/api/v1/reports/sac?" + year, "application/json", `"concerns_raised"`},
		{"sac_year/la_manager", "/api/v1/reports/sac?" + year, "application/json", `"concerns_raised"`},
	} {
		cookie := cookies[c.name[strings.IndexByte(c.name, '/')+1:]]
		get := func(b *testing.B) time.Duration {
			req := httptest.NewRequest(http.MethodGet, c.target, nil)
			req.RemoteAddr = "192.0.2.10:50000"
			req.Header.Set("Accept", c.accept)
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, req)
			d := time.Since(start)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), c.want) {
				b.Fatalf("GET %s: %d, no %q in\n%.2000s", c.target, rec.Code, c.want, rec.Body)
			}
			return d
		}
		b.Run(c.name, func(b *testing.B) {
			get(b) // warm up
			var times []time.Duration
			for b.Loop() {
				times = append(times, get(b))
			}
			reportPercentiles(b, times)
		})
	}
}

// benchSignIn creates (or finds) the user with a password and signs them in through the sign-in
// form, returning the session cookie.
func benchSignIn(b *testing.B, db *sgsql.DB, h http.Handler, u safeguard.User) string {
	ctx := context.Background()
	const password = "bench lantern orchard pebble"
	if found, err := db.FindUserByEmail(ctx, u.Email); err == nil {
		u = *found
	} else {
		u.Name = "Benchmark " + string(u.Role)
		if err := db.CreateUser(ctx, &u); err != nil {
			b.Fatal(err)
		}
	}
	hash, err := argon2.Hash(password, argon2.Default)
	if err == nil {
		err = db.SetPasswordHash(ctx, u.ID, hash)
	}
	if err != nil {
		b.Fatal(err)
	}
	form := url.Values{"email": {u.Email}, "password": {password}, "return": {"/"}}
	req := httptest.NewRequest(http.MethodPost, "/sign-in", strings.NewReader(form.Encode()))
	req.RemoteAddr = "192.0.2.10:50000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if tok := sessionFrom(rec); rec.Code == http.StatusSeeOther && tok != "" {
		return tok
	}
	b.Fatalf("sign-in of %s: %d\n%s", u.Email, rec.Code, rec.Body)
	return ""
}

// reportPercentiles adds the nearest-rank p50, p95 and p99 of the requests' times, in
// milliseconds, to the benchmark's figures.
func reportPercentiles(b *testing.B, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	slices.Sort(times)
	for _, p := range []int{50, 95, 99} {
		rank := max((p*len(times)+99)/100, 1) // ceil(p/100 * n)
		b.ReportMetric(float64(times[rank-1].Microseconds())/1000, fmt.Sprintf("p%d-ms", p))
	}
}
