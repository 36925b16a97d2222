package safeguard

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a person does in safeguarding; together with their organisation it decides
// what they may see and do (see Authorize).
type Role string

const (
	RolePrisonLead     Role = "prison_lead"     // raises, triages, runs the enquiry, closes
	RolePrisonManager  Role = "prison_manager"  // signs off closure; sees escalations
	RoleLAPractitioner Role = "la_practitioner" // acknowledges and contributes for the host LA
	RoleLAManager      Role = "la_manager"      // LA escalations and the statutory return
	RolePartner        Role = "partner"         // health, police or probation contributor
	RoleAuditor        Role = "auditor"         // national, read-only
	RoleAdmin          Role = "admin"           // users, organisations, tokens
)

// Roles lists every role.
var Roles = []Role{RolePrisonLead, RolePrisonManager, RoleLAPractitioner, RoleLAManager, RolePartner, RoleAuditor, RoleAdmin}

func (r Role) valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// IsManager reports whether the role receives escalations for its organisation.
func (r Role) IsManager() bool { return r == RolePrisonManager || r == RoleLAManager }

// fitsKind reports whether a person with this role can belong to an organisation of kind k:
// a prison lead works in an establishment, a practitioner in a local authority, and so on.
// Auditors and admins may sit in any organisation.
func (r Role) fitsKind(k OrgKind) bool {
	switch r {
	case RolePrisonLead, RolePrisonManager:
		return k.IsEstablishment()
	case RoleLAPractitioner, RoleLAManager:
		return k == KindLocalAuthority
	case RolePartner:
		return k == KindHealth || k == KindPolice || k == KindProbation || k == KindLocalAuthority
	default:
		return true
	}
}

// User is a person who signs in or holds API tokens. Every request is attributed to one.
type User struct {
	ID       int64     `json:"id" db:"id"`
	Email    string    `json:"email" db:"email"`
	Name     string    `json:"name" db:"name"`
	OrgCode  string    `json:"organisation" db:"org_code"`
	OrgKind  OrgKind   `json:"organisation_kind" db:"org_kind"`
	Role     Role      `json:"role" db:"role"`
	Disabled bool      `json:"disabled" db:"disabled"`
	Created  time.Time `json:"created_at" db:"created_at"`
}

// Validate checks a user against the organisation they will belong to.
func (u *User) Validate(org *Organisation) error {
	fields := map[string]string{}
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.Name = strings.TrimSpace(u.Name)
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
		fields["email"] = "must be a plain email address"
	}
	if u.Name == "" {
		fields["name"] = "is required"
	} else if utf8.RuneCountInString(u.Name) > 200 {
		fields["name"] = "must be at most 200 characters"
	}
	switch {
	case !u.Role.valid():
		fields["role"] = "must be one of prison_lead, prison_manager, la_practitioner, la_manager, partner, auditor, admin"
	case org == nil:
		fields["org"] = "no organisation with that code"
	case !u.Role.fitsKind(org.Kind):
		fields["role"] = "a " + string(u.Role) + " cannot belong to a " + string(org.Kind)
	}
	if org != nil {
		u.OrgCode, u.OrgKind = org.Code, org.Kind
	}
	if len(fields) > 0 {
		return FieldErrors(fields)
	}
	return nil
}

// Token is an API credential. Only its hash is stored; the secret is shown once at creation.
type Token struct {
	ID        int64      `db:"id"`
	UserID    int64      `db:"user_id"`
	Name      string     `db:"name"`
	Created   time.Time  `db:"created_at"`
	ExpiresAt *time.Time `db:"expires_at"`
	RevokedAt *time.Time `db:"revoked_at"`
	LastUsed  *time.Time `db:"last_used_at"`
}

// UserService finds and creates people and their credentials.
type UserService interface {
	// CreateUser validates and stores a new user; EINVALID for bad fields, ECONFLICT if the
	// email is taken.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByEmail returns ENOTFOUND if no such user exists.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	// CreateToken stores the hash of a new secret for the user and returns the secret.
	CreateToken(ctx context.Context, userID int64, name string, expires *time.Time) (secret string, err error)
	// Authenticate returns the enabled user holding a live token; EUNAUTHORIZED otherwise.
	Authenticate(ctx context.Context, secret string) (*User, error)
}
