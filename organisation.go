package safeguard

import (
	"context"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// OrgKind says what an organisation is, which decides what it may do: prisons and approved
// premises raise and lead enquiries; local authorities advise and assess care and support
// needs (Care Act 2014 s.76); health, police and probation contribute when asked.
type OrgKind string

const (
	KindPrison           OrgKind = "prison"
	KindApprovedPremises OrgKind = "approved_premises"
	KindLocalAuthority   OrgKind = "local_authority"
	KindHealth           OrgKind = "health"
	KindPolice           OrgKind = "police"
	KindProbation        OrgKind = "probation"
)

// OrgKinds lists every organisation kind in the order they are documented.
var OrgKinds = []OrgKind{KindPrison, KindApprovedPremises, KindLocalAuthority, KindHealth, KindPolice, KindProbation}

// IsEstablishment reports whether an organisation of this kind holds adults in custody or
// residence and so can raise concerns and lead a prison-led enquiry.
func (k OrgKind) IsEstablishment() bool { return k == KindPrison || k == KindApprovedPremises }

func (k OrgKind) valid() bool {
	for _, v := range OrgKinds {
		if k == v {
			return true
		}
	}
	return false
}

// Organisation is a body that takes part in safeguarding. Code is its stable identifier:
// the 3-letter NOMIS code for a prison (LEI), the ONS GSS code for a local authority
// (E08000035), a code of the deployment's choosing for others. HostLA is set for prisons and
// approved premises only: the local authority where the establishment stands, which must
// assess care and support needs there and is notified of every concern.
type Organisation struct {
	Code   string  `json:"code" db:"code"`
	Name   string  `json:"name" db:"name"`
	Kind   OrgKind `json:"kind" db:"kind"`
	Inbox  string  `json:"inbox" db:"inbox"`
	HostLA string  `json:"host_la,omitempty" db:"host_la"`
}

var (
	nomisCode = regexp.MustCompile(`^[A-Z]{3}$`)
	gssCode   = regexp.MustCompile(`^[EWSN][0-9]{8}$`)
	orgCode   = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{1,31}$`)
)

// Validate checks an organisation on its own; whether HostLA names an existing local authority
// is checked by the store, which knows the other organisations.
func (o *Organisation) Validate() error {
	fields := map[string]string{}
	o.Code = strings.TrimSpace(o.Code)
	o.Name = strings.TrimSpace(o.Name)
	o.Inbox = strings.TrimSpace(o.Inbox)
	o.HostLA = strings.TrimSpace(o.HostLA)
	switch {
	case !o.Kind.valid():
		fields["kind"] = "must be one of prison, approved_premises, local_authority, health, police, probation"
	case o.Kind == KindPrison && !nomisCode.MatchString(o.Code):
		fields["code"] = "a prison's code is its 3-letter NOMIS code, e.g. LEI"
	case o.Kind == KindLocalAuthority && !gssCode.MatchString(o.Code):
		fields["code"] = "a local authority's code is its ONS GSS code, e.g. E08000035"
	case !orgCode.MatchString(o.Code):
		fields["code"] = "must be 2 to 32 capital letters, digits, '-' or '_'"
	}
	if o.Name == "" {
		fields["name"] = "is required"
	} else if utf8.RuneCountInString(o.Name) > 200 {
		fields["name"] = "must be at most 200 characters"
	}
	if o.Inbox != "" {
		if a, err := mail.ParseAddress(o.Inbox); err != nil || a.Address != o.Inbox {
			fields["inbox"] = "must be a plain email address, e.g. safeguarding@example.gov.uk"
		}
	}
	if o.Kind.IsEstablishment() {
		if o.HostLA == "" {
			fields["host_la"] = "is required for a prison or approved premises: the GSS code of the local authority where it stands"
		} else if !gssCode.MatchString(o.HostLA) {
			fields["host_la"] = "must be a local authority's ONS GSS code, e.g. E08000035"
		}
	} else if o.HostLA != "" {
		fields["host_la"] = "only prisons and approved premises have a host local authority"
	}
	if len(fields) > 0 {
		return FieldErrors(fields)
	}
	return nil
}

// OrganisationService reads and writes organisations.
type OrganisationService interface {
	// FindOrganisation returns ENOTFOUND if there is no organisation with that code.
	FindOrganisation(ctx context.Context, code string) (*Organisation, error)
	// UpsertOrganisation creates or replaces an organisation. Re-pointing an establishment to a
	// new host LA affects concerns raised afterwards; earlier concerns keep the host LA they
	// were raised under. Returns EINVALID if HostLA is not a known local authority.
	UpsertOrganisation(ctx context.Context, o *Organisation) error
}
