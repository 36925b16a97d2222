package http

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/safeguard-project/safeguard"
)

// verifyAudit is GET /api/v1/audit/verify: the whole chain and the signed checkpoints,
// verified now. The checkpoints are read first, so that every row they name is committed
// before the chain is read. The verification is itself audited.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.authorizeRead(w, r, safeguard.ActionVerifyAuditLog, s.error); !ok {
		return
	}
	var (
		cps      []safeguard.AuditCheckpoint
		problems []safeguard.AuditProblem
		err      error
	)
	if s.Checkpoints != nil {
		if cps, problems, err = s.Checkpoints.Read(); err != nil {
			s.error(w, r, err)
			return
		}
	}
	rep, err := s.DB.VerifyAudit(r.Context(), cps, problems)
	if err != nil {
		s.error(w, r, orUnavailable(err))
		return
	}
	outcome := "ok"
	if !rep.OK {
		outcome = "tampered"
	}
	s.auditEntry(r, auditEntry{action: string(safeguard.ActionVerifyAuditLog), outcome: outcome})
	writeJSON(w, http.StatusOK, rep)
}

type auditPage struct {
	Items      []safeguard.AuditLogEntry `json:"items"`
	NextCursor string                    `json:"next_cursor"`
}

// accessLog is GET /api/v1/concerns/{ref}/access-log?limit=&cursor=: who read or changed the
// concern, when (UTC), from where and with what outcome, newest first. Its managers and the
// auditor may see it (safeguard.ActionReadAccessLog); outside scope it does not exist (404).
// Reading it is itself audited.
func (s *Server) accessLog(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	ref := mux.Vars(r)["ref"]
	const action = string(safeguard.ActionReadAccessLog)
	if _, _, _, ok := safeguard.ParseReference(ref); !ok {
		s.error(w, r, safeguard.Errorf(safeguard.ENOTFOUND, "concern not found"))
		return
	}
	limit, cursor, err := parsePage(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	inv, err := s.DB.Involvement(r.Context(), ref)
	if err == nil {
		err = safeguard.Authorize(u, safeguard.ActionReadAccessLog, inv)
	}
	var items []safeguard.AuditLogEntry
	var next string
	if err == nil {
		items, next, err = s.DB.AccessLog(r.Context(), ref, cursor, limit)
	}
	s.audit(r, action, ref, err)
	if err != nil {
		s.error(w, r, orUnavailable(err))
		return
	}
	writeJSON(w, http.StatusOK, auditPage{Items: items, NextCursor: next})
}

// flaggedReads is GET /api/v1/audit/flagged?limit=&cursor=: the reads flagged for review
// (admins breaking glass), newest first, with the concern and the reason given.
func (s *Server) flaggedReads(w http.ResponseWriter, r *http.Request) {
	const action = string(safeguard.ActionReviewFlaggedReads)
	err := safeguard.Authorize(userFrom(r.Context()), safeguard.ActionReviewFlaggedReads, nil)
	var limit int
	var cursor string
	if err == nil {
		limit, cursor, err = parsePage(r)
	}
	var items []safeguard.AuditLogEntry
	var next string
	if err == nil {
		items, next, err = s.DB.FlaggedReads(r.Context(), cursor, limit)
	}
	s.audit(r, action, "", err)
	if err != nil {
		s.error(w, r, orUnavailable(err))
		return
	}
	writeJSON(w, http.StatusOK, auditPage{Items: items, NextCursor: next})
}

// parsePage reads limit (1 to 200, default 50) and cursor.
func parsePage(r *http.Request) (limit int, cursor string, err error) {
	q := r.URL.Query()
	limit = 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return 0, "", safeguard.FieldErrors(map[string]string{"limit": "must be a whole number from 1 to 200"})
		}
		limit = n
	}
	return limit, q.Get("cursor"), nil
}
