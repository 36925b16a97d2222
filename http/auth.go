package http

import (
	"context"
	"net/http"
	"strings"

	"github.com/safeguard-project/safeguard"
)

type userKey struct{}

func userFrom(ctx context.Context) *safeguard.User {
	u, _ := ctx.Value(userKey{}).(*safeguard.User)
	return u
}

// authenticate attributes the request to a user from its bearer token, or answers 401. Web
// sessions slot in here as a second way to find the user.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
			s.error(w, r, safeguard.Errorf(safeguard.EUNAUTHORIZED, "sign in or present an API token: Authorization: Bearer <token>"))
			return
		}
		u, err := s.DB.Authenticate(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			s.error(w, r, orUnavailable(err))
			return
		}
		infoOf(r).user = u // for the request log
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	})
}
