package http

import (
	"context"
	"go.temporal.io/sdk/client"
	"net/http"
	"time"
)

// healthz answers 200 while the process can serve at all.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz runs every check. A failed required check (database, Temporal) answers 503; a failed
// optional one (the mail relay) answers 200 with status "degraded": the service still takes
// concerns, and their mail waits in the outbox.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status, code := "ok", http.StatusOK
	checks := map[string]string{}
	for _, c := range s.Checks {
		if err := c.Run(ctx); err != nil {
			s.Logger.Warn("readiness check failed", "check", c.Name, "error", err)
			checks[c.Name] = "unavailable"
			if c.Optional {
				if status == "ok" {
					status = "degraded"
				}
			} else {
				status, code = "unavailable", http.StatusServiceUnavailable
			}
			continue
		}
		checks[c.Name] = "ok"
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": checks})
}

// devMail shows the newest outbox messages. It exists only when there is no SMTP relay, and mail
// carries no personal data by construction (package mail).
func (s *Server) devMail(w http.ResponseWriter, r *http.Request) {
	msgs, err := s.DB.RecentOutbox(r.Context(), 100)
	if err != nil {
		s.error(w, r, unavailable(err))
		return
	}
	v := View{Title: "Development mailbox", Data: msgs}
	if u, err := s.sessionUser(r); err == nil {
		v.User = u
	}
	s.render(w, r, http.StatusOK, "dev-mail", v)
}

// temporalReachable answers at once when Temporal has just been found unreachable, so that a
// write fails fast with 503 instead of waiting out its whole timeout. A failed check is
// remembered for a few seconds, a good one for one second, so that under load not every write
// pays for a health check.
func (s *Server) temporalReachable(ctx context.Context) error {
	s.temporalDown.Lock()
	defer s.temporalDown.Unlock()
	if time.Since(s.temporalDown.at) < 3*time.Second {
		return unavailable(s.temporalDown.err)
	}
	if s.Temporal == nil || time.Since(s.temporalDown.okAt) < time.Second {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		s.temporalDown.at, s.temporalDown.err = time.Now(), err
		return unavailable(err)
	}
	s.temporalDown.okAt = time.Now()
	return nil
}
