package safeguard

import "slices"

// Action is something a person can do to a concern, or to the list of concerns.
type Action string

const (
	ActionList            Action = "list"
	ActionRead            Action = "read"
	ActionRaise           Action = "raise"
	ActionAcknowledge     Action = "acknowledge"
	ActionTriage          Action = "triage"
	ActionRequestAdvice   Action = "request_contribution"
	ActionContribute      Action = "contribute"
	ActionFindings        Action = "findings"
	ActionProposeClosure  Action = "propose_closure"
	ActionSignOffClosure  Action = "sign_off_closure"
	ActionPause           Action = "pause"
	ActionResume          Action = "resume"
	ActionReopen          Action = "reopen"
	ActionTransfer        Action = "transfer"
	ActionRelease         Action = "release"
	ActionReadOverdue     Action = "read_overdue"
	ActionViewDevMailbox  Action = "view_dev_mail"
	ActionManageUsers     Action = "manage_users"
	ActionManageOrgs      Action = "manage_organisations"
	ActionVerifyAuditLog  Action = "verify_audit"
	ActionReadSACReport   Action = "read_sac_report"
	ActionReadAccessLog   Action = "read_access_log"
	ActionReadAllConcerns Action = "read_all_concerns"
	// ActionBreakGlassRead is an admin reading a concern outside their scope, for a reason they
	// give; it is the only read that crosses organisations and is flagged for review.
	ActionBreakGlassRead     Action = "break_glass_read"
	ActionReviewFlaggedReads Action = "review_flagged_reads"
)

// Involvement is how organisations are tied to one concern: the establishment that owns it,
// its host local authority, and every organisation asked to contribute or to take it over.
// It is all the access policy needs to know about a concern.
type Involvement struct {
	Establishment string
	HostLA        string
	Others        []string // asked to contribute, or receiving a transfer or release
	Previous      []string // owned or hosted it before a transfer: may read its history, not act

	// StaffAllegationAt names the establishment whose staff the concern makes an allegation
	// against ("" if none). There, only its prison managers and the person who raised it may
	// see the concern: the others are colleagues of the person accused. RaisedBy is that
	// person's user ID.
	StaffAllegationAt string
	RaisedBy          int64
}

// hiddenFrom reports whether a concern alleging abuse by staff is withheld from u: everyone
// at the establishment concerned but its managers and the person who raised it.
func (i *Involvement) hiddenFrom(u *User) bool {
	return i.StaffAllegationAt != "" && u.OrgCode == i.StaffAllegationAt && !u.seesStaffAllegations() && u.ID != i.RaisedBy
}

// seesStaffAllegations names the roles that may see an allegation against staff of their own
// establishment.
func (u *User) seesStaffAllegations() bool {
	return u.Role == RolePrisonManager || u.Role == RoleAuditor
}

// involves reports whether org takes part in the concern.
func (i *Involvement) involves(org string) bool {
	return org != "" && (org == i.Establishment || org == i.HostLA || slices.Contains(i.Others, org))
}

// Scope is what a person may see, in the form the SQL layer applies inside its queries:
// All for national read-only roles, otherwise the concerns that involve Org.
//
// Unless SeesStaffAllegations, concerns alleging abuse by staff of Org are left out, except
// those raised by User (see Involvement.StaffAllegationAt).
type Scope struct {
	All                  bool
	Org                  string
	User                 int64
	SeesStaffAllegations bool
}

// ScopeOf returns the read scope of a user. Callers must have authenticated the user.
func ScopeOf(u *User) Scope {
	if u.Role == RoleAuditor {
		return Scope{All: true, User: u.ID, SeesStaffAllegations: true}
	}
	return Scope{Org: u.OrgCode, User: u.ID, SeesStaffAllegations: u.seesStaffAllegations()}
}

// Authorize is the one access policy: every path (API, web, exports, reports, CLI) asks it
// before acting. c is the concern's involvement, or nil for actions not about one concern
// (listing, the overdue list, administration).
//
// The answers are application errors with fixed meanings: EUNAUTHORIZED when nobody (or a
// disabled account) is acting; ENOTFOUND when the concern is outside the person's scope, so
// that its existence does not leak; EFORBIDDEN when they may see it but not do this.
func Authorize(u *User, a Action, c *Involvement) error {
	if u == nil || u.Disabled {
		return Errorf(EUNAUTHORIZED, "sign in or present an API token")
	}
	// Breaking glass is deliberately outside scope, so scope is not asked; an allegation against
	// staff stays hidden from the establishment's own staff all the same. To anyone but an
	// admin the concern does not exist, as for any other read outside scope.
	if a == ActionBreakGlassRead {
		if u.Role == RoleAdmin && c != nil && !c.hiddenFrom(u) {
			return nil
		}
		return Errorf(ENOTFOUND, "concern not found")
	}
	// For a raise, c names the establishment chosen, not an existing concern: nothing can leak.
	if c != nil && a != ActionRaise && c.hiddenFrom(u) {
		return Errorf(ENOTFOUND, "concern not found")
	}
	if c != nil && a != ActionRaise && !(u.Role == RoleAuditor || c.involves(u.OrgCode)) {
		if slices.Contains(c.Previous, u.OrgCode) {
			if a == ActionRead {
				return nil
			}
			return Errorf(EFORBIDDEN, "the concern has been transferred: %s no longer acts on it", u.OrgCode)
		}
		return Errorf(ENOTFOUND, "concern not found")
	}
	if allowed(u, a, c) {
		return nil
	}
	return Errorf(EFORBIDDEN, "a %s may not %s", u.Role, describe(a))
}

// allowed is the table of who may do what, once scope is settled.
func allowed(u *User, a Action, c *Involvement) bool {
	switch a {
	case ActionList, ActionRead:
		return true
	case ActionReadAllConcerns:
		return u.Role == RoleAuditor
	case ActionRaise:
		// A lead raises only for their own establishment; c carries the establishment named.
		return u.Role == RolePrisonLead && u.OrgKind.IsEstablishment() && (c == nil || c.Establishment == u.OrgCode)
	case ActionTriage, ActionRequestAdvice, ActionFindings, ActionProposeClosure, ActionPause, ActionResume, ActionTransfer, ActionRelease, ActionReopen:
		return u.Role == RolePrisonLead && c != nil && c.Establishment == u.OrgCode
	case ActionSignOffClosure:
		return u.Role == RolePrisonManager && c != nil && c.Establishment == u.OrgCode
	case ActionAcknowledge:
		// The host LA acknowledges a new concern; an organisation a concern is handed over to
		// (an LA on release or referral, an establishment on transfer) acknowledges the handover.
		return c != nil && ((u.Role == RoleLAPractitioner && (c.HostLA == u.OrgCode || slices.Contains(c.Others, u.OrgCode))) ||
			(u.Role == RolePrisonLead && u.OrgKind.IsEstablishment() && slices.Contains(c.Others, u.OrgCode)))
	case ActionContribute:
		return (u.Role == RoleLAPractitioner || u.Role == RolePartner) && c != nil && c.involves(u.OrgCode) && u.OrgCode != c.Establishment
	case ActionReadOverdue, ActionReadAccessLog, ActionReadPerformance, ActionReadEvidence:
		return u.Role.IsManager() || u.Role == RoleAuditor
	case ActionReadSACReport:
		return u.Role == RoleLAManager || u.Role == RoleAuditor
	case ActionVerifyAuditLog, ActionReviewFlaggedReads:
		return u.Role == RoleAuditor || u.Role == RoleAdmin
	case ActionManageUsers, ActionManageOrgs:
		return u.Role == RoleAdmin
	case ActionViewDevMailbox:
		return true
	}
	return false
}

// BreakGlassHeader carries the reason an admin gives for reading a concern outside scope.
const BreakGlassHeader = "X-Break-Glass-Reason"

// AuthorizeRead decides a read of one concern, and the scope to read it under. A read in scope
// is decided by Authorize(ActionRead). Outside scope, an admin who gives a reason (reason, at
// least 10 characters) may still read it: brokeGlass is then true, and the read must be
// audited as ActionBreakGlassRead and flagged for review. Without a reason, or for anyone else,
// the answer is Authorize's: ENOTFOUND outside scope. A reason given but too short or too long
// is EINVALID on BreakGlassHeader, whoever gives it and whatever the concern, so that the
// answer says nothing about the concern.
func AuthorizeRead(u *User, c *Involvement, reason string) (scope Scope, brokeGlass bool, err error) {
	if u == nil || u.Disabled {
		return Scope{}, false, Authorize(u, ActionRead, c)
	}
	if err := CheckBreakGlassReason(reason); err != nil {
		return Scope{}, false, err
	}
	err = Authorize(u, ActionRead, c)
	if err == nil {
		return ScopeOf(u), false, nil
	}
	if reason == "" || ErrorCode(err) != ENOTFOUND {
		return Scope{}, false, err
	}
	if err := Authorize(u, ActionBreakGlassRead, c); err != nil {
		return Scope{}, false, err
	}
	return Scope{All: true, Org: u.OrgCode, User: u.ID, SeesStaffAllegations: u.seesStaffAllegations()}, true, nil
}

func describe(a Action) string {
	switch a {
	case ActionRaise:
		return "raise a concern for this establishment"
	case ActionRead:
		return "read this concern"
	}
	return string(a)
}
