package safeguard

import (
	"strings"
	"testing"
)

func TestOrganisationValidate(t *testing.T) {
	leeds := func() Organisation {
		return Organisation{Code: "LEI", Name: "HMP Leeds", Kind: KindPrison, Inbox: "safeguarding.leeds@justice.gov.uk", HostLA: "E08000035"}
	}
	for _, tc := range []struct {
		name  string
		org   Organisation
		field string // "" = accepted; otherwise the one field refused
		msg   string
	}{
		// Valid examples, one or more of each kind.
		{name: "a prison with a NOMIS code and a host LA is accepted", org: leeds()},
		{name: "an approved premises with its own code and a host LA is accepted",
			org: Organisation{Code: "AP-BEDFORD", Name: "Bedford Approved Premises", Kind: KindApprovedPremises, Inbox: "ap.bedford@justice.gov.uk", HostLA: "E06000055"}},
		{name: "an English local authority with a GSS code is accepted",
			org: Organisation{Code: "E08000035", Name: "Leeds City Council", Kind: KindLocalAuthority, Inbox: "safeguarding@leeds.gov.uk"}},
		{name: "a Welsh local authority with a GSS code is accepted",
			org: Organisation{Code: "W06000015", Name: "Cardiff Council", Kind: KindLocalAuthority}},
		{name: "a health organisation with a code of its own is accepted",
			org: Organisation{Code: "NHS-LEEDS", Name: "Leeds prison healthcare", Kind: KindHealth, Inbox: "hj@nhs.net"}},
		{name: "a police force is accepted",
			org: Organisation{Code: "WYP", Name: "West Yorkshire Police", Kind: KindPolice}},
		{name: "a probation region with an underscore in its code is accepted",
			org: Organisation{Code: "PROB_YH", Name: "Probation Yorkshire and the Humber", Kind: KindProbation}},
		{name: "an organisation without an inbox is accepted (the reference data carries none)",
			org: Organisation{Code: "E08000035", Name: "Leeds City Council", Kind: KindLocalAuthority}},
		{name: "a two-character code is accepted for other kinds",
			org: Organisation{Code: "P1", Name: "Police", Kind: KindPolice}},
		{name: "a 32-character code is accepted for other kinds",
			org: Organisation{Code: strings.Repeat("A", 32), Name: "Health", Kind: KindHealth}},
		{name: "a name of 200 characters is accepted",
			org: Organisation{Code: "WYP", Name: strings.Repeat("n", 200), Kind: KindPolice}},

		// Kind.
		{name: "an organisation of no kind is refused on kind",
			org: Organisation{Code: "WYP", Name: "West Yorkshire Police"}, field: "kind", msg: "prison, approved_premises"},
		{name: "an organisation of an unknown kind is refused on kind",
			org: Organisation{Code: "WYP", Name: "A charity", Kind: "charity"}, field: "kind"},

		// Code.
		{name: "a prison with a 4-letter code is refused: not a NOMIS code",
			org: func() Organisation { o := leeds(); o.Code = "LEED"; return o }(), field: "code", msg: "NOMIS"},
		{name: "a prison with a digit in its code is refused: not a NOMIS code",
			org: func() Organisation { o := leeds(); o.Code = "LE1"; return o }(), field: "code", msg: "NOMIS"},
		{name: "a prison without a code is refused",
			org: func() Organisation { o := leeds(); o.Code = ""; return o }(), field: "code"},
		{name: "a local authority named by its name, not its GSS code, is refused",
			org: Organisation{Code: "LEEDS", Name: "Leeds City Council", Kind: KindLocalAuthority}, field: "code", msg: "GSS"},
		{name: "a local authority with a 7-digit GSS code is refused",
			org: Organisation{Code: "E0800003", Name: "Leeds City Council", Kind: KindLocalAuthority}, field: "code", msg: "GSS"},
		{name: "a local authority with a GSS code of an unknown country letter is refused",
			org: Organisation{Code: "X08000035", Name: "Leeds City Council", Kind: KindLocalAuthority}, field: "code", msg: "GSS"},
		{name: "a one-character code is refused for other kinds",
			org: Organisation{Code: "P", Name: "Police", Kind: KindPolice}, field: "code", msg: "2 to 32"},
		{name: "a 33-character code is refused for other kinds",
			org: Organisation{Code: strings.Repeat("A", 33), Name: "Health", Kind: KindHealth}, field: "code", msg: "2 to 32"},
		{name: "a code with a space is refused",
			org: Organisation{Code: "NHS LEEDS", Name: "Health", Kind: KindHealth}, field: "code"},
		{name: "a code in lower case is refused for other kinds",
			org: Organisation{Code: "nhs-leeds", Name: "Health", Kind: KindHealth}, field: "code", msg: "capital"},
		{name: "a code starting with a hyphen is refused",
			org: Organisation{Code: "-NHS", Name: "Health", Kind: KindHealth}, field: "code"},
		{name: "an approved premises code is held to the general rule, not NOMIS",
			org: Organisation{Code: "A", Name: "AP", Kind: KindApprovedPremises, HostLA: "E06000055"}, field: "code", msg: "2 to 32"},

		// Name.
		{name: "an organisation without a name is refused",
			org: func() Organisation { o := leeds(); o.Name = ""; return o }(), field: "name", msg: "is required"},
		{name: "a whitespace-only name is refused as missing",
			org: func() Organisation { o := leeds(); o.Name = "   "; return o }(), field: "name", msg: "is required"},
		{name: "a name of 201 characters is refused",
			org: func() Organisation { o := leeds(); o.Name = strings.Repeat("n", 201); return o }(), field: "name", msg: "200"},

		// Inbox.
		{name: "an inbox that is not an email address is refused",
			org: func() Organisation { o := leeds(); o.Inbox = "safeguarding"; return o }(), field: "inbox"},
		{name: "an inbox with a display name is refused: a plain address only",
			org: func() Organisation { o := leeds(); o.Inbox = "A <a@b.c>"; return o }(), field: "inbox", msg: "plain"},
		{name: "an inbox with two addresses is refused",
			org: func() Organisation { o := leeds(); o.Inbox = "a@b.c, d@e.f"; return o }(), field: "inbox"},

		// Host LA.
		{name: "a prison without a host LA is refused",
			org: func() Organisation { o := leeds(); o.HostLA = ""; return o }(), field: "host_la", msg: "is required"},
		{name: "an approved premises without a host LA is refused",
			org: Organisation{Code: "AP-BEDFORD", Name: "Bedford AP", Kind: KindApprovedPremises}, field: "host_la", msg: "is required"},
		{name: "a prison whose host LA is not a GSS code is refused",
			org: func() Organisation { o := leeds(); o.HostLA = "LEEDS"; return o }(), field: "host_la", msg: "GSS"},
		{name: "a local authority with a host LA is refused",
			org: Organisation{Code: "E08000035", Name: "Leeds City Council", Kind: KindLocalAuthority, HostLA: "E08000035"}, field: "host_la", msg: "only prisons"},
		{name: "a health organisation with a host LA is refused",
			org: Organisation{Code: "NHS-LEEDS", Name: "Health", Kind: KindHealth, HostLA: "E08000035"}, field: "host_la", msg: "only prisons"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.org
			err := o.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			fields := invalidFields(t, err)
			got, ok := fields[tc.field]
			if !ok || len(fields) != 1 {
				t.Fatalf("fields = %v; want exactly %q", fields, tc.field)
			}
			if !strings.Contains(got, tc.msg) {
				t.Errorf("message for %q = %q; want it to contain %q", tc.field, got, tc.msg)
			}
		})
	}
}

func TestOrganisationValidate_trimsEveryField(t *testing.T) {
	o := Organisation{Code: " LEI ", Name: "  HMP Leeds\t", Kind: KindPrison, Inbox: " safeguarding@leeds.example ", HostLA: " E08000035\n"}
	if err := o.Validate(); err != nil {
		t.Fatalf("refused: %v", err)
	}
	want := Organisation{Code: "LEI", Name: "HMP Leeds", Kind: KindPrison, Inbox: "safeguarding@leeds.example", HostLA: "E08000035"}
	if o != want {
		t.Errorf("after Validate: %+v; want %+v", o, want)
	}
}

func TestOrganisationValidate_reportsEveryErrorAtOnce(t *testing.T) {
	o := Organisation{Code: "LEEDS", Kind: KindPrison, Inbox: "nope"}
	fields := invalidFields(t, o.Validate())
	want := []string{"code", "host_la", "inbox", "name"}
	if got := sortedKeys(fields); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("fields = %v; want %v", got, want)
	}
}

func TestOrgKind_IsEstablishment(t *testing.T) {
	want := map[OrgKind]bool{KindPrison: true, KindApprovedPremises: true}
	for _, k := range OrgKinds {
		if got := k.IsEstablishment(); got != want[k] {
			t.Errorf("%s.IsEstablishment() = %v; want %v", k, got, want[k])
		}
	}
	if len(OrgKinds) != 6 {
		t.Errorf("OrgKinds has %d kinds; DESIGN.md documents 6", len(OrgKinds))
	}
}

// Names are limited in characters, not bytes: Welsh names are common in this service.
func TestOrganisationValidate_nameLengthIsInCharacters(t *testing.T) {
	o := Organisation{Code: "W06000001", Name: strings.Repeat("ŵ", 150), Kind: KindLocalAuthority}
	if err := o.Validate(); err != nil {
		t.Errorf("a 150-character non-ASCII name is refused: %v", err)
	}
	o.Name = strings.Repeat("ŵ", 201)
	if err := o.Validate(); err == nil {
		t.Error("a 201-character non-ASCII name is accepted")
	}
}
