package http

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/safeguard-project/safeguard"
)

func TestPageTemplatesParse(t *testing.T) {
	set, err := loadPages()
	if err != nil {
		t.Fatalf("templates do not parse: %v", err)
	}
	if _, ok := set["error"]; !ok {
		t.Fatalf("no error page among %d pages", len(set))
	}
}

func TestWebErrorIsAPageWithTheMappedStatus(t *testing.T) {
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, tc := range []struct {
		err     error
		status  int
		heading string
	}{
		{safeguard.Errorf(safeguard.ENOTFOUND, "concern not found"), 404, "Page not found"},
		{safeguard.Errorf(safeguard.EFORBIDDEN, "a partner may not triage"), 403, "You cannot do that"},
		{safeguard.Errorf(safeguard.EUNAVAILABLE, "retry shortly"), 503, "Sorry, the service is unavailable"},
		{io.ErrUnexpectedEOF, 500, "Sorry, there is a problem with the service"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/concerns/SG-LEI-2026-00001", nil)
		s.webError(rec, req, tc.err)
		body := rec.Body.String()
		if rec.Code != tc.status {
			t.Errorf("%v: status %d; want %d", tc.err, rec.Code, tc.status)
		}
		if !strings.Contains(body, "<h1>"+tc.heading+"</h1>") {
			t.Errorf("%v: page lacks heading %q:\n%s", tc.err, tc.heading, body)
		}
		if tc.status == 500 && strings.Contains(body, "unexpected EOF") {
			t.Errorf("internal detail leaked into the page:\n%s", body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
	}
}

func TestFormSummaryFollowsPageOrder(t *testing.T) {
	f := &Form{
		Errors: map[string]string{"summary": "Enter a summary", "establishment": "Choose", "categories": "Choose one", "zeta": "z", "alpha": "a"},
		Order:  []string{"establishment", "categories", "summary"},
	}
	var got []string
	for _, e := range f.Summary() {
		got = append(got, e.Field)
	}
	want := "establishment categories summary alpha zeta"
	if strings.Join(got, " ") != want {
		t.Fatalf("summary order %v; want %s", got, want)
	}
}
