package http

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/safeguard-project/safeguard"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// actionPaths maps the last segment of POST /api/v1/concerns/{ref}/… onto the lifecycle action.
// "close" is two actions: the lead proposes closure, a prison manager signs it off.
var actionPaths = map[string]safeguard.Action{
	"acknowledge":           safeguard.ActionAcknowledge,
	"triage":                safeguard.ActionTriage,
	"contribution-requests": safeguard.ActionRequestAdvice,
	"contributions":         safeguard.ActionContribute,
	"findings":              safeguard.ActionFindings,
	"close":                 safeguard.ActionProposeClosure,
	"pause":                 safeguard.ActionPause,
	"resume":                safeguard.ActionResume,
	"transfer":              safeguard.ActionTransfer,
	"release":               safeguard.ActionRelease,
	"reopen":                safeguard.ActionReopen,
}

// act is POST /api/v1/concerns/{ref}/{action}. As for a raise, every refusal comes before
// anything is written: authentication, scope and role (401, 404, 403), the body (400, 413,
// 422), then the workflow's validator, which checks the stage (409). The Update's answer is
// the concern's new state.
func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	ref := mux.Vars(r)["ref"]
	action, err := s.authorizeAction(r, u, ref, mux.Vars(r)["action"])
	if err != nil {
		s.error(w, r, err)
		return
	}
	var in safeguard.Input
	if err := decodeJSON(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	c, err := s.perform(r, u, ref, action, in, r.Header.Get("Idempotency-Key"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// authorizeAction turns the last segment of an action's path into the action and asks the
// policy whether u may take it on the concern (ENOTFOUND, EFORBIDDEN), auditing a refusal.
// The API and the concern page's forms both ask here before reading the body.
func (s *Server) authorizeAction(r *http.Request, u *safeguard.User, ref, path string) (safeguard.Action, error) {
	action, ok := actionPaths[path]
	if !ok {
		return "", safeguard.Errorf(safeguard.ENOTFOUND, "no such action")
	}
	if action == safeguard.ActionProposeClosure && u.Role == safeguard.RolePrisonManager {
		action = safeguard.ActionSignOffClosure
	}
	if _, _, _, ok := safeguard.ParseReference(ref); !ok {
		return "", safeguard.Errorf(safeguard.ENOTFOUND, "concern not found")
	}
	inv, err := s.DB.Involvement(r.Context(), ref)
	if err == nil {
		err = safeguard.Authorize(u, action, inv)
	}
	if err != nil {
		s.audit(r, string(action), ref, err)
		return "", orUnavailable(err)
	}
	return action, nil
}

// perform checks an authorized action's input field by field, looks up the organisation it
// names, and sends the concern's workflow the Update, whose validator checks the stage (409).
// It answers with the concern's new state.
func (s *Server) perform(r *http.Request, u *safeguard.User, ref string, action safeguard.Action, in safeguard.Input, idempotencyKey string) (*safeguard.Concern, error) {
	if err := in.Validate(action); err != nil {
		return nil, err
	}
	cmd := safeguard.Command{Action: action, Actor: *u, Input: in}
	if code, field := in.Target(action); code != "" {
		org, err := s.DB.FindOrganisation(r.Context(), code)
		if safeguard.ErrorCode(err) == safeguard.ENOTFOUND {
			return nil, safeguard.FieldErrors(map[string]string{field: "is not a known organisation"})
		} else if err != nil {
			return nil, unavailable(err)
		}
		cmd.Target = org
	}
	c, err := s.update(r.Context(), ref, idempotencyKey, cmd)
	s.audit(r, string(action), ref, err)
	return c, err
}

// update sends one lifecycle Update and waits for its answer. With an Idempotency-Key the
// Update ID is derived from it, so a repeat gets the first answer instead of acting twice.
func (s *Server) update(ctx context.Context, ref, key string, cmd safeguard.Command) (*safeguard.Concern, error) {
	if err := s.temporalReachable(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.RaiseTimeout)
	defer cancel()
	opts := client.UpdateWorkflowOptions{WorkflowID: ref, UpdateName: string(cmd.Action), Args: []any{cmd}, WaitForStage: client.WorkflowUpdateStageCompleted}
	if key = strings.TrimSpace(key); key != "" {
		if len(key) > 200 {
			return nil, safeguard.FieldErrors(map[string]string{"Idempotency-Key": "must be at most 200 characters"})
		}
		opts.UpdateID = fmt.Sprintf("%s/%d/%s", cmd.Action, cmd.Actor.ID, key)
	}
	handle, err := s.Temporal.UpdateWorkflow(ctx, opts)
	var c safeguard.Concern
	if err == nil {
		err = handle.Get(ctx, &c)
	}
	if err != nil {
		return nil, s.updateError(ref, err)
	}
	return &c, nil
}

// updateError maps what Temporal answered onto the domain's errors: a refusal by the workflow's
// validator carries the domain code as its type; an unknown workflow is an unknown concern;
// anything else means the engine could not be reached in time.
func (s *Server) updateError(ref string, err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch code := appErr.Type(); code {
		case safeguard.ECONFLICT, safeguard.EFORBIDDEN, safeguard.ENOTFOUND, safeguard.EINVALID:
			e := &safeguard.Error{Code: code, Message: appErr.Message()}
			var fields map[string]string
			if appErr.HasDetails() && appErr.Details(&fields) == nil {
				e.Fields = fields
			}
			return e
		}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return safeguard.Errorf(safeguard.ENOTFOUND, "concern not found")
	}
	s.Logger.Warn("update not confirmed", "reference", ref, "error", err)
	return fmt.Errorf("%w: %w", safeguard.Errorf(safeguard.EUNAVAILABLE,
		"the action could not be confirmed in time; repeat it with the same Idempotency-Key to get its outcome"), err)
}

// overdueRow is one line of the overdue list.
type overdueRow struct {
	Reference       string     `json:"reference"`
	Establishment   string     `json:"establishment"`
	Stage           string     `json:"stage"`
	Clock           string     `json:"clock"`
	Organisation    string     `json:"organisation"`
	Due             time.Time  `json:"due"`
	WorkingDaysLate int        `json:"working_days_overdue"`
	Step            int        `json:"step_reached"`
	BreachedAt      *time.Time `json:"breached_at,omitempty"`
}

// overdue is GET /api/v1/overdue: every clock past due in the caller's scope, most overdue
// first, as JSON or, with Accept: text/csv, as CSV: all of them, read from the database a
// batch at a time and written as they are read.
func (s *Server) overdue(w http.ResponseWriter, r *http.Request) {
	csvOut := strings.Contains(r.Header.Get("Accept"), "text/csv")
	err := s.streamOverdue(w, r, sgsql.OverdueQuery{}, func() {
		if csvOut {
			startOverdueCSV(w)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"items":[`)
	}, func(i int, o overdueRow) error {
		if csvOut {
			return writeOverdueCSVRow(w, o)
		}
		if i > 0 {
			io.WriteString(w, ",")
		}
		return json.NewEncoder(w).Encode(o)
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	if !csvOut {
		io.WriteString(w, "]}\n")
	}
}

// overdueBatch is how many overdue rows are read from the database at a time when all of them
// are written out.
var overdueBatch = 1000

// overdueRead asks the policy whether the user may read the overdue list and returns their
// scope and the time the list is read at.
func (s *Server) overdueRead(r *http.Request) (safeguard.Scope, time.Time, error) {
	u := userFrom(r.Context())
	if err := safeguard.Authorize(u, safeguard.ActionReadOverdue, nil); err != nil {
		return safeguard.Scope{}, time.Time{}, err
	}
	return safeguard.ScopeOf(u), s.Now(), nil
}

// overdueRowOf is a clock of the overdue list with working days late counted in England's calendar.
func overdueRowOf(o sgsql.OverdueClock, now time.Time) overdueRow {
	return overdueRow{o.Reference, o.Establishment, o.Stage, o.Clock, o.Organisation, o.Due, england.WorkingDaysBetween(o.Due, now), o.Step, o.BreachedAt}
}

// streamOverdue writes every row q keeps (q's limit, offset and After are ignored), in q's
// order: asked of the policy, scoped in SQL, audited, read overdueBatch rows at a time by keyset
// so that no number of rows is held in memory or left out. start is called once, before the
// first row (with none, too), after the first read has succeeded; row is called for each row.
// An error before start is returned for the caller to answer with; one after it ends the
// stream, which is then short, and is logged.
func (s *Server) streamOverdue(w http.ResponseWriter, r *http.Request, q sgsql.OverdueQuery, start func(), row func(int, overdueRow) error) error {
	scope, now, err := s.overdueRead(r)
	if err != nil {
		return err
	}
	q.Limit, q.Offset, q.After = overdueBatch, 0, nil
	rows, err := s.DB.OverdueList(r.Context(), scope, now, q)
	s.audit(r, "read_overdue", "", err)
	if err != nil {
		return unavailable(err)
	}
	start()
	n := 0
	for {
		for _, o := range rows {
			if err := row(n, overdueRowOf(o, now)); err != nil {
				return nil // the client has gone
			}
			n++
		}
		if len(rows) < q.Limit {
			break
		}
		q.After = &rows[len(rows)-1]
		if rows, err = s.DB.OverdueList(r.Context(), scope, now, q); err != nil {
			s.Logger.Warn("overdue list cut short", "rows", n, "error", err)
			break
		}
	}
	if f, ok := w.(interface{ Flush() }); ok {
		f.Flush()
	}
	return nil
}

// startOverdueCSV writes the overdue CSV's headers and header line.
func startOverdueCSV(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="overdue.csv"`)
	io.WriteString(w, "reference,establishment,stage,clock,organisation,due,working_days_overdue,step_reached\n")
}

// writeOverdueCSVRow writes one overdue row as a CSV line.
func writeOverdueCSVRow(w io.Writer, o overdueRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{o.Reference, o.Establishment, o.Stage, o.Clock, o.Organisation, o.Due.Format(time.RFC3339), strconv.Itoa(o.WorkingDaysLate), strconv.Itoa(o.Step)})
	cw.Flush()
	return cw.Error()
}
