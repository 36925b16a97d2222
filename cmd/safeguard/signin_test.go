package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// cli runs a safeguard command in-process with the given environment and stdin.
func cli(t *testing.T, e env, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, e.get, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// browser is an HTTP client with a cookie jar that does not follow redirects, so each step
// can be checked.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func fetch(t *testing.T, c *http.Client, method, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestSignInWithAPasswordAndReadAConcernWithTheSession runs the real service: the first start
// prints the admin's one-time link, which sets a password; a prison lead's password is set
// from the command line; a browser with a cookie jar signs in over real HTTP (Secure cookies
// on a loopback address), reads a concern with the session, and signs out.
func TestSignInWithAPasswordAndReadAConcernWithTheSession(t *testing.T) {
	e := env{}
	svc := startService(t, e)

	// First run: one admin, and a one-time link on stderr.
	link := regexp.MustCompile(`http://[^\s]+/sign-in/setup\?token=[A-Za-z0-9_-]{43}`).FindString(svc.logs.String())
	if link == "" {
		t.Fatalf("no one-time sign-in link in the service's output:\n%s", svc.logs.String())
	}
	admin := browser(t)
	if res, body := fetch(t, admin, "GET", link, nil); res.StatusCode != 200 || !strings.Contains(body, "admin@localhost") {
		t.Fatalf("the setup link: %d\n%s", res.StatusCode, body)
	}
	token := strings.SplitN(link, "token=", 2)[1]
	res, _ := fetch(t, admin, "POST", svc.base+"/sign-in/setup", url.Values{"token": {token}, "password": {"granite owl tuesday lantern"}, "confirm": {"granite owl tuesday lantern"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("setting the admin's password: %d", res.StatusCode)
	}
	if res, body := fetch(t, admin, "GET", svc.base+"/", nil); res.StatusCode != 200 || !strings.Contains(body, "Signed in as Administrator") {
		t.Fatalf("the admin is not signed in after setting the password: %d\n%s", res.StatusCode, body)
	}
	if res, _ := fetch(t, browser(t), "GET", link, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the one-time link opened twice: %d; want 401", res.StatusCode)
	}

	// A prison lead's password, set from the command line; a common one is refused first.
	if code, _, errOut := cli(t, e, "password1234\n", "user", "password", "--email", lead, "--password-stdin"); code == 0 || !strings.Contains(errOut, "too common") {
		t.Fatalf("a common password was accepted: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, e, "birch ferry ink saltmarsh\n", "user", "password", "--email", lead, "--password-stdin"); code != 0 {
		t.Fatalf("user password: %d %s", code, errOut)
	}
	ref := svc.raise(t)

	b := browser(t)
	res, body := fetch(t, b, "GET", svc.base+"/concerns/"+ref, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/sign-in?return=%2Fconcerns%2F"+ref {
		t.Fatalf("the concern page before sign-in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body = fetch(t, b, "POST", svc.base+"/sign-in", url.Values{"email": {lead}, "password": {"birch ferry ink saltmarsh"}, "return": {"/concerns/" + ref}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/concerns/"+ref {
		t.Fatalf("sign-in: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	res, body = fetch(t, b, "GET", svc.base+"/api/v1/concerns/"+ref, nil)
	if res.StatusCode != 200 || !strings.Contains(body, `"reference":"`+ref+`"`) {
		t.Fatalf("reading the concern with the session cookie: %d\n%s", res.StatusCode, body)
	}
	if res, body := fetch(t, b, "GET", svc.base+"/", nil); res.StatusCode != 200 || !strings.Contains(body, "Signed in as Demo Prison Lead") {
		t.Fatalf("landing page: %d\n%s", res.StatusCode, body)
	}
	if res, _ := fetch(t, b, "POST", svc.base+"/sign-out", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	if res, _ := fetch(t, b, "GET", svc.base+"/api/v1/concerns/"+ref, nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the concern after sign-out: %d; want 401", res.StatusCode)
	}
	var n int
	if err := svc.db().Get(&n, `SELECT COUNT(*) FROM audit_log WHERE action IN ('sign_in', 'sign_out', 'password_change') AND outcome = 'ok'`); err != nil {
		t.Fatal(err)
	}
	if n < 4 { // admin sign-in, lead's password, lead sign-in, sign-out
		t.Errorf("%d sign-in, sign-out and password entries in the audit log; want at least 4", n)
	}
}

// TestAccountCommands drives the user and token commands against a database, without the
// service: token list shows no secret, revoke stops the token, a bad password creates no user.
func TestAccountCommands(t *testing.T) {
	e := env{"DATABASE_URL": sqltest.SQLite(t), "SAFEGUARD_DATA_DIR": t.TempDir()}
	if code, _, errOut := cli(t, e, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	if code, _, errOut := cli(t, e, "short\n", "user", "add", "--email", "lead@lei.example", "--name", "A Lead", "--org", "LEI", "--role", "prison_lead", "--password-stdin"); code == 0 || !strings.Contains(errOut, "12 characters") {
		t.Fatalf("a short password: %d %s", code, errOut)
	}
	if code, _, _ := cli(t, e, "", "token", "list", "--email", "lead@lei.example"); code == 0 {
		t.Fatal("a refused password still created the user")
	}
	if code, _, errOut := cli(t, e, "birch ferry ink saltmarsh\n", "user", "add", "--email", "lead@lei.example", "--name", "A Lead", "--org", "LEI", "--role", "prison_lead", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %s", errOut)
	}
	_, secret, _ := cli(t, e, "", "token", "create", "--email", "lead@lei.example", "--name", "laptop")
	secret = strings.TrimSpace(secret)
	code, list, _ := cli(t, e, "", "token", "list", "--email", "lead@lei.example")
	if code != 0 || !regexp.MustCompile(`(?m)^1\s+laptop\s+\d{4}-\d\d-\d\dT\S+Z\s+-\s+-\s+-\s*$`).MatchString(list) || strings.Contains(list, secret) || strings.Contains(list, "sgt_") {
		t.Fatalf("token list:\n%s", list)
	}
	if code, out, errOut := cli(t, e, "", "token", "revoke", "--id", "1"); code != 0 || !strings.Contains(out, "token 1 (laptop) revoked") {
		t.Fatalf("token revoke: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(t, e, "", "token", "revoke", "--id", "1"); code != 1 || !strings.Contains(errOut, "already revoked") {
		t.Errorf("revoking twice: %d %s", code, errOut)
	}
	if code, _, _ := cli(t, e, "", "user", "disable", "--email", "lead@lei.example"); code != 0 {
		t.Fatal("user disable failed")
	}
}
