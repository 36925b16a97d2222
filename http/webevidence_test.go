package http

import (
	"net/http"
	"strings"
	"testing"

	"github.com/safeguard-project/safeguard"
)

// TestEvidencePageIsTheAPIsBundleAskedOfAuthorizeAndAudited signs in as the prison's manager and
// opens the printable evidence bundle: it shows the chronology, the outbox's mail and the access
// log down to the hash of this very read; the concern page links to it for the manager only;
// other authorities' managers get 404 and the prison lead 403, each refusal audited.
func TestEvidencePageIsTheAPIsBundleAskedOfAuthorizeAndAudited(t *testing.T) {
	forEachStore(t, func(t *testing.T, base *site) {
		s := newReportSite(t, base)
		ref := s.refs[0]
		const pw = "evidence bundle manager password"
		s.user("governor@lei.example", "LEI", safeguard.RolePrisonManager, pw)
		s.user("head@wakefield.example", "E08000036", safeguard.RoleLAManager, pw)
		session := func(email string) string {
			t.Helper()
			tok := sessionFrom(s.signIn(email, pw, ""))
			if tok == "" {
				t.Fatalf("%s could not sign in", email)
			}
			return tok
		}
		manager, wakefield, lead := session("governor@lei.example"), session("head@wakefield.example"), s.mustSignIn()
		action := string(safeguard.ActionReadEvidence)
		okBefore := s.auditCount(action, "ok")

		rec := s.do(http.MethodGet, "/concerns/"+ref+"/evidence", nil, manager, "Accept", "text/html")
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("evidence page: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		body := rec.Body.String()
		if s.auditCount(action, "ok") != okBefore+1 {
			t.Error("the page's read is not audited")
		}
		var hash string
		if err := s.db.Get(&hash, s.db.Rebind(`SELECT hash FROM audit_log WHERE reference = ? ORDER BY id DESC LIMIT 1`), ref); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Evidence bundle for concern " + ref, "Chronology", "adults@E08000035.example", "New concern " + ref, hash} {
			if !strings.Contains(body, want) {
				t.Errorf("evidence page lacks %q", want)
			}
		}
		if strings.Contains(body, "style=") {
			t.Error("the evidence page uses inline style; its print rules belong in site.css")
		}

		link := `href="/concerns/` + ref + `/evidence"`
		if rec := s.do(http.MethodGet, "/concerns/"+ref, nil, manager, "Accept", "text/html"); !strings.Contains(rec.Body.String(), link) {
			t.Errorf("the concern page does not link the manager to the evidence bundle (%d)", rec.Code)
		}
		if rec := s.do(http.MethodGet, "/concerns/"+ref, nil, lead, "Accept", "text/html"); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), link) {
			t.Errorf("the concern page (%d) links the prison lead, who may not read it, to the evidence bundle", rec.Code)
		}

		deniedBefore := s.auditCount(action, "forbidden") + s.auditCount(action, "not_found")
		if rec := s.do(http.MethodGet, "/concerns/"+ref+"/evidence", nil, wakefield, "Accept", "text/html"); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), hash) {
			t.Errorf("another authority's manager: %d; want 404 without the bundle", rec.Code)
		}
		if rec := s.do(http.MethodGet, "/concerns/"+ref+"/evidence", nil, lead, "Accept", "text/html"); rec.Code != http.StatusForbidden {
			t.Errorf("prison lead: %d; want 403", rec.Code)
		}
		if got := s.auditCount(action, "forbidden") + s.auditCount(action, "not_found"); got != deniedBefore+2 {
			t.Errorf("refusals audited: %d; want 2", got-deniedBefore)
		}
	})
}
