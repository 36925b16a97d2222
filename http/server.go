// Package http serves the JSON API (/api/v1), the health and metrics endpoints and, in the
// embedded default, the development mailbox. It maps HTTP onto the domain one-to-one: a raise
// starts a concern's workflow, a read reads SQL, and every decision about access goes through
// safeguard.Authorize.
package http

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/metrics"
	"github.com/safeguard-project/safeguard/policy"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// maxBody is the largest request body accepted: a raise with every text field at its limit is
// well under it.
const maxBody = 64 << 10

// Check is one readiness check; Optional ones degrade the service rather than stop it.
type Check struct {
	Name     string
	Optional bool
	Run      func(context.Context) error
}

// Server is the HTTP side of the service.
type Server struct {
	DB       *sgsql.DB
	Temporal client.Client
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
	Checks   []Check
	DevMail  bool             // serve /dev/mail: only when there is no SMTP relay
	Now      func() time.Time // the raising clock; time.Now outside tests

	// Policy is the deadline policy new concerns are raised under; each keeps it for life.
	Policy policy.Policy
	// SearchAttributes says the Temporal namespace has the service's search attributes, so
	// workflows may keep them current.
	SearchAttributes bool

	// RaiseTimeout bounds how long a raise waits for its workflow to record the concern.
	RaiseTimeout time.Duration

	// Checkpoints reads the signed checkpoints of the audit chain (package checkpoint), for
	// /api/v1/audit/verify; nil verifies the chain alone.
	Checkpoints interface {
		Read() ([]safeguard.AuditCheckpoint, []safeguard.AuditProblem, error)
	}

	// OIDC, when set, offers single sign-on beside local accounts (oidc.go).
	OIDC *OIDC

	// BaseURL is the public URL (SAFEGUARD_BASE_URL); https:// turns on HSTS.
	BaseURL string
	// Lockout is the rule for repeated failed sign-ins; the zero value means DefaultLockout.
	Lockout safeguard.Lockout
	// RateLimits for sign-in and API tokens; the zero value means DefaultRateLimits.
	RateLimits RateLimits
	limits     struct{ address, account, token *limiter }

	// temporalDown remembers a failed health check of Temporal, briefly (temporalReachable).
	temporalDown struct {
		sync.Mutex
		at   time.Time // when Temporal was last found unreachable
		err  error
		okAt time.Time // when it was last found reachable
	}
}

// Handler returns the service's routes wrapped in its middleware.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.RaiseTimeout == 0 {
		s.RaiseTimeout = 20 * time.Second
	}
	if s.Lockout == (safeguard.Lockout{}) {
		s.Lockout = safeguard.DefaultLockout
	}
	if s.RateLimits == (RateLimits{}) {
		s.RateLimits = DefaultRateLimits
	}
	s.limits.address = newLimiter(s.RateLimits.SignInPerAddress)
	s.limits.account = newLimiter(s.RateLimits.SignInPerAccount)
	s.limits.token = newLimiter(s.RateLimits.PerToken)
	r := mux.NewRouter()
	r.Use(nameRoute)
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet)
	r.Handle("/metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	if s.DevMail {
		r.HandleFunc("/dev/mail", s.devMail).Methods(http.MethodGet)
	}

	api := r.PathPrefix("/api/v1").Subrouter()
	api.Use(s.authenticate)
	api.HandleFunc("/concerns", s.raiseConcern).Methods(http.MethodPost)
	api.HandleFunc("/concerns", s.listConcerns).Methods(http.MethodGet)
	api.HandleFunc("/concerns/{ref}", s.getConcern).Methods(http.MethodGet)
	api.HandleFunc("/concerns/{ref}/access-log", s.accessLog).Methods(http.MethodGet)
	api.HandleFunc("/audit/verify", s.verifyAudit).Methods(http.MethodGet)
	api.HandleFunc("/audit/flagged", s.flaggedReads).Methods(http.MethodGet)
	api.HandleFunc("/concerns/{ref}/{action}", s.act).Methods(http.MethodPost)
	api.HandleFunc("/overdue", s.overdue).Methods(http.MethodGet)
	api.HandleFunc("/reports/sac", s.sacReport).Methods(http.MethodGet)
	api.HandleFunc("/reports/timescales", s.timescales).Methods(http.MethodGet)
	api.HandleFunc("/reports/overdue", s.overdueAuditReport).Methods(http.MethodGet)
	api.HandleFunc("/concerns/{ref}/evidence", s.evidence).Methods(http.MethodGet)
	api.HandleFunc("/admin/users/{id:[0-9]+}/sessions/revoke", s.revokeUserSessions).Methods(http.MethodPost)
	api.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, safeguard.Errorf(safeguard.ENOTFOUND, "no such endpoint"))
	})
	// The web pages (webconcerns.go, webwork.go, webreports.go, webadmin.go): the session
	// cookie only, never a token.
	page := func(h http.HandlerFunc) http.Handler { return s.requireSignIn(h) }
	r.Handle("/concerns/new", page(s.raiseForm)).Methods(http.MethodGet)
	r.Handle("/concerns/new", page(s.raiseSubmit)).Methods(http.MethodPost)
	r.Handle("/concerns/{ref}/contribute", page(s.contributePage)).Methods(http.MethodGet)
	r.Handle("/concerns/{ref}/evidence", page(s.evidencePage)).Methods(http.MethodGet)
	r.Handle("/concerns/{ref}/{action}", page(s.webAct)).Methods(http.MethodPost)
	r.Handle("/overdue", page(s.overdueAudit)).Methods(http.MethodGet)
	r.Handle("/overdue.csv", page(s.overdueAudit)).Methods(http.MethodGet)
	r.Handle("/reports", page(s.reports)).Methods(http.MethodGet)
	r.Handle("/reports/sac.csv", page(s.sacCSV())).Methods(http.MethodGet)
	r.Handle("/reports/timescales.csv", page(s.timescalesCSV())).Methods(http.MethodGet)
	s.adminRoutes(r, page)
	r.HandleFunc("/accessibility", s.staticPage("accessibility", "Accessibility statement")).Methods(http.MethodGet)
	r.HandleFunc("/privacy", s.staticPage("privacy", "Privacy notice")).Methods(http.MethodGet)
	// Links in mail point at the concern's page: HTML for a browser (concernPage), the API's
	// JSON for a client that asks for it, with a session or a token.
	concernPage := r.PathPrefix("/concerns").Subrouter()
	concernPage.Use(s.authenticate)
	concernPage.HandleFunc("/{ref}", s.getConcern).Methods(http.MethodGet)

	r.PathPrefix("/static/").Handler(s.static()).Methods(http.MethodGet, http.MethodHead)

	// Sign-in and the pages that need it. Every POST here, as everywhere, passes
	// CrossOriginProtection below: a form posted from another site is refused.
	r.HandleFunc("/sign-in", s.signInPage).Methods(http.MethodGet)
	r.HandleFunc("/sign-in", s.signIn).Methods(http.MethodPost)
	r.HandleFunc("/sign-in/setup", s.setupPage).Methods(http.MethodGet)
	r.HandleFunc("/sign-in/setup", s.setup).Methods(http.MethodPost)
	if s.OIDC != nil {
		r.HandleFunc("/sign-in/oidc", s.oidcStart).Methods(http.MethodGet)
		r.HandleFunc("/sign-in/oidc/callback", s.oidcCallback).Methods(http.MethodGet)
	}
	r.HandleFunc("/sign-out", s.signOut).Methods(http.MethodPost)
	r.Handle("/", s.requireSignIn(http.HandlerFunc(s.myWork))).Methods(http.MethodGet)

	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsHTML(r) {
			s.webError(w, r, safeguard.Errorf(safeguard.ENOTFOUND, "There is no page at this address."))
			return
		}
		s.error(w, r, safeguard.Errorf(safeguard.ENOTFOUND, "no such page"))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, safeguard.Errorf(safeguard.EMALFORMED, "method %s is not allowed here", r.Method))
	})
	var h http.Handler = r
	h = http.NewCrossOriginProtection().Handler(h)
	h = s.secureHeaders(h)
	h = s.observe(h)
	return h
}

// secureHeaders sets what every answer carries: nothing is cached (answers hold personal
// data), nothing is sniffed or framed, and no referrer leaks a reference to another site.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		// Pages carry no script and no inline style: the policy forbids both.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		// Behind TLS, browsers are told never to come over plain HTTP again (two years).
		if r.TLS != nil || strings.HasPrefix(s.BaseURL, "https://") {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// observe logs each request and records its latency. It logs the route template, never the
// path or query: a query may hold a name searched for.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		defer func() {
			if p := recover(); p != nil {
				s.Logger.Error("panic serving request", "route", routeOf(r), "panic", p)
				if rec.status == 0 {
					s.error(rec, r, errors.New("panic"))
				}
			}
			route := routeOf(r)
			elapsed := time.Since(start)
			s.Metrics.HTTPDuration.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Observe(elapsed.Seconds())
			attrs := []any{"method", r.Method, "route", route, "status", rec.status, "duration_ms", elapsed.Milliseconds()}
			if info.user != nil {
				attrs = append(attrs, "user_id", info.user.ID)
			}
			s.Logger.Info("request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// requestInfo is filled in as a request travels inward (route matched, user authenticated) and
// read by observe on the way out.
type requestInfo struct {
	route string
	user  *safeguard.User
}

type infoKey struct{}

func infoOf(r *http.Request) *requestInfo {
	if p, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
		return p
	}
	return &requestInfo{}
}

// routeOf returns the matched route's template ("/api/v1/concerns/{ref}"), or "unmatched".
func routeOf(r *http.Request) string {
	if t := infoOf(r).route; t != "" {
		return t
	}
	return "unmatched"
}

// nameRoute records the matched route's template where observe can read it after the handler.
func nameRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t, err := mux.CurrentRoute(r).GetPathTemplate(); err == nil {
			infoOf(r).route = t
		}
		next.ServeHTTP(w, r)
	})
}

// remoteAddr is the client's address for the audit log.
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
