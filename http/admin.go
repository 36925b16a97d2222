package http

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/safeguard-project/safeguard"
)

// revokeUserSessions ends every web session of a user: an admin's answer to a lost laptop or
// a shared screen left signed in. API tokens are revoked separately (safeguard token revoke).
func (s *Server) revokeUserSessions(w http.ResponseWriter, r *http.Request) {
	actor := userFrom(r.Context())
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	target := fmt.Sprintf("user:%d", id)
	if err := safeguard.Authorize(actor, safeguard.ActionManageUsers, nil); err != nil {
		s.auditAccount(r, &actor.ID, "sessions_revoke", safeguard.ErrorCode(err), target, "")
		s.error(w, r, err)
		return
	}
	if _, err := s.DB.FindUser(r.Context(), id); err != nil {
		s.error(w, r, orUnavailable(err))
		return
	}
	n, err := s.DB.RevokeUserSessions(r.Context(), id)
	if err != nil {
		s.error(w, r, orUnavailable(err))
		return
	}
	s.auditAccount(r, &actor.ID, "sessions_revoke", "ok", target, fmt.Sprintf("%d sessions ended", n))
	writeJSON(w, http.StatusOK, map[string]any{"user_id": id, "sessions_revoked": n})
}
