package http

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/safeguard-project/safeguard"
)

// Single sign-on through OpenID Connect: the authorization code flow with PKCE (S256), a state
// that ties the callback to the browser that started it, and a nonce that ties the ID token to
// that same sign-in. The provider says who the person is; safeguard decides what they may do.
//
// A person is matched to their safeguard account by the verified email in the ID token. A
// person without an account is given one only when the provider also names their organisation
// and role (OrgClaim, RoleClaim) and that pairing is valid; the provider can never make anyone
// an admin, since that would let whoever runs the provider take over the service.

// oidcCookie carries state, nonce, PKCE verifier and return path between the redirect to the
// provider and the callback. It is host-only, Secure and HttpOnly; SameSite=Lax because the
// callback is a top-level navigation from the provider's site.
const oidcCookie = "__Host-safeguard_oidc"

// oidcFlowTTL bounds how long a person may take at the provider.
const oidcFlowTTL = 10 * time.Minute

// OIDC is a configured single sign-on provider.
type OIDC struct {
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
	// OrgClaim and RoleClaim name the ID token claims that carry a new person's organisation
	// code and role; "" turns provisioning from claims off.
	OrgClaim, RoleClaim string
	// HTTPClient talks to the provider (discovery, keys, token exchange).
	HTTPClient *http.Client
}

// NewOIDC discovers the provider at issuer. redirectURL is this service's callback,
// <base URL>/sign-in/oidc/callback.
func NewOIDC(ctx context.Context, issuer, clientID, clientSecret, redirectURL string) (*OIDC, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discover %s: %w", issuer, err)
	}
	return &OIDC{
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
		oauth: oauth2.Config{
			ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURL,
			Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
		},
		OrgClaim:   "safeguard_org",
		RoleClaim:  "safeguard_role",
		HTTPClient: client,
	}, nil
}

// oidcStart sends the browser to the provider.
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	ret := safeReturn(r.URL.Query().Get("return"))
	http.SetCookie(w, &http.Cookie{
		Name: oidcCookie, Value: strings.Join([]string{state, nonce, verifier, base64.RawURLEncoding.EncodeToString([]byte(ret))}, "."),
		Path: "/", MaxAge: int(oidcFlowTTL.Seconds()), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	url := s.OIDC.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	http.Redirect(w, r, url, http.StatusSeeOther)
}

// oidcCallback finishes the flow: checks the state, redeems the code with the PKCE verifier,
// verifies the ID token (signature, issuer, audience, expiry) and its nonce, finds or
// provisions the person, and starts a session.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	// The flow cookie is spent whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	fail := func(detail string, err error) {
		if err != nil {
			s.Logger.Warn("single sign-on failed", "detail", detail, "error", err)
		}
		s.auditAccount(r, nil, "sign_in_failed", safeguard.EUNAUTHORIZED, "", "single sign-on: "+detail)
		s.webError(w, r, safeguard.Errorf(safeguard.EUNAUTHORIZED, "Single sign-on did not complete. Try again, or ask your administrator if it keeps failing."))
	}
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		fail("no sign-in in progress", nil)
		return
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 4 {
		fail("malformed flow cookie", nil)
		return
	}
	state, nonce, verifier := parts[0], parts[1], parts[2]
	retBytes, _ := base64.RawURLEncoding.DecodeString(parts[3])
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		fail("state mismatch", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		fail("provider answered "+truncate(e, 40), nil)
		return
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), s.OIDC.HTTPClient), 15*time.Second)
	defer cancel()
	tok, err := s.OIDC.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		fail("code exchange", err)
		return
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		fail("no id_token", nil)
		return
	}
	idt, err := s.OIDC.verifier.Verify(ctx, raw)
	if err != nil {
		fail("id_token verification", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		fail("nonce mismatch", nil)
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		fail("claims", err)
		return
	}
	u, created, detail, err := s.oidcUser(r.Context(), claims)
	if created {
		s.auditAccount(r, &u.ID, "user_create", "ok", fmt.Sprintf("user:%d", u.ID), "provisioned by single sign-on")
	}
	if err != nil {
		if safeguard.ErrorCode(err) == safeguard.EINTERNAL {
			s.webError(w, r, orUnavailable(err))
			return
		}
		fail(detail, nil)
		return
	}
	if err := s.startSession(w, r, u); err != nil {
		s.webError(w, r, orUnavailable(err))
		return
	}
	s.auditAccount(r, &u.ID, "sign_in", "ok", fmt.Sprintf("user:%d", u.ID), "single sign-on")
	http.Redirect(w, r, safeReturn(string(retBytes)), http.StatusSeeOther)
}

// oidcUser finds the account for a verified email, or provisions one from the organisation and
// role claims (created). The detail says why a person was refused, for the audit log; it holds
// no personal data.
func (s *Server) oidcUser(ctx context.Context, claims map[string]any) (u *safeguard.User, created bool, detail string, err error) {
	refuse := func(why string) (*safeguard.User, bool, string, error) {
		return nil, false, why, safeguard.Errorf(safeguard.EUNAUTHORIZED, "single sign-on refused: %s", why)
	}
	email, _ := claims["email"].(string)
	if verified, _ := claims["email_verified"].(bool); email == "" || !verified {
		return refuse("no verified email")
	}
	u, err = s.DB.FindUserByEmail(ctx, email)
	switch {
	case err == nil && u.Disabled:
		return refuse("account disabled")
	case err == nil:
		return u, false, "", nil
	case safeguard.ErrorCode(err) != safeguard.ENOTFOUND:
		return nil, false, "", err
	}
	org, _ := claims[s.OIDC.OrgClaim].(string)
	role, _ := claims[s.OIDC.RoleClaim].(string)
	switch {
	case s.OIDC.OrgClaim == "" || s.OIDC.RoleClaim == "" || org == "" || role == "":
		return refuse("no account, and no organisation and role claims")
	case safeguard.Role(role) == safeguard.RoleAdmin:
		return refuse("the provider may not make an admin")
	}
	name, _ := claims["name"].(string)
	if strings.TrimSpace(name) == "" {
		name = email
	}
	u = &safeguard.User{Email: strings.ToLower(strings.TrimSpace(email)), Name: name, OrgCode: org, Role: safeguard.Role(role)}
	if err := s.DB.CreateUser(ctx, u); err != nil {
		if code := safeguard.ErrorCode(err); code == safeguard.EINVALID || code == safeguard.ECONFLICT {
			return refuse("organisation and role claims refused (" + code + ")")
		}
		return nil, false, "", err
	}
	u, err = s.DB.FindUserByEmail(ctx, u.Email)
	if err != nil {
		return nil, false, "", err
	}
	return u, true, "", nil
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed: " + err.Error()))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
