package http

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/safeguard-project/safeguard"
)

// readEvidence is the one way to an evidence bundle, for the JSON export and the printable
// page alike: Authorize decides (managers of an organisation involved, the auditor; 404 out of
// scope), the asking is audited, allowed or refused, before anything is read, so the bundle's
// access log ends with this very read, and the bundle is gathered in the caller's scope.
func (s *Server) readEvidence(r *http.Request, ref string) (*safeguard.EvidenceBundle, error) {
	u := userFrom(r.Context())
	if _, _, _, ok := safeguard.ParseReference(ref); !ok {
		return nil, safeguard.Errorf(safeguard.ENOTFOUND, "concern not found")
	}
	inv, err := s.DB.Involvement(r.Context(), ref)
	if err == nil {
		err = safeguard.Authorize(u, safeguard.ActionReadEvidence, inv)
	}
	s.audit(r, string(safeguard.ActionReadEvidence), ref, err)
	if err != nil {
		return nil, orUnavailable(err)
	}
	b, err := s.DB.Evidence(r.Context(), safeguard.ScopeOf(u), ref)
	return b, orUnavailable(err)
}

// evidenceView is the printable bundle: the stored bundle, with clocks and the chronology in
// the words the concern page uses, oldest first as a chronology reads.
type evidenceView struct {
	B        *safeguard.EvidenceBundle
	Clocks   []clockView
	Timeline []eventView
}

// evidencePage is GET /concerns/{ref}/evidence: the evidence bundle as a page to print (for an
// inquest or an Ombudsman's review). It is the JSON export's bundle, read the same way.
func (s *Server) evidencePage(w http.ResponseWriter, r *http.Request) {
	ref := mux.Vars(r)["ref"]
	b, err := s.readEvidence(r, ref)
	if err != nil {
		s.webError(w, r, err)
		return
	}
	v := evidenceView{B: b}
	for _, k := range b.Concern.Clocks {
		v.Clocks = append(v.Clocks, viewClock(k, b.GeneratedAt))
	}
	for _, e := range b.Concern.Timeline {
		v.Timeline = append(v.Timeline, viewEvent(e))
	}
	s.render(w, r, http.StatusOK, "evidence", View{Title: "Evidence bundle for " + ref, Data: v})
}
