package http

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/safeguard-project/safeguard"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// sessionCookie names the web session's cookie. The __Host- prefix makes browsers refuse it
// unless it is Secure, has Path=/ and no Domain: no subdomain, and no page served over plain
// HTTP elsewhere on the host, can set or overwrite it.
//
// Secure cookies over http://127.0.0.1 (the embedded default): browsers treat localhost and
// loopback addresses as secure contexts and accept and send Secure (and so __Host-) cookies
// there — Chromium and Firefox do, and Go's cookiejar does too. Anywhere else the service must
// be reached over HTTPS (SAFEGUARD_BASE_URL https://…) for sign-in to work.
const sessionCookie = "__Host-safeguard_session"

// setSessionCookie gives the browser its session token. It is a session cookie (no Max-Age):
// closing the browser forgets it, and the server ends it after the idle and absolute timeouts
// whatever the browser keeps. SameSite=Lax rather than Strict so that a link in a notification
// email opens the concern signed in; cross-site POSTs are refused by CrossOriginProtection.
func setSessionCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// sessionToken returns the session cookie's value, or "".
func sessionToken(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// startSession signs an already identified user in: it ends whatever session the browser
// presented (so a token planted before sign-in is never promoted: fixation), starts a new one
// with a new token and sets the cookie. Every way of signing in (password, setup link, single
// sign-on) ends here; the caller audits how the user was identified.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *safeguard.User) error {
	if old := sessionToken(r); old != "" {
		if _, err := s.DB.RevokeSession(r.Context(), old); err != nil && safeguard.ErrorCode(err) != safeguard.ENOTFOUND {
			return err
		}
	}
	secret, sess, err := s.DB.CreateSession(r.Context(), u.ID, remoteAddr(r), r.UserAgent())
	if err != nil {
		return err
	}
	setSessionCookie(w, secret)
	infoOf(r).user = u
	s.auditAccount(r, &u.ID, "session_start", "ok", fmt.Sprintf("session:%d", sess.ID), "")
	return nil
}

// auditAccount records something done to or by an account (sign-in, sign-out, sessions, tokens,
// users). target names what it is about ("user:12"); detail never holds a password, a token or
// the email someone typed.
func (s *Server) auditAccount(r *http.Request, actor *int64, action, outcome, target, detail string) {
	if err := s.DB.Audit(r.Context(), sgsql.AuditEntry{UserID: actor, Action: action, Outcome: outcome, Remote: remoteAddr(r), Target: target, Detail: detail}); err != nil {
		s.Logger.Error("audit log write failed", "action", action, "error", err)
	}
}

// safeReturn keeps a return path only if it is a path on this site: "/concerns/SG-…", not
// "//evil.example", "/\evil.example" or "https://…" (no open redirect). The query is dropped
// because it may hold a searched name, and the sign-in URL must hold no personal data.
func safeReturn(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	if u.Path == "/sign-in" || u.Path == "/sign-out" || strings.HasPrefix(u.Path, "/sign-in/") {
		return "/"
	}
	return (&url.URL{Path: u.Path}).EscapedPath()
}
