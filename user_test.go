package safeguard

import (
	"strings"
	"testing"
)

// orgOfKind returns a valid organisation of kind k.
func orgOfKind(k OrgKind) *Organisation {
	switch k {
	case KindPrison:
		return &Organisation{Code: "LEI", Name: "HMP Leeds", Kind: k, HostLA: "E08000035"}
	case KindApprovedPremises:
		return &Organisation{Code: "AP-BEDFORD", Name: "Bedford AP", Kind: k, HostLA: "E06000055"}
	case KindLocalAuthority:
		return &Organisation{Code: "E08000035", Name: "Leeds City Council", Kind: k}
	case KindHealth:
		return &Organisation{Code: "NHS-LEEDS", Name: "Leeds prison healthcare", Kind: k}
	case KindPolice:
		return &Organisation{Code: "WYP", Name: "West Yorkshire Police", Kind: k}
	case KindProbation:
		return &Organisation{Code: "PROB_YH", Name: "Probation Yorkshire", Kind: k}
	}
	panic("unknown kind " + string(k))
}

func TestUserValidate_roleMustFitTheOrganisationKind(t *testing.T) {
	// Where each role may work. Auditors and admins may sit in any organisation.
	fits := map[Role][]OrgKind{
		RolePrisonLead:     {KindPrison, KindApprovedPremises},
		RolePrisonManager:  {KindPrison, KindApprovedPremises},
		RoleLAPractitioner: {KindLocalAuthority},
		RoleLAManager:      {KindLocalAuthority},
		RolePartner:        {KindHealth, KindPolice, KindProbation, KindLocalAuthority},
		RoleAuditor:        OrgKinds,
		RoleAdmin:          OrgKinds,
	}
	if len(fits) != len(Roles) {
		t.Fatalf("the table covers %d roles; Roles has %d", len(fits), len(Roles))
	}
	for _, role := range Roles {
		for _, kind := range OrgKinds {
			ok := false
			for _, k := range fits[role] {
				ok = ok || k == kind
			}
			name := "a " + string(role) + " in a " + string(kind) + " is accepted"
			if !ok {
				name = "a " + string(role) + " in a " + string(kind) + " is refused on role"
			}
			t.Run(name, func(t *testing.T) {
				u := &User{Email: "jo@example.org", Name: "Jo Bloggs", Role: role}
				err := u.Validate(orgOfKind(kind))
				if ok {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				fields := invalidFields(t, err)
				want := "a " + string(role) + " cannot belong to a " + string(kind)
				if len(fields) != 1 || fields["role"] != want {
					t.Errorf("fields = %v; want only role: %q", fields, want)
				}
			})
		}
	}
}

func TestUserValidate(t *testing.T) {
	prison := orgOfKind(KindPrison)
	for _, tc := range []struct {
		name   string
		user   User
		org    *Organisation
		fields []string // nil = accepted
		msg    string   // in the message of the first field
	}{
		{name: "a prison lead with an email and a name is accepted",
			user: User{Email: "jo@example.org", Name: "Jo Bloggs", Role: RolePrisonLead}, org: prison},
		{name: "a user without an email is refused",
			user: User{Name: "Jo Bloggs", Role: RolePrisonLead}, org: prison, fields: []string{"email"}, msg: "email"},
		{name: "a user with an email that is not an address is refused",
			user: User{Email: "jo", Name: "Jo Bloggs", Role: RolePrisonLead}, org: prison, fields: []string{"email"}},
		{name: "a user with a display name in the email is refused: a plain address only",
			user: User{Email: "Jo <jo@example.org>", Name: "Jo Bloggs", Role: RolePrisonLead}, org: prison, fields: []string{"email"}, msg: "plain"},
		{name: "a user without a name is refused",
			user: User{Email: "jo@example.org", Role: RolePrisonLead}, org: prison, fields: []string{"name"}, msg: "is required"},
		{name: "a user with a whitespace-only name is refused",
			user: User{Email: "jo@example.org", Name: "  ", Role: RolePrisonLead}, org: prison, fields: []string{"name"}, msg: "is required"},
		{name: "a user with a name of 201 characters is refused",
			user: User{Email: "jo@example.org", Name: strings.Repeat("n", 201), Role: RolePrisonLead}, org: prison, fields: []string{"name"}, msg: "200"},
		{name: "a user with a name of 200 characters is accepted",
			user: User{Email: "jo@example.org", Name: strings.Repeat("n", 200), Role: RolePrisonLead}, org: prison},
		{name: "a user with an unknown role is refused on role, listing the roles",
			user: User{Email: "jo@example.org", Name: "Jo", Role: "superuser"}, org: prison, fields: []string{"role"},
			msg: "prison_lead, prison_manager, la_practitioner, la_manager, partner, auditor, admin"},
		{name: "a user without a role is refused on role",
			user: User{Email: "jo@example.org", Name: "Jo"}, org: prison, fields: []string{"role"}},
		{name: "a user of no known organisation is refused on org",
			user: User{Email: "jo@example.org", Name: "Jo", Role: RoleAuditor}, org: nil, fields: []string{"org"}, msg: "no organisation"},
		{name: "an admin of no known organisation is refused on org",
			user: User{Email: "jo@example.org", Name: "Jo", Role: RoleAdmin}, org: nil, fields: []string{"org"}},
		{name: "every wrong field is reported at once",
			user: User{Email: "jo", Role: RolePrisonLead}, org: nil, fields: []string{"email", "name", "org"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.user
			err := u.Validate(tc.org)
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			fields := invalidFields(t, err)
			if got := sortedKeys(fields); strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("fields = %v; want %v", fields, tc.fields)
			}
			if !strings.Contains(fields[tc.fields[0]], tc.msg) {
				t.Errorf("message for %q = %q; want it to contain %q", tc.fields[0], fields[tc.fields[0]], tc.msg)
			}
		})
	}
}

func TestUserValidate_normalises(t *testing.T) {
	t.Run("the email is trimmed and lower-cased", func(t *testing.T) {
		u := &User{Email: "  Jo.Bloggs@Leeds.GOV.uk ", Name: " Jo Bloggs ", Role: RoleLAPractitioner}
		if err := u.Validate(orgOfKind(KindLocalAuthority)); err != nil {
			t.Fatalf("refused: %v", err)
		}
		if u.Email != "jo.bloggs@leeds.gov.uk" {
			t.Errorf("Email = %q; want %q", u.Email, "jo.bloggs@leeds.gov.uk")
		}
		if u.Name != "Jo Bloggs" {
			t.Errorf("Name = %q; want it trimmed", u.Name)
		}
	})
	for _, kind := range OrgKinds {
		t.Run("the organisation code and kind are taken from a "+string(kind), func(t *testing.T) {
			org := orgOfKind(kind)
			u := &User{Email: "jo@example.org", Name: "Jo", Role: RoleAdmin, OrgCode: "STALE", OrgKind: KindPolice}
			if err := u.Validate(org); err != nil {
				t.Fatalf("refused: %v", err)
			}
			if u.OrgCode != org.Code || u.OrgKind != org.Kind {
				t.Errorf("OrgCode, OrgKind = %q, %q; want %q, %q", u.OrgCode, u.OrgKind, org.Code, org.Kind)
			}
		})
	}
}

func TestRole_IsManager(t *testing.T) {
	for _, r := range Roles {
		want := r == RolePrisonManager || r == RoleLAManager
		if got := r.IsManager(); got != want {
			t.Errorf("%s.IsManager() = %v; want %v", r, got, want)
		}
	}
}

// Names are limited in characters, not bytes: Welsh names are common in this service.
func TestUserValidate_nameLengthIsInCharacters(t *testing.T) {
	u := &User{Email: "jo@example.org", Name: strings.Repeat("ŵ", 150), Role: RoleAdmin}
	if err := u.Validate(orgOfKind(KindHealth)); err != nil {
		t.Errorf("a 150-character non-ASCII name is refused: %v", err)
	}
}
