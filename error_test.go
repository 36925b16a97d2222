package safeguard

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestErrorCodeAndMessage(t *testing.T) {
	notFound := Errorf(ENOTFOUND, "concern %s not found", "SG-LEI-2026-00001")
	for _, tc := range []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"nil has no code", nil, "", "internal error"},
		{"an *Error gives its own code and message", notFound, ENOTFOUND, "concern SG-LEI-2026-00001 not found"},
		{"a wrapped *Error gives the inner code and message",
			fmt.Errorf("find concern: %w", notFound), ENOTFOUND, "concern SG-LEI-2026-00001 not found"},
		{"a twice-wrapped *Error gives the inner code and message",
			fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", Errorf(ECONFLICT, "already acknowledged"))), ECONFLICT, "already acknowledged"},
		{"an *Error joined with a plain error gives the *Error's code",
			errors.Join(io.EOF, Errorf(EUNAVAILABLE, "try again")), EUNAVAILABLE, "try again"},
		{"a plain error is internal and says nothing more", io.ErrUnexpectedEOF, EINTERNAL, "internal error"},
		{"a plain error with secrets in it does not leak them",
			errors.New("pq: password authentication failed for user safeguard"), EINTERNAL, "internal error"},
		{"field errors are invalid", FieldErrors(map[string]string{"summary": "is required"}), EINVALID, "the request has invalid fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(tc.err); got != tc.wantCode {
				t.Errorf("ErrorCode = %q; want %q", got, tc.wantCode)
			}
			if tc.err == nil {
				return
			}
			if got := ErrorMessage(tc.err); got != tc.wantMsg {
				t.Errorf("ErrorMessage = %q; want %q", got, tc.wantMsg)
			}
		})
	}
}

func TestError_Error(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *Error
		want string
	}{
		{"without fields: code and message", Errorf(EFORBIDDEN, "a %s may not %s", RolePartner, "triage"),
			"safeguard: forbidden: a partner may not triage"},
		{"with fields: every field, sorted by path",
			FieldErrors(map[string]string{"summary": "is required", "categories": "is required", "consent.given": "is required"}),
			"safeguard: invalid: the request has invalid fields (categories: is required; consent.given: is required; summary: is required)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q; want %q", got, tc.want)
			}
		})
	}
}
