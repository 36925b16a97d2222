// Package safeguard holds the domain of the service: concerns raised about adults at risk in
// prisons and approved premises, the organisations and people who act on them, and the rules
// that decide who may do what. It depends on nothing but the standard library and the
// validator; the packages beneath it (sql, http, workflows, activities, mail, embedded) wrap
// one dependency each and are wired together in cmd/safeguard.
package safeguard

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Application error codes. Each maps onto exactly one HTTP status, in http/error.go.
const (
	EMALFORMED    = "malformed"    // the request could not be parsed
	ETOOLARGE     = "too_large"    // the request body is over the limit
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // credentials are valid but the action is not allowed
	ENOTFOUND     = "not_found"    // absent, or outside the caller's scope (no existence leak)
	ECONFLICT     = "conflict"     // wrong stage, already done, or a key reused differently
	EINVALID      = "invalid"      // validation failed; Fields says where
	ERATELIMIT    = "rate_limited" // too many requests
	EUNAVAILABLE  = "unavailable"  // a dependency is down; the caller may retry
	EINTERNAL     = "internal"     // a bug or an unexpected failure; never shown in detail
)

// Error is the one application error type. Code is machine-readable; Message is safe to show
// to the caller; Fields maps a JSON field path ("subject.prison_number") to what is wrong with it.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("safeguard: %s: %s", e.Code, e.Message)
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return fmt.Sprintf("safeguard: %s: %s (%s)", e.Code, e.Message, strings.Join(parts, "; "))
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrors returns an EINVALID error carrying one message per field.
func FieldErrors(fields map[string]string) *Error {
	return &Error{Code: EINVALID, Message: "the request has invalid fields", Fields: fields}
}

// ErrorCode returns the code of an application error, EINTERNAL for any other non-nil error
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the caller-safe message of an application error; any other error is
// reported as "internal error" so that no detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
