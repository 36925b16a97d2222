package http

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/http/oidctest"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// These tests sign in through a real OpenID Connect provider running in the test process
// (oidctest): discovery, keys and token exchange go over real HTTP, as in production. The test
// plays the browser between the two.

// withSSO turns single sign-on on for a site, against a fresh provider.
func withSSO(t *testing.T, s *site) *oidctest.Provider {
	t.Helper()
	p := oidctest.Start(t, "safeguard", "client-secret-for-tests")
	o, err := NewOIDC(context.Background(), p.URL, p.ClientID, p.ClientSecret, "https://safeguard.example/sign-in/oidc/callback")
	if err != nil {
		t.Fatal(err)
	}
	s.srv.OIDC = o
	s.h = s.srv.Handler()
	return p
}

// ssoResult is where a single sign-on attempt ended.
type ssoResult struct {
	status   int
	location string
	session  string // the session cookie set, or ""
	body     string
}

// ssoSignIn walks the browser through the flow: our redirect to the provider, the provider's
// redirect back, and our callback. rewrite may change the callback URL's query (an attacker's
// state, a replayed code).
func ssoSignIn(t *testing.T, s *site, rewrite func(url.Values)) (ssoResult, string) {
	t.Helper()
	start := s.do(http.MethodGet, "/sign-in/oidc?return=/concerns/SG-LEI-2026-00001", nil, "")
	if start.Code != http.StatusSeeOther {
		t.Fatalf("/sign-in/oidc answered %d; want 303 to the provider", start.Code)
	}
	var flow *http.Cookie
	for _, c := range start.Result().Cookies() {
		if c.Name == oidcCookie {
			flow = c
		}
	}
	if flow == nil || !flow.Secure || !flow.HttpOnly || flow.SameSite != http.SameSiteLaxMode || flow.Path != "/" || flow.Domain != "" {
		t.Fatalf("flow cookie = %+v; want a host-only, Secure, HttpOnly, SameSite=Lax cookie", flow)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(start.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("provider answered %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if back.Path != "/sign-in/oidc/callback" {
		t.Fatalf("provider sent the browser to %s", back)
	}
	q := back.Query()
	if rewrite != nil {
		rewrite(q)
	}
	callback := "/sign-in/oidc/callback?" + q.Encode()
	req := s.do(http.MethodGet, callback, nil, "", "Cookie", flow.Name+"="+flow.Value, "Accept", "text/html")
	return ssoResult{status: req.Code, location: req.Header().Get("Location"), session: sessionFrom(req), body: req.Body.String()}, callback + "\x00" + flow.Value
}

func (s *site) auditActions(t *testing.T, action string) int {
	t.Helper()
	var n int
	if err := s.db.Get(&n, s.db.Rebind(`SELECT COUNT(*) FROM audit_log WHERE action = ?`), action); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSingleSignOnSignsInAKnownPersonWithPKCEStateAndNonce(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		p := withSSO(t, s)
		p.SignInAs(oidctest.Identity{Subject: "idp-lead-1", Email: "LEAD@lei.example", EmailVerified: true})
		got, _ := ssoSignIn(t, s, nil)
		if got.status != http.StatusSeeOther || got.location != "/concerns/SG-LEI-2026-00001" || got.session == "" {
			t.Fatalf("callback answered %d to %q, session %q; want 303 back to the concern with a session\n%s", got.status, got.location, got.session, got.body)
		}
		// The session is the lead's.
		home := s.do(http.MethodGet, "/", nil, got.session, "Accept", "text/html")
		if home.Code != http.StatusOK || !strings.Contains(home.Body.String(), s.lead.Name) {
			t.Fatalf("home with the single sign-on session answered %d:\n%s", home.Code, home.Body)
		}
		// What the client asked the provider for.
		if len(p.Requests) != 1 {
			t.Fatalf("%d authorization requests; want 1", len(p.Requests))
		}
		q := p.Requests[0]
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			if len(q.Get(k)) < 32 {
				t.Errorf("authorization request %s = %q; want a long random value", k, q.Get(k))
			}
		}
		if q.Get("code_challenge_method") != "S256" || !strings.Contains(q.Get("scope"), "openid") {
			t.Errorf("authorization request = %v; want S256 PKCE and the openid scope", q)
		}
		if q.Get("state") == q.Get("nonce") {
			t.Error("state and nonce are the same value")
		}
		if n := s.auditActions(t, "sign_in"); n != 1 {
			t.Errorf("%d sign_in audit rows; want 1", n)
		}
	})
}

func TestSingleSignOnRefusesWhatAStrictClientMust(t *testing.T) {
	cases := []struct {
		name    string
		who     oidctest.Identity
		tamper  func(map[string]any)
		rewrite func(url.Values)
	}{
		{name: "the state does not match the browser's", rewrite: func(q url.Values) { q.Set("state", "forged-state") }},
		{name: "the ID token's nonce is not this sign-in's", tamper: func(c map[string]any) { c["nonce"] = "another-sign-in" }},
		{name: "the ID token is for another client", tamper: func(c map[string]any) { c["aud"] = "someone-else" }},
		{name: "the ID token is from another issuer", tamper: func(c map[string]any) { c["iss"] = "https://evil.example" }},
		{name: "the ID token has expired", tamper: func(c map[string]any) { c["exp"] = c["iat"].(int64) - 60 }},
		{name: "the code is not the provider's", rewrite: func(q url.Values) { q.Set("code", "made-up") }},
		{name: "the provider refused the person", rewrite: func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") }},
		{name: "the email is not verified", who: oidctest.Identity{Subject: "x", Email: leadEmail, EmailVerified: false}},
		{name: "there is no account and no claims to make one", who: oidctest.Identity{Subject: "x", Email: "new@lei.example", EmailVerified: true}},
		{name: "the claims would make an admin", who: oidctest.Identity{Subject: "x", Email: "new@lei.example", EmailVerified: true,
			Claims: map[string]any{"safeguard_org": "LEI", "safeguard_role": "admin"}}},
		{name: "the claims pair a role with the wrong kind of organisation", who: oidctest.Identity{Subject: "x", Email: "new@lei.example", EmailVerified: true,
			Claims: map[string]any{"safeguard_org": "LEI", "safeguard_role": "la_practitioner"}}},
		{name: "the claims name an organisation that does not exist", who: oidctest.Identity{Subject: "x", Email: "new@lei.example", EmailVerified: true,
			Claims: map[string]any{"safeguard_org": "XXX", "safeguard_role": "prison_lead"}}},
	}
	forEachStore(t, func(t *testing.T, s *site) {
		p := withSSO(t, s)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				who := tc.who
				if who.Email == "" {
					who = oidctest.Identity{Subject: "idp-lead-1", Email: leadEmail, EmailVerified: true}
				}
				p.SignInAs(who)
				p.Tamper = tc.tamper
				before := s.auditActions(t, "sign_in_failed")
				got, _ := ssoSignIn(t, s, tc.rewrite)
				if got.session != "" || got.status != http.StatusUnauthorized {
					t.Fatalf("callback answered %d with session %q; want 401 and no session", got.status, got.session)
				}
				if !strings.Contains(got.body, "Single sign-on did not complete") {
					t.Errorf("the page does not explain:\n%s", got.body)
				}
				if after := s.auditActions(t, "sign_in_failed"); after != before+1 {
					t.Errorf("sign_in_failed audit rows went %d -> %d; want one more", before, after)
				}
				if _, err := s.db.FindUserByEmail(context.Background(), "new@lei.example"); safeguard.ErrorCode(err) != safeguard.ENOTFOUND {
					t.Errorf("a refused sign-on left an account behind (err %v)", err)
				}
			})
		}
		p.Tamper = nil
	})
}

func TestSingleSignOnCodeAndFlowAreGoodOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		p := withSSO(t, s)
		p.SignInAs(oidctest.Identity{Subject: "idp-lead-1", Email: leadEmail, EmailVerified: true})
		first, replay := ssoSignIn(t, s, nil)
		if first.session == "" {
			t.Fatalf("first sign-on failed: %d\n%s", first.status, first.body)
		}
		callback, cookie, _ := strings.Cut(replay, "\x00")
		again := s.do(http.MethodGet, callback, nil, "", "Cookie", oidcCookie+"="+cookie, "Accept", "text/html")
		if again.Code != http.StatusUnauthorized || sessionFrom(again) != "" {
			t.Fatalf("a replayed callback answered %d with a session %q; want 401 and none", again.Code, sessionFrom(again))
		}
		noCookie := s.do(http.MethodGet, callback, nil, "", "Accept", "text/html")
		if noCookie.Code != http.StatusUnauthorized {
			t.Fatalf("a callback without the flow cookie answered %d; want 401", noCookie.Code)
		}
	})
}

func TestSingleSignOnProvisionsFromClaimsAndHonoursDisabledAccounts(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *site) {
		p := withSSO(t, s)
		p.SignInAs(oidctest.Identity{Subject: "idp-9", Email: "New.Practitioner@Leeds.example", EmailVerified: true,
			Claims: map[string]any{"safeguard_org": "E08000035", "safeguard_role": "la_practitioner", "name": "Nia Practitioner"}})
		got, _ := ssoSignIn(t, s, nil)
		if got.session == "" {
			t.Fatalf("provisioning sign-on failed: %d\n%s", got.status, got.body)
		}
		u, err := s.db.FindUserByEmail(context.Background(), "new.practitioner@leeds.example")
		if err != nil {
			t.Fatal(err)
		}
		if u.OrgCode != "E08000035" || u.Role != safeguard.RoleLAPractitioner || u.Name != "Nia Practitioner" {
			t.Errorf("provisioned %+v", u)
		}
		if n := s.auditActions(t, "user_create"); n != 1 {
			t.Errorf("%d user_create audit rows; want 1", n)
		}
		// A second sign-on finds the same account and does not make another.
		if again, _ := ssoSignIn(t, s, nil); again.session == "" {
			t.Fatalf("second sign-on failed: %d", again.status)
		}
		if n := s.auditActions(t, "user_create"); n != 1 {
			t.Errorf("%d user_create audit rows after a second sign-on; want 1", n)
		}
		// Disabled: the provider still vouches for them, safeguard does not let them in.
		if err := s.db.SetUserDisabled(context.Background(), u.ID, true); err != nil {
			t.Fatal(err)
		}
		if off, _ := ssoSignIn(t, s, nil); off.session != "" || off.status != http.StatusUnauthorized {
			t.Fatalf("a disabled account signed on: %d", off.status)
		}
	})
}

func TestSignInPageOffersSingleSignOnOnlyWhenConfigured(t *testing.T) {
	s := newSite(t, sqltest.SQLite(t))
	page := s.do(http.MethodGet, "/sign-in", nil, "", "Accept", "text/html")
	if strings.Contains(page.Body.String(), "/sign-in/oidc") {
		t.Error("the sign-in page offers single sign-on without a provider")
	}
	if res := s.do(http.MethodGet, "/sign-in/oidc", nil, ""); res.Code != http.StatusNotFound {
		t.Errorf("/sign-in/oidc without a provider answered %d; want 404", res.Code)
	}
	withSSO(t, s)
	page = s.do(http.MethodGet, "/sign-in?return=/concerns/SG-LEI-2026-00001", nil, "", "Accept", "text/html")
	if !strings.Contains(page.Body.String(), `href="/sign-in/oidc?return=%2fconcerns%2fSG-LEI-2026-00001"`) {
		t.Errorf("the sign-in page does not offer single sign-on with the return path:\n%s", page.Body)
	}
}
