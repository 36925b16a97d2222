package http

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/argon2"
	"github.com/safeguard-project/safeguard/metrics"
	sgsql "github.com/safeguard-project/safeguard/sql"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// These tests drive the real handler (routes, CrossOriginProtection, headers) over a real
// database of each kind, without Temporal: sign-in and sessions do not need it.

const (
	leadEmail    = "lead@lei.example"
	leadPassword = "heron kettle wakefield marmalade"
	adminEmail   = "admin@leeds.example"
)

// testClock is the one clock of a test: the server's and the database's.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type site struct {
	t     *testing.T
	db    *sgsql.DB
	h     http.Handler
	srv   *Server
	clock *testClock
	lead  *safeguard.User
	admin *safeguard.User
}

// forEachStore runs fn against a fresh site on SQLite and on PostgreSQL.
func forEachStore(t *testing.T, fn func(t *testing.T, s *site)) {
	for _, o := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", sqltest.SQLite}, {"postgres", sqltest.Postgres}} {
		t.Run(o.name, func(t *testing.T) { fn(t, newSite(t, o.url(t))) })
	}
}

func newSite(t *testing.T, dbURL string) *site {
	t.Helper()
	ctx := context.Background()
	db, err := sgsql.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	db.Now = clock.Now
	for _, o := range []*safeguard.Organisation{
		{Code: "E08000035", Name: "Leeds City Council", Kind: safeguard.KindLocalAuthority},
		{Code: "LEI", Name: "HMP Leeds", Kind: safeguard.KindPrison, HostLA: "E08000035"},
	} {
		if err := db.UpsertOrganisation(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	s := &site{t: t, db: db, clock: clock}
	s.lead = s.user(leadEmail, "LEI", safeguard.RolePrisonLead, leadPassword)
	s.admin = s.user(adminEmail, "E08000035", safeguard.RoleAdmin, "")
	s.srv = &Server{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: metrics.New(), Now: clock.Now}
	s.h = s.srv.Handler()
	return s
}

func (s *site) user(email, org string, role safeguard.Role, password string) *safeguard.User {
	s.t.Helper()
	u := &safeguard.User{Email: email, Name: "Test " + string(role), OrgCode: org, Role: role}
	if err := s.db.CreateUser(context.Background(), u); err != nil {
		s.t.Fatal(err)
	}
	if password != "" {
		h, err := argon2.Hash(password, argon2.Default)
		if err != nil {
			s.t.Fatal(err)
		}
		if err := s.db.SetPasswordHash(context.Background(), u.ID, h); err != nil {
			s.t.Fatal(err)
		}
	}
	return u
}

// do serves one request; headers are name, value pairs.
func (s *site) do(method, target string, form url.Values, cookie string, headers ...string) *httptest.ResponseRecorder {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = "192.0.2.10:50000"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// signIn posts the sign-in form and returns the response.
func (s *site) signIn(email, password, cookie string) *httptest.ResponseRecorder {
	s.t.Helper()
	return s.do(http.MethodPost, "/sign-in", url.Values{"email": {email}, "password": {password}, "return": {"/"}}, cookie,
		"Sec-Fetch-Site", "same-origin", "Accept", "text/html")
}

// sessionFrom returns the session cookie's value set by a response, or "".
func sessionFrom(rec *httptest.ResponseRecorder) string {
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

// mustSignIn signs the lead in and returns the session token.
func (s *site) mustSignIn() string {
	s.t.Helper()
	rec := s.signIn(leadEmail, leadPassword, "")
	tok := sessionFrom(rec)
	if rec.Code != http.StatusSeeOther || tok == "" {
		s.t.Fatalf("sign-in: %d, cookie %q\n%s", rec.Code, tok, rec.Body)
	}
	return tok
}

// signedIn reports whether the cookie opens the landing page.
func (s *site) signedIn(cookie string) bool {
	s.t.Helper()
	rec := s.do(http.MethodGet, "/", nil, cookie, "Accept", "text/html")
	switch rec.Code {
	case http.StatusOK:
		if !strings.Contains(rec.Body.String(), "Signed in as Test prison_lead") {
			s.t.Fatalf("landing page does not say who is signed in:\n%s", rec.Body)
		}
		return true
	case http.StatusSeeOther:
		if loc := rec.Header().Get("Location"); loc != "/sign-in" {
			s.t.Fatalf("redirected to %q; want /sign-in", loc)
		}
		return false
	}
	s.t.Fatalf("GET / answered %d", rec.Code)
	return false
}

func (s *site) auditCount(action, outcome string) int {
	s.t.Helper()
	var n int
	if err := s.db.Get(&n, s.db.Rebind(`SELECT COUNT(*) FROM audit_log WHERE action = ? AND outcome = ?`), action, outcome); err != nil {
		s.t.Fatal(err)
	}
	return n
}

func TestSignInSetsAHostOnlySecureHttpOnlyLaxCookieAndGoesBack(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		rec := s.do(http.MethodPost, "/sign-in", url.Values{"email": {"  LEAD@lei.example "}, "password": {leadPassword}, "return": {"/concerns/SG-LEI-2026-00001"}}, "")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/concerns/SG-LEI-2026-00001" {
			t.Fatalf("sign-in answered %d to %q; want 303 to the return path\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
		}
		set := rec.Header().Values("Set-Cookie")
		if len(set) != 1 {
			t.Fatalf("Set-Cookie %q; want exactly one", set)
		}
		re := regexp.MustCompile(`^__Host-safeguard_session=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; Secure; SameSite=Lax$`)
		if !re.MatchString(set[0]) {
			t.Fatalf("Set-Cookie %q; want __Host-safeguard_session=<43 chars>; Path=/; HttpOnly; Secure; SameSite=Lax and no Domain, Expires or Max-Age", set[0])
		}
		if !s.signedIn(sessionFrom(rec)) {
			t.Fatal("the new session does not open the landing page")
		}
		if s.auditCount("sign_in", "ok") != 1 {
			t.Error("the sign-in is not in the audit log")
		}
		var detail string
		_ = s.db.Get(&detail, `SELECT detail FROM audit_log WHERE action = 'sign_in'`)
		if strings.Contains(detail, leadPassword) {
			t.Error("the audit log holds the password")
		}
	})
}

func TestSignInFailsWithTheSameAnswerWhateverTheReason(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		disabled := s.user("gone@lei.example", "LEI", safeguard.RolePrisonManager, leadPassword)
		if err := s.db.SetUserDisabled(context.Background(), disabled.ID, true); err != nil {
			t.Fatal(err)
		}
		s.user("nopassword@lei.example", "LEI", safeguard.RolePrisonManager, "")
		locked := s.user("locked@lei.example", "LEI", safeguard.RolePrisonManager, leadPassword)
		for i := 0; i < 5; i++ {
			if _, err := s.db.RecordSignInFailure(context.Background(), locked.ID, safeguard.DefaultLockout); err != nil {
				t.Fatal(err)
			}
		}
		var bodies []string
		for _, tc := range []struct{ why, email, password string }{
			{"unknown email", "nobody@lei.example", leadPassword},
			{"wrong password", leadEmail, "not the right password"},
			{"disabled account, right password", "gone@lei.example", leadPassword},
			{"locked account, right password", "locked@lei.example", leadPassword},
			{"no password set", "nopassword@lei.example", leadPassword},
		} {
			rec := s.signIn(tc.email, tc.password, "")
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s: status %d; want 401", tc.why, rec.Code)
			}
			if tok := sessionFrom(rec); tok != "" {
				t.Errorf("%s: a session cookie was set", tc.why)
			}
			body := rec.Body.String()
			if !strings.Contains(body, signInFailed) || !strings.Contains(body, `class="error-summary"`) {
				t.Errorf("%s: the page lacks the error summary with the one message:\n%s", tc.why, body)
			}
			if strings.Contains(body, tc.password) {
				t.Errorf("%s: the password was sent back to the page", tc.why)
			}
			bodies = append(bodies, strings.ReplaceAll(body, tc.email, "EMAIL"))
		}
		for i := range bodies {
			if bodies[i] != bodies[0] {
				t.Errorf("answer %d differs from answer 0: the page tells the reasons apart", i)
			}
		}
		if n := s.auditCount("sign_in_failed", safeguard.EUNAUTHORIZED); n != 5 {
			t.Errorf("%d failed sign-ins audited; want 5", n)
		}
	})
}

func TestSignInNamesEachMissingField(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		rec := s.signIn("", "", "")
		body := rec.Body.String()
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `href="#f-email">Enter your email address`) ||
			!strings.Contains(body, `href="#f-password">Enter your password`) {
			t.Fatalf("status %d; want 422 with both fields in the error summary:\n%s", rec.Code, body)
		}
		if s.auditCount("sign_in_failed", safeguard.EUNAUTHORIZED) != 0 {
			t.Error("an empty form counted as a sign-in attempt")
		}
	})
}

func TestFiveWrongPasswordsLockTheAccountForFifteenMinutes(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		for i := 0; i < 5; i++ {
			s.clock.Add(13 * time.Second) // stay under the per-account rate limit
			if rec := s.signIn(leadEmail, "wrong password number", ""); rec.Code != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: %d", i+1, rec.Code)
			}
		}
		s.clock.Add(13 * time.Second)
		if rec := s.signIn(leadEmail, leadPassword, ""); rec.Code != http.StatusUnauthorized || sessionFrom(rec) != "" {
			t.Fatalf("the right password during the lock: %d; want 401 and no session", rec.Code)
		}
		s.clock.Add(15 * time.Minute)
		s.mustSignIn()
	})
}

func TestSignInIsRateLimitedPerAccountWith429AndRetryAfter(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		for i := 0; i < 5; i++ {
			s.signIn("nobody@lei.example", "guess number "+string(rune('a'+i)), "")
		}
		rec := s.signIn("NOBODY@lei.example", "one guess too many", "")
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("sixth attempt in a moment: %d; want 429", rec.Code)
		}
		if ra := rec.Header().Get("Retry-After"); ra != "12" {
			t.Errorf("Retry-After %q; want 12", ra)
		}
		if !strings.Contains(rec.Body.String(), "Too many attempts to sign in") {
			t.Errorf("the page does not say why:\n%s", rec.Body)
		}
		// Another account from the same address is not held up by this one.
		s.mustSignIn()
		s.clock.Add(12 * time.Second)
		if rec := s.signIn("nobody@lei.example", "after waiting", ""); rec.Code != http.StatusUnauthorized {
			t.Errorf("after Retry-After: %d; want an ordinary 401", rec.Code)
		}
	})
}

func TestSignInIsRateLimitedPerAddress(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		for i := 0; i < 20; i++ {
			email := "someone" + string(rune('a'+i)) + "@lei.example"
			if rec := s.signIn(email, "a guessed password", ""); rec.Code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d", i+1, rec.Code)
			}
		}
		rec := s.signIn(leadEmail, leadPassword, "")
		if rec.Code != http.StatusTooManyRequests || sessionFrom(rec) != "" || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("21st attempt from one address: %d; want 429 with Retry-After and no session", rec.Code)
		}
	})
}

func TestSignInIssuesANewTokenAndNeverPromotesOneThatWasPresented(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		planted := "attacker-chosen-value-attacker-chosen-value"
		rec := s.signIn(leadEmail, leadPassword, planted)
		tok := sessionFrom(rec)
		if tok == "" || tok == planted {
			t.Fatalf("sign-in with a planted cookie set %q", tok)
		}
		if s.signedIn(planted) {
			t.Fatal("the planted value is a valid session after sign-in")
		}
		// Signing in again from a signed-in browser ends the earlier session too.
		again := sessionFrom(s.signIn(leadEmail, leadPassword, tok))
		if again == "" || again == tok {
			t.Fatalf("second sign-in set %q; want a new token", again)
		}
		if s.signedIn(tok) {
			t.Error("the session presented at the second sign-in is still live")
		}
		if !s.signedIn(again) {
			t.Error("the new session does not work")
		}
	})
}

func TestSessionEndsAfterThirtyIdleMinutesOverHTTP(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		tok := s.mustSignIn()
		s.clock.Add(29 * time.Minute)
		if !s.signedIn(tok) {
			t.Fatal("ended after 29 minutes")
		}
		s.clock.Add(29 * time.Minute)
		if !s.signedIn(tok) {
			t.Fatal("a page read did not keep the session alive")
		}
		s.clock.Add(30 * time.Minute)
		if s.signedIn(tok) {
			t.Fatal("live after 30 idle minutes")
		}
	})
}

func TestSessionEndsTwelveHoursAfterSignInOverHTTP(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		tok := s.mustSignIn()
		for i := 0; i < 35; i++ { // 35 × 20 minutes = 11 h 40 min of steady use
			s.clock.Add(20 * time.Minute)
			if !s.signedIn(tok) {
				t.Fatalf("ended after %d minutes of use", (i+1)*20)
			}
		}
		s.clock.Add(20 * time.Minute) // 12 h
		if s.signedIn(tok) {
			t.Fatal("an active session outlived 12 hours")
		}
	})
}

func TestSignOutEndsTheSessionAndClearsTheCookie(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		tok := s.mustSignIn()
		other := s.mustSignIn() // another browser
		rec := s.do(http.MethodPost, "/sign-out", url.Values{}, tok, "Sec-Fetch-Site", "same-origin")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/sign-in" {
			t.Fatalf("sign-out: %d to %q", rec.Code, rec.Header().Get("Location"))
		}
		set := rec.Header().Get("Set-Cookie")
		if !strings.HasPrefix(set, sessionCookie+"=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax") {
			t.Errorf("Set-Cookie %q; want the cookie cleared with the same attributes", set)
		}
		if s.signedIn(tok) {
			t.Error("the session is live after sign-out")
		}
		if !s.signedIn(other) {
			t.Error("signing out one browser ended another's session")
		}
		if s.auditCount("sign_out", "ok") != 1 {
			t.Error("sign-out is not audited")
		}
	})
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		for _, h := range [][]string{
			{"Sec-Fetch-Site", "cross-site"},
			{"Origin", "https://evil.example"},
		} {
			rec := s.do(http.MethodPost, "/sign-in", url.Values{"email": {leadEmail}, "password": {leadPassword}}, "", h...)
			if rec.Code != http.StatusForbidden || sessionFrom(rec) != "" {
				t.Errorf("sign-in posted with %s: %s: %d; want 403 and no session", h[0], h[1], rec.Code)
			}
		}
		tok := s.mustSignIn()
		rec := s.do(http.MethodPost, "/sign-out", url.Values{}, tok, "Sec-Fetch-Site", "cross-site")
		if rec.Code != http.StatusForbidden || !s.signedIn(tok) {
			t.Errorf("cross-site sign-out: %d; want 403 and the session kept", rec.Code)
		}
		if s.auditCount("sign_in_failed", safeguard.EUNAUTHORIZED) != 0 {
			t.Error("a refused cross-origin post reached the sign-in handler")
		}
	})
}

func TestAPIAcceptsTheSessionCookieAndBrowsersAreSentToSignIn(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		tok := s.mustSignIn()
		rec := s.do(http.MethodGet, "/api/v1/concerns", nil, tok)
		if rec.Code != http.StatusOK {
			t.Fatalf("API with the session cookie: %d\n%s", rec.Code, rec.Body)
		}
		rec = s.do(http.MethodGet, "/api/v1/concerns", nil, "")
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"code":"unauthorized"`) {
			t.Fatalf("API with nothing: %d %s; want a JSON 401", rec.Code, rec.Body)
		}
		rec = s.do(http.MethodGet, "/api/v1/concerns", nil, tok, "Authorization", "Bearer sgt_wrong")
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("a wrong bearer token with a good cookie: %d; want 401", rec.Code)
		}
		rec = s.do(http.MethodGet, "/concerns/SG-LEI-2026-00001?q=Testperson", nil, "", "Accept", "text/html")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/sign-in?return=%2Fconcerns%2FSG-LEI-2026-00001" {
			t.Errorf("a browser without a session: %d to %q; want 303 to sign-in with the path and no query", rec.Code, rec.Header().Get("Location"))
		}
	})
}

func TestAdminRevokesAUsersSessionsOverTheAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		a, b := s.mustSignIn(), s.mustSignIn()
		adminToken, err := s.db.CreateToken(context.Background(), s.admin.ID, "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/admin/users/" + itoa(s.lead.ID) + "/sessions/revoke"
		leadToken, _ := s.db.CreateToken(context.Background(), s.lead.ID, "test", nil)
		if rec := s.do(http.MethodPost, path, nil, "", "Authorization", "Bearer "+leadToken); rec.Code != http.StatusForbidden {
			t.Fatalf("a prison lead revoking sessions: %d; want 403", rec.Code)
		}
		if !s.signedIn(a) {
			t.Fatal("a refused revocation ended a session")
		}
		rec := s.do(http.MethodPost, path, nil, "", "Authorization", "Bearer "+adminToken)
		var got struct {
			Revoked int `json:"sessions_revoked"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &got)
		if rec.Code != http.StatusOK || got.Revoked != 2 {
			t.Fatalf("admin revocation: %d %s; want 200 and 2 sessions", rec.Code, rec.Body)
		}
		if s.signedIn(a) || s.signedIn(b) {
			t.Error("a session survived revocation")
		}
		if rec := s.do(http.MethodPost, "/api/v1/admin/users/999999/sessions/revoke", nil, "", "Authorization", "Bearer "+adminToken); rec.Code != http.StatusNotFound {
			t.Errorf("unknown user: %d; want 404", rec.Code)
		}
		if s.auditCount("sessions_revoke", "ok") != 1 || s.auditCount("sessions_revoke", safeguard.EFORBIDDEN) != 1 {
			t.Error("revocations are not audited with their outcome")
		}
	})
}

func TestDisablingAnAccountEndsItsSessionsOverHTTP(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		tok := s.mustSignIn()
		if err := s.db.SetUserDisabled(context.Background(), s.lead.ID, true); err != nil {
			t.Fatal(err)
		}
		if s.signedIn(tok) {
			t.Fatal("a disabled account's session still opens pages")
		}
		if rec := s.do(http.MethodGet, "/api/v1/concerns", nil, tok); rec.Code != http.StatusUnauthorized {
			t.Errorf("a disabled account's session on the API: %d", rec.Code)
		}
	})
}

func TestSetupLinkSetsAPasswordOnceAndSignsIn(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		secret, err := s.db.CreateSetupToken(context.Background(), s.admin.ID, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		rec := s.do(http.MethodGet, "/sign-in/setup?token="+secret, nil, "", "Accept", "text/html")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), adminEmail) {
			t.Fatalf("setup page: %d\n%s", rec.Code, rec.Body)
		}
		post := func(pw, confirm string) *httptest.ResponseRecorder {
			return s.do(http.MethodPost, "/sign-in/setup", url.Values{"token": {secret}, "password": {pw}, "confirm": {confirm}}, "", "Accept", "text/html")
		}
		if rec := post("qwerty123456", "qwerty123456"); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Password is too common") {
			t.Fatalf("a common password: %d\n%s", rec.Code, rec.Body)
		}
		if rec := post("lantern orchard biscuit", "lantern orchard biscuitt"); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Passwords do not match") {
			t.Fatalf("a mismatch: %d", rec.Code)
		}
		rec = post("lantern orchard biscuit", "lantern orchard biscuit")
		if rec.Code != http.StatusSeeOther || sessionFrom(rec) == "" {
			t.Fatalf("a good password: %d; want 303 and a session", rec.Code)
		}
		if rec := post("another good passphrase", "another good passphrase"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("the link used twice: %d; want 401", rec.Code)
		}
		if rec := s.do(http.MethodPost, "/sign-in", url.Values{"email": {adminEmail}, "password": {"lantern orchard biscuit"}}, ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("sign-in with the password set by the link: %d", rec.Code)
		}
	})
}

func TestHSTSIsSentOnlyBehindTLS(t *testing.T) {
	s := newSite(t, sqltest.SQLite(t))
	if rec := s.do(http.MethodGet, "/sign-in", nil, ""); rec.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain HTTP")
	}
	req := httptest.NewRequest(http.MethodGet, "https://safeguard.example/sign-in", nil)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if got := rec.Header().Get("Strict-Transport-Security"); got != "max-age=63072000; includeSubDomains" {
		t.Errorf("HSTS over TLS %q", got)
	}
	s.srv.BaseURL = "https://safeguard.example" // TLS ends at a proxy in front
	if rec := s.do(http.MethodGet, "/sign-in", nil, ""); rec.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS with an https base URL")
	}
	if rec := s.do(http.MethodGet, "/sign-in", nil, ""); rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("the sign-in page may be cached")
	}
}

func TestAPITokenIsRateLimitedWith429(t *testing.T) {
	s := newSite(t, sqltest.SQLite(t))
	s.srv.RateLimits = RateLimits{PerToken: Rate{Every: time.Second, Burst: 5}}
	s.h = s.srv.Handler()
	tok, err := s.db.CreateToken(context.Background(), s.lead.ID, "script", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := s.db.CreateToken(context.Background(), s.lead.ID, "another script", nil)
	for i := 0; i < 5; i++ {
		if rec := s.do(http.MethodGet, "/api/v1/concerns", nil, "", "Authorization", "Bearer "+tok); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, rec.Code)
		}
	}
	rec := s.do(http.MethodGet, "/api/v1/concerns", nil, "", "Authorization", "Bearer "+tok)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), `"code":"rate_limited"`) {
		t.Fatalf("beyond the burst: %d %q %s; want 429, Retry-After 1, rate_limited", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := s.do(http.MethodGet, "/api/v1/concerns", nil, "", "Authorization", "Bearer "+other); rec.Code != http.StatusOK {
		t.Fatalf("another token held up by the first: %d", rec.Code)
	}
	s.clock.Add(time.Second)
	if rec := s.do(http.MethodGet, "/api/v1/concerns", nil, "", "Authorization", "Bearer "+tok); rec.Code != http.StatusOK {
		t.Fatalf("after Retry-After: %d", rec.Code)
	}
}

func TestSafeReturnKeepsOnlyLocalPaths(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "/",
		"/":                           "/",
		"/concerns/SG-LEI-2026-00001": "/concerns/SG-LEI-2026-00001",
		"/concerns?q=Testperson":      "/concerns",
		"//evil.example/x":            "/",
		"/\\evil.example":             "/",
		"https://evil.example/":       "/",
		"javascript:alert(1)":         "/",
		"evil.example":                "/",
		"/%2F/evil.example":           "/",
		"/sign-in?return=//evil":      "/",
		"/ok\r\nSet-Cookie: x=y":      "/",
		"/a b":                        "/a%20b",
	} {
		if got := safeReturn(in); got != want {
			t.Errorf("safeReturn(%q) = %q; want %q", in, got, want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
