package http

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/safeguard-project/safeguard"
)

type userKey struct{}

func userFrom(ctx context.Context) *safeguard.User {
	u, _ := ctx.Value(userKey{}).(*safeguard.User)
	return u
}

// authenticate attributes the request to a user from its bearer token or, without one, from
// the web session cookie, or refuses it: 401 for an API client, a redirect to the sign-in page
// for a browser. A bearer token that is present but wrong is refused even if a cookie is
// valid too, so a script never silently acts as whoever is signed in to the browser.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u *safeguard.User
		var err error
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, secret, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
				s.error(w, r, safeguard.Errorf(safeguard.EUNAUTHORIZED, "sign in or present an API token: Authorization: Bearer <token>"))
				return
			}
			secret = strings.TrimSpace(secret)
			if u, err = s.DB.Authenticate(r.Context(), secret); err != nil {
				s.error(w, r, orUnavailable(err))
				return
			}
			// Limited per token after it is known good: the map holds only real tokens.
			sum := sha256.Sum256([]byte(secret))
			if wait := s.limits.token.wait(hex.EncodeToString(sum[:16]), s.Now()); wait > 0 {
				infoOf(r).user = u
				s.error(w, r, tooMany(w, wait))
				return
			}
		} else if u, err = s.sessionUser(r); err != nil || u == nil {
			if err != nil && safeguard.ErrorCode(err) != safeguard.EUNAUTHORIZED {
				s.error(w, r, orUnavailable(err))
				return
			}
			if wantsHTML(r) {
				s.toSignIn(w, r)
				return
			}
			s.error(w, r, safeguard.Errorf(safeguard.EUNAUTHORIZED, "sign in or present an API token: Authorization: Bearer <token>"))
			return
		}
		infoOf(r).user = u // for the request log
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	})
}

// requireSignIn guards the web pages: the user of the session cookie, or a redirect to the
// sign-in page that comes back here afterwards. Pages take no bearer tokens.
func (s *Server) requireSignIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.sessionUser(r)
		switch {
		case err != nil && safeguard.ErrorCode(err) != safeguard.EUNAUTHORIZED:
			s.webError(w, r, orUnavailable(err))
		case u == nil:
			s.toSignIn(w, r)
		default:
			infoOf(r).user = u
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
		}
	})
}

// sessionUser returns the user of the request's live session; nil and EUNAUTHORIZED without
// one. A dead session's cookie is left for sign-in to replace.
func (s *Server) sessionUser(r *http.Request) (*safeguard.User, error) {
	tok := sessionToken(r)
	if tok == "" {
		return nil, safeguard.Errorf(safeguard.EUNAUTHORIZED, "not signed in")
	}
	u, _, err := s.DB.SessionUser(r.Context(), tok)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// toSignIn sends a browser to the sign-in page with the way back (303: the next request is a
// GET whatever this one was).
func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request) {
	target := "/sign-in"
	if ret := safeReturn(r.URL.Path); ret != "/" {
		target += "?" + url.Values{"return": {ret}}.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// authorizeRead asks the policy whether the caller may read something that is about no one
// concern (a report, a list), auditing a refusal under the action's name; answer writes the
// refusal: s.error for the API, s.webError for pages.
func (s *Server) authorizeRead(w http.ResponseWriter, r *http.Request, a safeguard.Action, answer func(http.ResponseWriter, *http.Request, error)) (*safeguard.User, bool) {
	u := userFrom(r.Context())
	if err := safeguard.Authorize(u, a, nil); err != nil {
		s.audit(r, string(a), "", err)
		answer(w, r, err)
		return nil, false
	}
	return u, true
}
