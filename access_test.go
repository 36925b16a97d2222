package safeguard

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// allActions is every Action constant in access.go; TestAllActionsAreCovered keeps it complete.
var allActions = []Action{
	ActionList, ActionRead, ActionRaise, ActionAcknowledge, ActionTriage, ActionRequestAdvice,
	ActionContribute, ActionFindings, ActionProposeClosure, ActionSignOffClosure, ActionPause, ActionResume, ActionReopen,
	ActionTransfer, ActionRelease, ActionReadOverdue, ActionViewDevMailbox, ActionManageUsers,
	ActionManageOrgs, ActionVerifyAuditLog, ActionReadSACReport, ActionReadAccessLog, ActionReadAllConcerns,
	ActionBreakGlassRead, ActionReviewFlaggedReads,
}

// writes are the actions that change a concern or create one.
var writes = []Action{
	ActionRaise, ActionAcknowledge, ActionTriage, ActionRequestAdvice, ActionContribute, ActionFindings,
	ActionProposeClosure, ActionSignOffClosure, ActionPause, ActionResume, ActionReopen, ActionTransfer, ActionRelease,
	ActionManageUsers, ActionManageOrgs,
}

// The concern every table below is about: raised in HMP Leeds (LEI), hosted by Leeds City
// Council, with Bradford council and the prison's healthcare provider asked to contribute.
const (
	ownerPrison  = "LEI"
	hostLA       = "E08000035"
	askedLA      = "E08000036"
	askedHealth  = "NHS-LEEDS"
	otherPrison  = "WDI"
	otherLA      = "E08000012"
	otherHealth  = "NHS-LIVERPOOL"
	otherAPCode  = "AP-BEDFORD"
	askedPrison  = "HMI" // a receiving establishment, named in Others after a transfer
	relOwner     = "owner establishment"
	relHostLA    = "host LA"
	relAsked     = "asked to contribute"
	relUnrelated = "unrelated"
)

func testConcern() *Involvement {
	return &Involvement{Establishment: ownerPrison, HostLA: hostLA, Others: []string{askedLA, askedHealth, askedPrison}, RaisedBy: 99}
}

// staffAllegation is testConcern alleging abuse by staff of the owner prison, raised by the
// user with ID raisedBy.
func staffAllegation(raisedBy int64) *Involvement {
	c := testConcern()
	c.StaffAllegationAt, c.RaisedBy = ownerPrison, raisedBy
	return c
}

// testOrg is an organisation a user can belong to, and how it relates to testConcern.
type testOrg struct {
	code     string
	kind     OrgKind
	relation string
}

// testOrgs covers the four relations, with organisations of each plausible kind.
var testOrgs = []testOrg{
	{ownerPrison, KindPrison, relOwner},
	{hostLA, KindLocalAuthority, relHostLA},
	{askedLA, KindLocalAuthority, relAsked},
	{askedHealth, KindHealth, relAsked},
	{askedPrison, KindPrison, relAsked},
	{otherPrison, KindPrison, relUnrelated},
	{otherAPCode, KindApprovedPremises, relUnrelated},
	{otherLA, KindLocalAuthority, relUnrelated},
	{otherHealth, KindHealth, relUnrelated},
}

// wantAuthorize is the access policy written out as the rules of DESIGN.md, independently of
// access.go. c is the concern's involvement, or nil for actions not about one concern.
func wantAuthorize(u *User, a Action, c *Involvement) string {
	// Nobody, or a disabled account: sign in first.
	if u == nil || u.Disabled {
		return EUNAUTHORIZED
	}
	org := u.OrgCode
	isOwner := c != nil && org == c.Establishment
	isHostLA := c != nil && org == c.HostLA
	isAsked := c != nil && slices.Contains(c.Others, org)
	takesPart := isOwner || isHostLA || isAsked

	// An allegation against staff of the user's own establishment does not exist for them,
	// unless they manage the establishment, audit, or raised it themselves.
	if c != nil && a != ActionRaise && c.StaffAllegationAt == org && u.Role != RolePrisonManager && u.Role != RoleAuditor && u.ID != c.RaisedBy {
		return ENOTFOUND
	}

	// An admin may break glass to read any concern but an allegation against staff of their
	// own organisation; to everyone else a break-glass read finds nothing.
	if a == ActionBreakGlassRead {
		if u.Role == RoleAdmin && c != nil {
			return ""
		}
		return ENOTFOUND
	}

	// A concern that does not involve the user's organisation does not exist for them,
	// except for the national auditor who sees everything.
	// A raise is not about an existing concern: c names the establishment chosen.
	if c != nil && a != ActionRaise && !takesPart && u.Role != RoleAuditor {
		return ENOTFOUND
	}

	may := false
	switch a {
	case ActionList, ActionRead:
		// Anyone may list (the list is scoped) and read a concern in scope.
		may = true
	case ActionViewDevMailbox:
		// The development mailbox holds only references and links; anyone signed in may look.
		may = true
	case ActionReadAllConcerns:
		may = u.Role == RoleAuditor
	case ActionRaise:
		// A prison lead raises for their own establishment only.
		may = u.Role == RolePrisonLead && u.OrgKind.IsEstablishment() && (c == nil || isOwner)
	case ActionTriage, ActionRequestAdvice, ActionFindings, ActionProposeClosure, ActionPause, ActionResume, ActionTransfer, ActionRelease, ActionReopen:
		// The prison lead of the owner establishment runs the enquiry.
		may = u.Role == RolePrisonLead && isOwner
	case ActionSignOffClosure:
		// Only a prison manager of the owner establishment signs off a closure.
		may = u.Role == RolePrisonManager && isOwner
	case ActionAcknowledge:
		// An LA practitioner of the host LA, or of an organisation the concern was passed to;
		// a prison lead of an establishment the concern is being transferred to.
		may = (u.Role == RoleLAPractitioner && (isHostLA || isAsked)) || (u.Role == RolePrisonLead && u.OrgKind.IsEstablishment() && isAsked)
	case ActionContribute:
		// A practitioner or partner of an involved organisation other than the establishment.
		may = (u.Role == RoleLAPractitioner || u.Role == RolePartner) && (isHostLA || isAsked) && !isOwner
	case ActionReadOverdue, ActionReadAccessLog:
		// Managers and the auditor.
		may = u.Role == RolePrisonManager || u.Role == RoleLAManager || u.Role == RoleAuditor
	case ActionReadSACReport:
		// The statutory return: LA managers and the auditor.
		may = u.Role == RoleLAManager || u.Role == RoleAuditor
	case ActionVerifyAuditLog, ActionReviewFlaggedReads:
		// Verifying the audit trail and reviewing break-glass reads: the auditor and admins.
		may = u.Role == RoleAuditor || u.Role == RoleAdmin
	case ActionManageUsers, ActionManageOrgs:
		may = u.Role == RoleAdmin
	}
	if may {
		return ""
	}
	return EFORBIDDEN
}

func describeConcern(c *Involvement) string {
	switch {
	case c == nil:
		return "no concern"
	case c.StaffAllegationAt != "":
		return fmt.Sprintf("an allegation against staff of %s raised by user %d", c.StaffAllegationAt, c.RaisedBy)
	}
	return "a concern"
}

func TestAuthorize_exhaustive(t *testing.T) {
	concerns := []*Involvement{nil, testConcern(), staffAllegation(99), staffAllegation(1)}
	rows := 0
	for _, role := range Roles {
		for _, org := range testOrgs {
			for _, c := range concerns {
				for _, a := range allActions {
					u := &User{ID: 1, Email: "x@example.org", Role: role, OrgCode: org.code, OrgKind: org.kind}
					want := wantAuthorize(u, a, c)
					got := ErrorCode(Authorize(u, a, c))
					rows++
					if got != want {
						t.Errorf("%s of %s %s (%s), %s, %s: ErrorCode = %q; want %q",
							role, org.kind, org.code, org.relation, describeConcern(c), a, got, want)
					}
				}
			}
		}
	}
	want := len(Roles) * len(testOrgs) * len(concerns) * len(allActions)
	if rows != want {
		t.Errorf("checked %d rows; want %d", rows, want)
	}
}

func TestAuthorize_nobodyOrDisabledIsUnauthorized(t *testing.T) {
	for _, a := range allActions {
		for _, c := range []*Involvement{nil, testConcern()} {
			if got := ErrorCode(Authorize(nil, a, c)); got != EUNAUTHORIZED {
				t.Errorf("nil user, %s, %s: ErrorCode = %q; want %q", a, describeConcern(c), got, EUNAUTHORIZED)
			}
			for _, role := range Roles {
				u := &User{Role: role, OrgCode: ownerPrison, OrgKind: KindPrison, Disabled: true}
				if role == RoleLAPractitioner || role == RoleLAManager {
					u.OrgCode, u.OrgKind = hostLA, KindLocalAuthority
				}
				if got := ErrorCode(Authorize(u, a, c)); got != EUNAUTHORIZED {
					t.Errorf("disabled %s, %s, %s: ErrorCode = %q; want %q", role, a, describeConcern(c), got, EUNAUTHORIZED)
				}
			}
		}
	}
}

func TestAuthorize_auditorReadsEverythingButWritesNothing(t *testing.T) {
	for _, org := range testOrgs {
		u := &User{Role: RoleAuditor, OrgCode: org.code, OrgKind: org.kind}
		for _, c := range []*Involvement{nil, testConcern()} {
			for _, a := range []Action{ActionList, ActionRead, ActionReadAllConcerns, ActionReadOverdue, ActionReadSACReport, ActionVerifyAuditLog} {
				if got := ErrorCode(Authorize(u, a, c)); got != "" {
					t.Errorf("auditor in %s (%s), %s, %s: ErrorCode = %q; want allowed", org.code, org.relation, a, describeConcern(c), got)
				}
			}
			for _, a := range writes {
				if got := ErrorCode(Authorize(u, a, c)); got != EFORBIDDEN {
					t.Errorf("auditor in %s (%s), %s, %s: ErrorCode = %q; want %q", org.code, org.relation, a, describeConcern(c), got, EFORBIDDEN)
				}
			}
		}
	}
}

func TestAuthorize_handWritten(t *testing.T) {
	lead := &User{Role: RolePrisonLead, OrgCode: ownerPrison, OrgKind: KindPrison}
	otherLead := &User{Role: RolePrisonLead, OrgCode: otherPrison, OrgKind: KindPrison}
	apLead := &User{Role: RolePrisonLead, OrgCode: otherAPCode, OrgKind: KindApprovedPremises}
	manager := &User{Role: RolePrisonManager, OrgCode: ownerPrison, OrgKind: KindPrison}
	laPrac := &User{Role: RoleLAPractitioner, OrgCode: hostLA, OrgKind: KindLocalAuthority}
	askedPrac := &User{Role: RoleLAPractitioner, OrgCode: askedLA, OrgKind: KindLocalAuthority}
	otherPrac := &User{Role: RoleLAPractitioner, OrgCode: otherLA, OrgKind: KindLocalAuthority}
	laManager := &User{Role: RoleLAManager, OrgCode: hostLA, OrgKind: KindLocalAuthority}
	partner := &User{Role: RolePartner, OrgCode: askedHealth, OrgKind: KindHealth}
	otherPartner := &User{Role: RolePartner, OrgCode: otherHealth, OrgKind: KindHealth}
	auditor := &User{Role: RoleAuditor, OrgCode: otherLA, OrgKind: KindLocalAuthority}
	admin := &User{Role: RoleAdmin, OrgCode: otherHealth, OrgKind: KindHealth}
	disabled := &User{Role: RolePrisonLead, OrgCode: ownerPrison, OrgKind: KindPrison, Disabled: true}
	misplacedLead := &User{Role: RolePrisonLead, OrgCode: hostLA, OrgKind: KindLocalAuthority}
	c := testConcern()

	for _, tc := range []struct {
		name string
		u    *User
		a    Action
		c    *Involvement
		want string
	}{
		{"the prison lead of the owner establishment may triage", lead, ActionTriage, c, ""},
		{"the prison lead of the owner establishment may record findings", lead, ActionFindings, c, ""},
		{"the prison lead of the owner establishment may request a contribution", lead, ActionRequestAdvice, c, ""},
		{"the prison lead of the owner establishment may release", lead, ActionRelease, c, ""},
		{"the prison lead of the owner establishment may not sign off the closure", lead, ActionSignOffClosure, c, EFORBIDDEN},
		{"the prison lead of the owner establishment may not acknowledge", lead, ActionAcknowledge, c, EFORBIDDEN},
		{"the prison lead of the owner establishment may not contribute to their own enquiry", lead, ActionContribute, c, EFORBIDDEN},
		{"a prison lead of another prison does not see the concern", otherLead, ActionTriage, c, ENOTFOUND},
		{"a prison lead of another prison cannot read it either", otherLead, ActionRead, c, ENOTFOUND},
		{"the prison manager of the owner establishment may sign off the closure", manager, ActionSignOffClosure, c, ""},
		{"the prison manager of the owner establishment may not triage", manager, ActionTriage, c, EFORBIDDEN},
		{"the prison manager may read the overdue list", manager, ActionReadOverdue, nil, ""},
		{"a practitioner of the host LA may acknowledge", laPrac, ActionAcknowledge, c, ""},
		{"a practitioner of the host LA may contribute", laPrac, ActionContribute, c, ""},
		{"a practitioner of the host LA may not triage", laPrac, ActionTriage, c, EFORBIDDEN},
		{"a practitioner of an LA the concern was passed to may acknowledge", askedPrac, ActionAcknowledge, c, ""},
		{"a practitioner of an LA asked to contribute may contribute", askedPrac, ActionContribute, c, ""},
		{"a practitioner of an uninvolved LA does not see the concern", otherPrac, ActionAcknowledge, c, ENOTFOUND},
		{"an LA manager of the host LA may read but not acknowledge", laManager, ActionAcknowledge, c, EFORBIDDEN},
		{"an LA manager may read the SAC report", laManager, ActionReadSACReport, nil, ""},
		{"a prison manager may not read the SAC report", manager, ActionReadSACReport, nil, EFORBIDDEN},
		{"a partner asked to contribute may contribute", partner, ActionContribute, c, ""},
		{"a partner asked to contribute may not acknowledge", partner, ActionAcknowledge, c, EFORBIDDEN},
		{"a partner not asked does not see the concern", otherPartner, ActionContribute, c, ENOTFOUND},
		{"the auditor reads a concern of any establishment", auditor, ActionRead, c, ""},
		{"the auditor may read all concerns", auditor, ActionReadAllConcerns, nil, ""},
		{"the auditor may not triage, even though they see the concern", auditor, ActionTriage, c, EFORBIDDEN},
		{"the auditor may not raise", auditor, ActionRaise, nil, EFORBIDDEN},
		{"the auditor may verify the audit log", auditor, ActionVerifyAuditLog, nil, ""},
		{"a prison lead may not read all concerns", lead, ActionReadAllConcerns, nil, EFORBIDDEN},
		{"an admin may manage users and organisations", admin, ActionManageOrgs, nil, ""},
		{"an admin does not see a concern that does not involve their organisation", admin, ActionRead, c, ENOTFOUND},
		{"a prison lead may not manage users", lead, ActionManageUsers, nil, EFORBIDDEN},
		{"nobody signed in may not even list", nil, ActionList, nil, EUNAUTHORIZED},
		{"a disabled prison lead may not triage their own concern", disabled, ActionTriage, c, EUNAUTHORIZED},
		{"a prison lead of a prison may raise (no establishment named yet)", lead, ActionRaise, nil, ""},
		{"a prison lead of an approved premises may raise", apLead, ActionRaise, nil, ""},
		{"a prison lead may raise naming their own establishment", lead, ActionRaise, &Involvement{Establishment: ownerPrison}, ""},
		{"a practitioner may not raise", laPrac, ActionRaise, nil, EFORBIDDEN},
		{"a prison lead recorded in a local authority may not raise", misplacedLead, ActionRaise, nil, EFORBIDDEN},
		{"a prison lead may not triage without a concern", lead, ActionTriage, nil, EFORBIDDEN},
		{"an allegation against staff is hidden from the establishment's other prison leads", lead, ActionRead, staffAllegation(99), ENOTFOUND},
		{"the lead who raised an allegation against staff reads it", &User{ID: 5, Role: RolePrisonLead, OrgCode: ownerPrison, OrgKind: KindPrison}, ActionRead, staffAllegation(5), ""},
		{"the lead who raised an allegation against staff triages it", &User{ID: 5, Role: RolePrisonLead, OrgCode: ownerPrison, OrgKind: KindPrison}, ActionTriage, staffAllegation(5), ""},
		{"the establishment's manager sees an allegation against its staff", manager, ActionRead, staffAllegation(99), ""},
		{"the host LA sees an allegation against the prison's staff", laPrac, ActionAcknowledge, staffAllegation(99), ""},
		{"an admin of the establishment does not see an allegation against its staff", &User{Role: RoleAdmin, OrgCode: ownerPrison, OrgKind: KindPrison}, ActionRead, staffAllegation(99), ENOTFOUND},
		{"after a transfer out, the establishment's leads still cannot read it", lead, ActionRead, &Involvement{Establishment: askedPrison, HostLA: hostLA, Previous: []string{ownerPrison}, StaffAllegationAt: ownerPrison, RaisedBy: 99}, ENOTFOUND},
		{"the receiving establishment's lead sees a transferred allegation", &User{Role: RolePrisonLead, OrgCode: askedPrison, OrgKind: KindPrison}, ActionAcknowledge, staffAllegation(99), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Authorize(tc.u, tc.a, tc.c)
			if got := ErrorCode(err); got != tc.want {
				t.Fatalf("ErrorCode = %q (%v); want %q", got, err, tc.want)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Message == "" {
					t.Errorf("Authorize returned %#v; want an *Error with a message", err)
				}
			}
		})
	}
}

// A refusal for an object out of scope says only "not found": nothing about the concern.
func TestAuthorize_notFoundLeaksNothing(t *testing.T) {
	u := &User{Role: RolePrisonLead, OrgCode: otherPrison, OrgKind: KindPrison}
	err := Authorize(u, ActionRead, testConcern())
	if got := ErrorMessage(err); got != "concern not found" {
		t.Errorf("message = %q; want %q", got, "concern not found")
	}
}

func TestAuthorize_raiseNamingAnotherEstablishmentIsForbidden(t *testing.T) {
	lead := &User{Role: RolePrisonLead, OrgCode: ownerPrison, OrgKind: KindPrison}
	other := &Involvement{Establishment: otherPrison}

	t.Run("a raise naming another establishment is refused", func(t *testing.T) {
		if err := Authorize(lead, ActionRaise, other); err == nil {
			t.Fatal("a prison lead of LEI may raise a concern for WDI")
		}
	})
	t.Run("a raise naming an establishment that merely received a transfer is forbidden", func(t *testing.T) {
		u := &User{Role: RolePrisonLead, OrgCode: askedPrison, OrgKind: KindPrison}
		if got := ErrorCode(Authorize(u, ActionRaise, testConcern())); got != EFORBIDDEN {
			t.Errorf("ErrorCode = %q; want %q", got, EFORBIDDEN)
		}
	})

	t.Run("a raise naming another establishment is forbidden, not not-found", func(t *testing.T) {
		if got := ErrorCode(Authorize(lead, ActionRaise, other)); got != EFORBIDDEN {
			t.Errorf("ErrorCode = %q; want %q", got, EFORBIDDEN)
		}
		for _, role := range Roles {
			u := &User{Role: role, OrgCode: otherLA, OrgKind: KindLocalAuthority}
			if got := ErrorCode(Authorize(u, ActionRaise, other)); got != EFORBIDDEN {
				t.Errorf("%s raising for WDI: ErrorCode = %q; want %q", role, got, EFORBIDDEN)
			}
		}
	})
}

func TestScopeOf(t *testing.T) {
	for _, role := range Roles {
		t.Run(string(role), func(t *testing.T) {
			u := &User{ID: 7, Role: role, OrgCode: hostLA, OrgKind: KindLocalAuthority}
			got := ScopeOf(u)
			want := Scope{Org: hostLA, User: 7, SeesStaffAllegations: role == RolePrisonManager}
			if role == RoleAuditor {
				want = Scope{All: true, User: 7, SeesStaffAllegations: true}
			}
			if got != want {
				t.Errorf("ScopeOf(%s) = %+v; want %+v", role, got, want)
			}
		})
	}
}

// TestAllActionsAreCovered reads access.go so that a new Action constant cannot escape the
// exhaustive table above.
func TestAllActionsAreCovered(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "access.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []Action
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Action" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					t.Fatalf("Action constant with a non-literal value: %#v", v)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				declared = append(declared, Action(s))
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("found no Action constants in access.go")
	}
	for _, a := range declared {
		if !slices.Contains(allActions, a) {
			t.Errorf("Action %q is declared in access.go but missing from allActions and the rule table", a)
		}
	}
	if len(declared) != len(allActions) {
		t.Errorf("access.go declares %d actions; allActions has %d", len(declared), len(allActions))
	}
}

// TestAuthorizeRead_breakGlass is the break-glass rule: an admin reads a concern outside their
// scope only by giving a reason, and then under a scope that can find it; nobody else can.
func TestAuthorizeRead_breakGlass(t *testing.T) {
	const reason = "Police request 4471 about tonight"
	outsideAdmin := &User{ID: 5, Role: RoleAdmin, OrgCode: otherLA, OrgKind: KindLocalAuthority}
	hostAdmin := &User{ID: 6, Role: RoleAdmin, OrgCode: hostLA, OrgKind: KindLocalAuthority}
	ownAdmin := &User{ID: 7, Role: RoleAdmin, OrgCode: ownerPrison, OrgKind: KindPrison}
	outsideLead := &User{ID: 8, Role: RolePrisonLead, OrgCode: otherPrison, OrgKind: KindPrison}
	hostPractitioner := &User{ID: 9, Role: RoleLAPractitioner, OrgCode: hostLA, OrgKind: KindLocalAuthority}
	for _, tc := range []struct {
		name       string
		u          *User
		c          *Involvement
		reason     string
		wantErr    string
		brokeGlass bool
	}{
		{"an admin outside scope without a reason finds nothing", outsideAdmin, testConcern(), "", ENOTFOUND, false},
		{"an admin outside scope with a reason breaks glass", outsideAdmin, testConcern(), reason, "", true},
		{"an admin in scope reads as usual, reason or not", hostAdmin, testConcern(), reason, "", false},
		{"a reason under 10 characters is refused", outsideAdmin, testConcern(), "because", EINVALID, false},
		{"a reason over 500 characters is refused", outsideAdmin, testConcern(), strings.Repeat("x", 501), EINVALID, false},
		{"a lead outside scope with a reason finds nothing", outsideLead, testConcern(), reason, ENOTFOUND, false},
		{"a practitioner in scope with a reason reads as usual", hostPractitioner, testConcern(), reason, "", false},
		{"an allegation against staff stays hidden from the admin's own establishment", ownAdmin, staffAllegation(99), reason, ENOTFOUND, false},
		{"a disabled admin is unauthorized", &User{ID: 5, Role: RoleAdmin, OrgCode: otherLA, Disabled: true}, testConcern(), reason, EUNAUTHORIZED, false},
		{"nobody is unauthorized", nil, testConcern(), reason, EUNAUTHORIZED, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scope, broke, err := AuthorizeRead(tc.u, tc.c, tc.reason)
			if got := ErrorCode(err); got != tc.wantErr || broke != tc.brokeGlass {
				t.Fatalf("AuthorizeRead = brokeGlass %v, %v; want brokeGlass %v, code %q", broke, err, tc.brokeGlass, tc.wantErr)
			}
			if tc.wantErr == EINVALID {
				var e *Error
				if !errors.As(err, &e) || e.Fields[BreakGlassHeader] == "" {
					t.Errorf("error %v does not name %s", err, BreakGlassHeader)
				}
			}
			if err != nil {
				return
			}
			want := ScopeOf(tc.u)
			if broke {
				want = Scope{All: true, Org: tc.u.OrgCode, User: tc.u.ID}
			}
			if scope != want {
				t.Errorf("scope = %+v; want %+v", scope, want)
			}
		})
	}
}
