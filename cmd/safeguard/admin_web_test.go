package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestAdminPagesChangeAccountsEndToEnd runs the real service and a real admin session (a
// password set from the command line, a sign-in over HTTP) through every change the admin
// pages make, each proved by what it does to another real session or token rather than by the
// page's word alone: a user added through the form sets their password with the one-time link
// and signs in; disabling them ends that session at once; enabling them does not revive it;
// ending their sessions ends the new one; a token created on the page authenticates the API
// until it is revoked there; an organisation is added, and a second with the same code is
// refused field by field with nothing changed. Each change, and each admin view, writes its
// audit row with the admin as actor.
func TestAdminPagesChangeAccountsEndToEnd(t *testing.T) {
	// A port chosen beforehand, so that SAFEGUARD_BASE_URL — what the one-time link is built
	// from — names the address the service really listens on, and the link is followed as given.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e := env{"SAFEGUARD_ADDR": addr, "SAFEGUARD_BASE_URL": "http://" + addr}
	svc := startService(t, e)
	const adminPassword = "lichen anvil orchard drum"
	if code, _, errOut := cli(t, e, adminPassword+"\n", "user", "password", "--email", admin, "--password-stdin"); code != 0 {
		t.Fatalf("user password: %s", errOut)
	}
	var adminID int64
	if err := svc.db().Get(&adminID, `SELECT id FROM users WHERE email = ?`, admin); err != nil {
		t.Fatal(err)
	}

	// audited counts the admin's audit rows with this action, target and outcome.
	audited := func(action, target, outcome string) int {
		t.Helper()
		var n int
		if err := svc.db().Get(&n, `SELECT COUNT(*) FROM audit_log WHERE user_id = ? AND action = ? AND target = ? AND outcome = ?`,
			adminID, action, target, outcome); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// view opens an admin page and checks that the view wrote exactly one more audit row.
	view := func(c *http.Client, path, action, target string) string {
		t.Helper()
		before := audited(action, target, "ok")
		res, body := fetch(t, c, "GET", svc.base+path, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, res.StatusCode, body)
		}
		if after := audited(action, target, "ok"); after != before+1 {
			t.Errorf("GET %s wrote %d %s audit rows for %q; want 1", path, after-before, action, target)
		}
		return body
	}
	post := func(c *http.Client, path string, form url.Values, want int) (*http.Response, string) {
		t.Helper()
		res, body := fetch(t, c, "POST", svc.base+path, form)
		if res.StatusCode != want {
			t.Fatalf("POST %s: %d, want %d\n%s", path, res.StatusCode, want, body)
		}
		return res, body
	}
	signIn := func(c *http.Client, email, password string) int {
		t.Helper()
		res, _ := fetch(t, c, "POST", svc.base+"/sign-in", url.Values{"email": {email}, "password": {password}})
		return res.StatusCode
	}
	// signedIn says whether the client's session cookie still works, on a page and on the API.
	signedIn := func(c *http.Client) bool {
		t.Helper()
		page, _ := fetch(t, c, "GET", svc.base+"/", nil)
		api, _ := fetch(t, c, "GET", svc.base+"/api/v1/concerns", nil)
		if (page.StatusCode == http.StatusOK) != (api.StatusCode == http.StatusOK) {
			t.Fatalf("the page (%d) and the API (%d) disagree about the session", page.StatusCode, api.StatusCode)
		}
		if page.StatusCode != http.StatusOK && (page.StatusCode != http.StatusSeeOther || !strings.HasPrefix(page.Header.Get("Location"), "/sign-in") || api.StatusCode != http.StatusUnauthorized) {
			t.Fatalf("a dead session: the page answered %d to %q, the API %d", page.StatusCode, page.Header.Get("Location"), api.StatusCode)
		}
		return page.StatusCode == http.StatusOK
	}

	a := browser(t)
	if code := signIn(a, admin, adminPassword); code != http.StatusSeeOther {
		t.Fatalf("the admin's sign-in: %d", code)
	}
	view(a, "/admin/users", "admin_view_users", "")

	// Add a user through the form; the one-time link on the page sets their password.
	const email, password = "new.worker@leeds.example.org", "tidal marrow quince sparrow"
	_, body := post(a, "/admin/users", url.Values{"email": {email}, "name": {"New Worker"}, "org": {"e08000035"}, "role": {"la_practitioner"}}, http.StatusOK)
	if !strings.Contains(body, "New Worker has been added") {
		t.Fatalf("no confirmation of the new user:\n%s", body)
	}
	var userID int64
	if err := svc.db().Get(&userID, `SELECT id FROM users WHERE email = ? AND org_code = 'E08000035' AND role = 'la_practitioner' AND NOT disabled`, email); err != nil {
		t.Fatalf("the new user is not stored as added: %v", err)
	}
	target := fmt.Sprintf("user:%d", userID)
	for _, action := range []string{"user_create", "setup_link_create"} {
		if n := audited(action, target, "ok"); n != 1 {
			t.Errorf("%d %s audit rows for %s; want 1", n, action, target)
		}
	}
	link := regexp.MustCompile(`<code class="secret">(http://[^<\s]+/sign-in/setup\?token=[A-Za-z0-9_-]{43})</code>`).FindStringSubmatch(body)
	if link == nil || !strings.HasPrefix(link[1], svc.base+"/") {
		t.Fatalf("no one-time link to %s on the page:\n%s", svc.base, body)
	}
	u := browser(t)
	if res, page := fetch(t, u, "GET", link[1], nil); res.StatusCode != http.StatusOK || !strings.Contains(page, email) {
		t.Fatalf("the one-time link: %d\n%s", res.StatusCode, page)
	}
	token := strings.SplitN(link[1], "token=", 2)[1]
	if res, _ := fetch(t, u, "POST", svc.base+"/sign-in/setup", url.Values{"token": {token}, "password": {password}, "confirm": {password}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("setting the password with the link: %d", res.StatusCode)
	}
	if res, page := fetch(t, u, "GET", svc.base+"/", nil); res.StatusCode != http.StatusOK || !strings.Contains(page, "Signed in as New Worker") {
		t.Fatalf("the new user is not signed in after setting the password: %d\n%s", res.StatusCode, page)
	}
	if res, _ := fetch(t, browser(t), "GET", link[1], nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the one-time link worked twice: %d", res.StatusCode)
	}
	userPage := fmt.Sprintf("/admin/users/%d", userID)
	if page := view(a, userPage, "admin_view_user", target); !strings.Contains(page, "1 session") || !strings.Contains(page, "Active") {
		t.Errorf("the user's page does not show one live session:\n%s", page)
	}

	// Disable: their live session stops at once, and so does signing in.
	res, _ := post(a, userPage+"/disable", url.Values{}, http.StatusSeeOther)
	if res.Header.Get("Location") != userPage+"?done=disable" {
		t.Errorf("disable redirected to %q", res.Header.Get("Location"))
	}
	if signedIn(u) {
		t.Fatal("the disabled user's session still works")
	}
	if code := signIn(browser(t), email, password); code != http.StatusUnauthorized {
		t.Errorf("a disabled user signed in: %d", code)
	}
	if page := view(a, userPage+"?done=disable", "admin_view_user", target); !strings.Contains(page, "The account is disabled") || !strings.Contains(page, "Disabled") {
		t.Errorf("the user's page does not say the account is disabled:\n%s", page)
	}
	// An admin cannot disable themselves: refused, nothing changed.
	post(a, fmt.Sprintf("/admin/users/%d/disable", adminID), url.Values{}, http.StatusConflict)
	if !signedIn(a) {
		t.Fatal("the admin's refused self-disable ended their session")
	}

	// Enable: the old session stays ended; a new sign-in works.
	post(a, userPage+"/enable", url.Values{}, http.StatusSeeOther)
	if signedIn(u) {
		t.Error("enabling the account revived the session that disabling ended")
	}
	if code := signIn(u, email, password); code != http.StatusSeeOther || !signedIn(u) {
		t.Fatalf("the enabled user cannot sign in: %d", code)
	}

	// End every session: the new one stops.
	post(a, userPage+"/sign-out", url.Values{}, http.StatusSeeOther)
	if signedIn(u) {
		t.Error("the user's session survived ending every session")
	}
	if page := view(a, userPage+"?done=sign-out", "admin_view_user", target); !strings.Contains(page, "0 sessions") {
		t.Errorf("the user's page does not show the sessions ended:\n%s", page)
	}

	// A token: a form without a name is refused and creates nothing; then one is shown once,
	// authenticates the API, and stops when revoked.
	tokens := svc.count(t, "tokens")
	_, body = post(a, userPage+"/tokens", url.Values{"name": {" "}, "expires_in_days": {"0"}}, http.StatusUnprocessableEntity)
	if !strings.Contains(body, "Enter a name to recognise the token by") || !strings.Contains(body, "Days until it expires must be a whole number") {
		t.Errorf("a bad token form is not explained field by field:\n%s", body)
	}
	if svc.count(t, "tokens") != tokens {
		t.Errorf("a refused token form stored a token")
	}
	_, body = post(a, userPage+"/tokens", url.Values{"name": {"nightly export"}, "expires_in_days": {"30"}}, http.StatusOK)
	secret := regexp.MustCompile(`<code class="secret">(sgt_[^<]+)</code>`).FindStringSubmatch(body)
	if secret == nil {
		t.Fatalf("the new token is not shown:\n%s", body)
	}
	if got := svc.do("GET", "/api/v1/concerns", secret[1], nil); got.status != http.StatusOK {
		t.Fatalf("the new token does not authenticate the API: %d %s", got.status, got.body)
	}
	page := view(a, userPage, "admin_view_user", target)
	if strings.Contains(page, secret[1]) || !strings.Contains(page, "nightly export") {
		t.Error("the user's page shows the secret again, or not the token")
	}
	revoke := regexp.MustCompile(`action="/admin/tokens/(\d+)/revoke"`).FindStringSubmatch(page)
	if revoke == nil {
		t.Fatalf("no revoke form for the token:\n%s", page)
	}
	res, _ = post(a, "/admin/tokens/"+revoke[1]+"/revoke", url.Values{}, http.StatusSeeOther)
	if res.Header.Get("Location") != userPage+"?done=revoke" {
		t.Errorf("revoke redirected to %q", res.Header.Get("Location"))
	}
	if got := svc.do("GET", "/api/v1/concerns", secret[1], nil); got.status != http.StatusUnauthorized {
		t.Errorf("the revoked token still authenticates the API: %d", got.status)
	}
	for _, row := range []struct{ action, target string }{
		{"user_disable", target}, {"user_enable", target}, {"sessions_revoke", target}, {"token_create", target}, {"token_revoke", "token:" + revoke[1]},
	} {
		if n := audited(row.action, row.target, "ok"); n != 1 {
			t.Errorf("%d %s audit rows for %s; want 1", n, row.action, row.target)
		}
	}
	if n := audited("user_disable", fmt.Sprintf("user:%d", adminID), "ok"); n != 0 {
		t.Errorf("the refused self-disable was audited as done")
	}

	// An organisation, then the same code again: refused on the code (and on each other bad
	// field), and nothing changed.
	view(a, "/admin/organisations", "admin_view_organisations", "")
	police := url.Values{"kind": {"police"}, "code": {"wy-police"}, "name": {"West Yorkshire Police"}, "inbox": {"safeguarding@westyorkshire.police.example.uk"}}
	_, body = post(a, "/admin/organisations", police, http.StatusOK)
	if !strings.Contains(body, "The organisation WY-POLICE has been added") {
		t.Errorf("no confirmation of the new organisation:\n%s", body)
	}
	var name string
	if err := svc.db().Get(&name, `SELECT name FROM organisations WHERE code = 'WY-POLICE' AND kind = 'police'`); err != nil || name != "West Yorkshire Police" {
		t.Fatalf("the organisation is not stored as added: %q %v", name, err)
	}
	orgs, audits := svc.count(t, "organisations"), svc.count(t, "audit_log")
	_, body = post(a, "/admin/organisations", url.Values{"kind": {"police"}, "code": {"WY-POLICE"}, "name": {"Another Force"}, "inbox": {"not an address"}}, http.StatusUnprocessableEntity)
	for _, want := range []string{"There is a problem", `href="#f-code"`, "An organisation with the code WY-POLICE already exists", `href="#f-inbox"`, "Safeguarding inbox must be a plain email address"} {
		if !strings.Contains(body, want) {
			t.Errorf("the duplicate organisation's refusal lacks %q", want)
		}
	}
	if err := svc.db().Get(&name, `SELECT name FROM organisations WHERE code = 'WY-POLICE'`); err != nil || name != "West Yorkshire Police" {
		t.Errorf("the refused duplicate changed the organisation: %q %v", name, err)
	}
	if svc.count(t, "organisations") != orgs || svc.count(t, "audit_log") != audits {
		t.Errorf("the refused duplicate wrote something: organisations %d -> %d, audit rows %d -> %d", orgs, svc.count(t, "organisations"), audits, svc.count(t, "audit_log"))
	}
	if n := audited("organisation_create", "organisation:WY-POLICE", "ok"); n != 1 {
		t.Errorf("%d organisation_create audit rows; want 1", n)
	}
	view(a, "/admin/policy", "admin_view_policy", "")

	// A refused view is audited under the same action, as forbidden.
	if code := signIn(u, email, password); code != http.StatusSeeOther {
		t.Fatalf("the user's sign-in: %d", code)
	}
	var forbidden int
	for _, path := range []string{"/admin/users", userPage, "/admin/organisations", "/admin/policy"} {
		if res, _ := fetch(t, u, "GET", svc.base+path, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("a practitioner opened %s: %d", path, res.StatusCode)
		}
	}
	if err := svc.db().Get(&forbidden, `SELECT COUNT(*) FROM audit_log WHERE user_id = ? AND action LIKE 'admin_view_%' AND outcome = 'forbidden'`, userID); err != nil {
		t.Fatal(err)
	}
	if forbidden != 4 {
		t.Errorf("%d refused admin views audited; want 4", forbidden)
	}
}
