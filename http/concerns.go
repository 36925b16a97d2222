package http

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/activities"
	"github.com/safeguard-project/safeguard/calendar"
	sgsql "github.com/safeguard-project/safeguard/sql"
	"github.com/safeguard-project/safeguard/workflows"
)

// england is the calendar deadlines are counted in; london is where concerns are raised, and
// the year in a reference is the year there.
var (
	england = calendar.EnglandAndWales()
	london  = england.Location()
)

// raiseConcern is POST /api/v1/concerns. Checks run in the order that writes nothing on any
// refusal: who is asking (401, 403), the body (400, 413, 422), the establishment (422, 403).
// Only then is a reference allocated and the concern's workflow started with an Update that
// returns once the workflow has recorded the concern.
func (s *Server) raiseConcern(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if err := safeguard.Authorize(u, safeguard.ActionRaise, nil); err != nil {
		s.audit(r, "raise", "", err)
		s.error(w, r, err)
		return
	}
	var raise safeguard.Raise
	if err := decodeJSON(w, r, &raise); err != nil {
		s.error(w, r, err)
		return
	}
	concern, err := s.raise(r, u, &raise, r.Header.Get("Idempotency-Key"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/concerns/"+concern.Reference)
	writeJSON(w, http.StatusCreated, concern)
}

// raise records a concern for the API and the web form alike: the body is validated, the
// establishment looked up and the policy asked for it, and only then is a reference allocated
// and the workflow started. idempotencyKey ("" for none) makes a repeat of the same raise by
// the same person answer with the first concern instead of raising a second.
func (s *Server) raise(r *http.Request, u *safeguard.User, raise *safeguard.Raise, idempotencyKey string) (*safeguard.Concern, error) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	// Ages are judged on the calendar date in England, not in UTC.
	if err := raise.Validate(now.In(london)); err != nil {
		return nil, err
	}
	est, err := s.DB.FindOrganisation(r.Context(), raise.Establishment)
	switch {
	case safeguard.ErrorCode(err) == safeguard.ENOTFOUND || (err == nil && !est.Kind.IsEstablishment()):
		return nil, safeguard.FieldErrors(map[string]string{"establishment": "is not a known prison or approved premises"})
	case err != nil:
		return nil, unavailable(err)
	}
	if err := safeguard.Authorize(u, safeguard.ActionRaise, &safeguard.Involvement{Establishment: est.Code}); err != nil {
		s.audit(r, "raise", "", err)
		return nil, err
	}

	var key *sgsql.IdempotencyKey
	if k := strings.TrimSpace(idempotencyKey); k != "" {
		if len(k) > 200 {
			return nil, safeguard.FieldErrors(map[string]string{"Idempotency-Key": "must be at most 200 characters"})
		}
		body, _ := json.Marshal(raise)
		sum := sha256.Sum256(body)
		key = &sgsql.IdempotencyKey{UserID: u.ID, Key: k, RequestHash: hex.EncodeToString(sum[:])}
	}
	ref, replay, err := s.DB.AllocateReference(r.Context(), est.Code, now.In(london).Year(), key)
	if err != nil {
		return nil, orUnavailable(err)
	}
	concern, err := s.startConcern(r.Context(), workflows.ConcernInput{
		RaiseInput:       activities.RaiseInput{Reference: ref, HostLA: est.HostLA, RaisedBy: u.ID, RaisedAt: now, Raise: *raise},
		Policy:           &s.Policy,
		SearchAttributes: s.SearchAttributes,
	})
	if err != nil {
		return nil, err
	}
	s.audit(r, "raise", ref, nil)
	if !replay {
		s.Metrics.ConcernsRaised.Inc()
	}
	return concern, nil
}

// startConcern starts the concern's workflow, or joins it if a repeat of the same raise already
// started it, and waits for the recorded concern. The workflow ID is the reference and the
// Update ID is fixed, so a repeat gets the first answer.
func (s *Server) startConcern(ctx context.Context, in workflows.ConcernInput) (*safeguard.Concern, error) {
	if err := s.temporalReachable(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.RaiseTimeout)
	defer cancel()
	start := s.Temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       in.Reference,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// The stage and next deadline go with the start, so the workflow need not upsert them
		// in its first task (a history event and a visibility write fewer per raise). They
		// hold no personal data: Temporal stores search attributes unencrypted.
		TypedSearchAttributes: workflows.StartSearchAttributes(in),
	}, workflows.Concern, in)
	handle, err := s.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID:     "raised",
			UpdateName:   workflows.UpdateRaised,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return nil, s.recordingUnavailable(in.Reference, err)
	}
	var c safeguard.Concern
	if err := handle.Get(ctx, &c); err != nil {
		return nil, s.recordingUnavailable(in.Reference, err)
	}
	return &c, nil
}

// recordingUnavailable is the answer when the workflow could not be reached or did not finish
// recording in time. The concern is not lost if the workflow started: it will be recorded, and
// repeating the request with the same Idempotency-Key returns it.
func (s *Server) recordingUnavailable(ref string, err error) error {
	s.Logger.Warn("raise not confirmed", "reference", ref, "error", err)
	return fmt.Errorf("%w: %w", safeguard.Errorf(safeguard.EUNAVAILABLE,
		"the concern could not be confirmed in time; repeat the request with the same Idempotency-Key to get its outcome"), err)
}

// getConcern is GET /api/v1/concerns/{ref}: the access policy decides on the concern's
// involvement, and the read itself is scoped in SQL as well, in the scope the policy gives.
// An admin may break glass with a reason in the X-Break-Glass-Reason header
// (safeguard.AuthorizeRead): such a read, and any refused attempt, is audited as
// break_glass_read with the reason and flagged for review.
func (s *Server) getConcern(w http.ResponseWriter, r *http.Request) {
	if wantsHTML(r) {
		s.concernPage(w, r)
		return
	}
	c, _, err := s.readConcern(r, mux.Vars(r)["ref"], strings.TrimSpace(r.Header.Get(safeguard.BreakGlassHeader)))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// readConcern reads one concern for the signed-in user, as the API and the concern page both
// do: the policy decides on its involvement, the read is scoped in SQL, and the read (or its
// refusal) is audited. It also returns the involvement, for asking the policy about actions.
func (s *Server) readConcern(r *http.Request, ref, reason string) (*safeguard.Concern, *safeguard.Involvement, error) {
	u := userFrom(r.Context())
	if _, _, _, ok := safeguard.ParseReference(ref); !ok {
		return nil, nil, safeguard.Errorf(safeguard.ENOTFOUND, "concern not found")
	}
	// A bad reason is refused before the concern is looked up, so the answer says nothing
	// about whether it exists.
	if err := safeguard.CheckBreakGlassReason(reason); err != nil {
		return nil, nil, err
	}
	inv, err := s.DB.Involvement(r.Context(), ref)
	var scope safeguard.Scope
	var brokeGlass bool
	if err == nil {
		scope, brokeGlass, err = safeguard.AuthorizeRead(u, inv, reason)
	}
	var c *safeguard.Concern
	if err == nil {
		c, err = s.DB.FindConcern(r.Context(), scope, ref)
	}
	if reason != "" && (brokeGlass || err != nil) {
		s.auditEntry(r, auditEntry{action: string(safeguard.ActionBreakGlassRead), ref: ref, outcome: outcomeOf(err), detail: reason, flagged: true})
	} else {
		s.audit(r, "read", ref, err)
	}
	if err != nil {
		return nil, nil, orUnavailable(err)
	}
	return c, inv, nil
}

type concernList struct {
	Items      []*safeguard.Concern `json:"items"`
	NextCursor string               `json:"next_cursor"`
}

// listConcerns is GET /api/v1/concerns?stage=&establishment=&overdue=&q=&limit=&cursor=.
func (s *Server) listConcerns(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if err := safeguard.Authorize(u, safeguard.ActionList, nil); err != nil {
		s.error(w, r, err)
		return
	}
	f, err := parseFilter(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f.Now = s.Now()
	items, next, err := s.DB.ListConcerns(r.Context(), safeguard.ScopeOf(u), f)
	s.audit(r, "list", "", err)
	if err != nil {
		s.error(w, r, orUnavailable(err))
		return
	}
	writeJSON(w, http.StatusOK, concernList{Items: items, NextCursor: next})
}

func parseFilter(r *http.Request) (safeguard.ConcernFilter, error) {
	q := r.URL.Query()
	f := safeguard.ConcernFilter{
		Stage:         safeguard.Stage(q.Get("stage")),
		Establishment: strings.ToUpper(strings.TrimSpace(q.Get("establishment"))),
		Q:             strings.TrimSpace(q.Get("q")),
		Cursor:        q.Get("cursor"),
		Limit:         50,
	}
	fields := map[string]string{}
	if f.Stage != "" && !f.Stage.Valid() {
		fields["stage"] = "must be one of notification, enquiry, la_contribution, closure, closed, no_further_action, handed_over, paused"
	}
	switch q.Get("overdue") {
	case "", "false":
	case "true":
		f.Overdue = true
	default:
		fields["overdue"] = "must be true or false"
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			fields["limit"] = "must be a whole number from 1 to 200"
		}
		f.Limit = n
	}
	if len(f.Q) > 100 {
		fields["q"] = "must be at most 100 characters"
	}
	if len(fields) > 0 {
		return f, safeguard.FieldErrors(fields)
	}
	return f, nil
}

// decodeJSON reads one JSON object into v. A body that is not JSON, or has fields the API does
// not know, is EMALFORMED; a value of the wrong type is EINVALID on that field; a body over
// maxBody is ETOOLARGE.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			var mbe *http.MaxBytesError
			if errors.As(terr, &mbe) {
				return safeguard.Errorf(safeguard.ETOOLARGE, "the request body is over %d bytes", maxBody)
			}
			return safeguard.Errorf(safeguard.EMALFORMED, "the request body must hold one JSON object and nothing after it")
		}
		return nil
	}
	var (
		mbe  *http.MaxBytesError
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		unkn = strings.HasPrefix(err.Error(), "json: unknown field ")
	)
	switch {
	case errors.As(err, &mbe):
		return safeguard.Errorf(safeguard.ETOOLARGE, "the request body is over %d bytes", maxBody)
	case errors.Is(err, io.EOF):
		return safeguard.Errorf(safeguard.EMALFORMED, "the request body is empty: send a JSON object")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return safeguard.Errorf(safeguard.EMALFORMED, "the request body is not valid JSON")
	case errors.As(err, &typ) && typ.Field != "":
		return safeguard.FieldErrors(map[string]string{typ.Field: "must be " + jsonType(typ.Type.Kind().String())})
	case errors.As(err, &typ):
		return safeguard.Errorf(safeguard.EMALFORMED, "the request body must be a JSON object")
	case unkn:
		return safeguard.Errorf(safeguard.EMALFORMED, "the request body has a field the API does not know: %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return safeguard.Errorf(safeguard.EMALFORMED, "the request body could not be read")
	}
}

// jsonType names a Go kind as the JSON type a caller should send.
func jsonType(kind string) string {
	switch kind {
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "slice", "array":
		return "a list"
	case "struct", "map", "ptr":
		return "an object"
	case "int", "int64", "float64":
		return "a number"
	}
	return "a " + kind
}

// audit records a read or write of a concern, allowed or not. A failure to write the audit log
// is logged: the request has already been decided.
func (s *Server) audit(r *http.Request, action, ref string, err error) {
	s.auditEntry(r, auditEntry{action: action, ref: ref, outcome: outcomeOf(err)})
}

// outcomeOf is what the audit log says of a decision: "ok", or the error's code.
func outcomeOf(err error) string {
	if err != nil {
		return safeguard.ErrorCode(err)
	}
	return "ok"
}

// auditEntry is an audit row as a handler sees it; the user and address come from the request.
type auditEntry struct {
	action, ref, outcome string
	detail               string // never the personal details of the adult
	flagged              bool   // for review: a break-glass read
}

func (s *Server) auditEntry(r *http.Request, e auditEntry) {
	var uid *int64
	if u := userFrom(r.Context()); u != nil {
		uid = &u.ID
	}
	err := s.DB.Audit(r.Context(), sgsql.AuditEntry{UserID: uid, Action: e.action, Reference: e.ref, Outcome: e.outcome, Remote: remoteAddr(r),
		Detail: e.detail, Flagged: e.flagged})
	if err != nil {
		s.Logger.Error("audit log write failed", "action", e.action, "error", err)
	}
}
