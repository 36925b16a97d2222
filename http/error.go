package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/safeguard-project/safeguard"
)

// statuses maps application error codes onto HTTP statuses, in this one place.
var statuses = map[string]int{
	safeguard.EMALFORMED:    http.StatusBadRequest,
	safeguard.EUNAUTHORIZED: http.StatusUnauthorized,
	safeguard.EFORBIDDEN:    http.StatusForbidden,
	safeguard.ENOTFOUND:     http.StatusNotFound,
	safeguard.ECONFLICT:     http.StatusConflict,
	safeguard.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	safeguard.EINVALID:      http.StatusUnprocessableEntity,
	safeguard.ERATELIMIT:    http.StatusTooManyRequests,
	safeguard.EUNAVAILABLE:  http.StatusServiceUnavailable,
	safeguard.EINTERNAL:     http.StatusInternalServerError,
}

type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields,omitempty"`
	} `json:"error"`
}

// error writes err as the API's error body. Internal errors are logged here and answered
// without detail.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code := safeguard.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var body errorBody
	body.Error.Code = code
	body.Error.Message = safeguard.ErrorMessage(err)
	var e *safeguard.Error
	if errors.As(err, &e) {
		body.Error.Fields = e.Fields
	}
	switch code {
	case safeguard.EINTERNAL:
		s.Logger.Error("internal error", "route", routeOf(r), "error", err)
	case safeguard.EUNAVAILABLE:
		s.Logger.Warn("dependency unavailable", "route", routeOf(r), "error", err)
		w.Header().Set("Retry-After", "5")
	case safeguard.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="safeguard"`)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// orUnavailable passes application errors through and treats any other failure of a store
// call as the store being unavailable.
func orUnavailable(err error) error {
	if safeguard.ErrorCode(err) == safeguard.EINTERNAL {
		return unavailable(err)
	}
	return err
}

// unavailable marks an infrastructure failure (database, Temporal) as EUNAVAILABLE: the caller
// gets 503 and a retry hint, the log gets the cause.
func unavailable(err error) error {
	return fmt.Errorf("%w: %w", safeguard.Errorf(safeguard.EUNAVAILABLE, "a service this request needs is unavailable; retry shortly"), err)
}
