package sql

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

func findOrg(t *testing.T, db *DB, code string) *safeguard.Organisation {
	t.Helper()
	o, err := db.FindOrganisation(ctx, code)
	if err != nil {
		t.Fatalf("FindOrganisation(%s): %v", code, err)
	}
	return o
}

func countOrgs(t *testing.T, db *DB) int {
	t.Helper()
	n, err := db.CountOrganisations(ctx)
	must(t, err)
	return n
}

// distinctLAs counts the host local authorities named in the reference data.
func distinctLAs(t *testing.T) int {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(safeguard.PrisonsCSV)).ReadAll()
	must(t, err)
	las := map[string]bool{}
	for _, r := range recs[1:] {
		las[r[5]] = true
	}
	return len(las)
}

func TestImportOrganisationsLoadsTheReferenceDataWithHostLocalAuthorities(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		n, err := db.ImportOrganisations(ctx, bytes.NewReader(safeguard.PrisonsCSV))
		if err != nil {
			t.Fatalf("ImportOrganisations: %v", err)
		}
		if n != 126 {
			t.Errorf("imported %d rows; want 126", n)
		}
		if got, want := countOrgs(t, db), 126+distinctLAs(t); got != want {
			t.Errorf("CountOrganisations = %d; want %d (126 prisons and their host LAs)", got, want)
		}
		lei := findOrg(t, db, "LEI")
		if lei.Kind != safeguard.KindPrison || lei.HostLA != leeds || lei.Name != "HMP Leeds" {
			t.Errorf("LEI = %+v; want a prison named HMP Leeds hosted by %s", lei, leeds)
		}
		// Rows whose kind column says "yoi" or "womens" are still prisons.
		if wyi := findOrg(t, db, "WYI"); wyi.Kind != safeguard.KindPrison || wyi.HostLA != leeds {
			t.Errorf("WYI = %+v; want a prison hosted by %s", wyi, leeds)
		}
		la := findOrg(t, db, leeds)
		if la.Kind != safeguard.KindLocalAuthority || la.Name != "Leeds City Council" || la.HostLA != "" {
			t.Errorf("%s = %+v; want the local authority Leeds City Council", leeds, la)
		}
	})
}

func TestImportOrganisationsAgainKeepsInboxesSetInBetween(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		_, err := db.ImportOrganisations(ctx, bytes.NewReader(safeguard.PrisonsCSV))
		must(t, err)
		before := countOrgs(t, db)
		lei := findOrg(t, db, "LEI")
		lei.Inbox = "safeguarding@lei.example"
		must(t, db.UpsertOrganisation(ctx, lei))
		la := findOrg(t, db, leeds)
		la.Inbox = "adults@leeds.example"
		must(t, db.UpsertOrganisation(ctx, la))

		n, err := db.ImportOrganisations(ctx, bytes.NewReader(safeguard.PrisonsCSV))
		if err != nil || n != 126 {
			t.Fatalf("second import = %d, %v; want 126, nil", n, err)
		}
		if got := findOrg(t, db, "LEI").Inbox; got != "safeguarding@lei.example" {
			t.Errorf("LEI inbox after re-import = %q; want it kept", got)
		}
		if got := findOrg(t, db, leeds).Inbox; got != "adults@leeds.example" {
			t.Errorf("Leeds inbox after re-import = %q; want it kept", got)
		}
		if after := countOrgs(t, db); after != before {
			t.Errorf("re-import changed the number of organisations from %d to %d", before, after)
		}
	})
}

func TestImportOrganisationsAcceptsThePlainLayout(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		file := "code,name,kind,inbox,host_la\n" +
			"E08000035,Leeds City Council,local_authority,adults@leeds.example,\n" +
			"LEI,HMP Leeds,prison,safeguarding@lei.example,E08000035\n" +
			"NHS-LEEDS,Leeds Health,health,,\n" +
			"AP1,Leeds Approved Premises,approved_premises, ap@leeds.example ,E08000035\n"
		n, err := db.ImportOrganisations(ctx, strings.NewReader(file))
		if err != nil {
			t.Fatalf("ImportOrganisations: %v", err)
		}
		if n != 4 {
			t.Errorf("imported %d rows; want 4", n)
		}
		want := map[string]safeguard.Organisation{
			leeds:       {Code: leeds, Name: "Leeds City Council", Kind: safeguard.KindLocalAuthority, Inbox: "adults@leeds.example"},
			"LEI":       {Code: "LEI", Name: "HMP Leeds", Kind: safeguard.KindPrison, Inbox: "safeguarding@lei.example", HostLA: leeds},
			"NHS-LEEDS": {Code: "NHS-LEEDS", Name: "Leeds Health", Kind: safeguard.KindHealth},
			"AP1":       {Code: "AP1", Name: "Leeds Approved Premises", Kind: safeguard.KindApprovedPremises, Inbox: "ap@leeds.example", HostLA: leeds},
		}
		for code, w := range want {
			if got := findOrg(t, db, code); *got != w {
				t.Errorf("%s = %+v; want %+v", code, *got, w)
			}
		}
	})
}

func TestImportOrganisationsWithABadRowImportsNothingAndNamesTheLine(t *testing.T) {
	files := map[string]string{
		"invalid kind": "code,name,kind,inbox,host_la\n" +
			"E08000036,Wakefield Council,local_authority,,\n" +
			"XYZ,Castle,castle,,\n",
		"unknown host LA": "code,name,kind,inbox,host_la\n" +
			"E08000036,Wakefield Council,local_authority,,\n" +
			"WDI,HMP Wakefield,prison,,E09999999\n",
		"wrong number of fields": "code,name,kind,inbox,host_la\n" +
			"E08000036,Wakefield Council,local_authority,,\n" +
			"WDI,HMP Wakefield\n",
		"reference layout with a bad GSS code": "code,name,kind,country,local_authority,la_gss_code,source\n" +
			"WDI,HMP Wakefield,prison,England,Wakefield Council,E08000036,x\n" +
			"LEI,HMP Leeds,prison,England,Leeds City Council,LEEDS,x\n",
	}
	for name, file := range files {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			forEachDB(t, func(t *testing.T, db *DB) {
				seedOrgs(t, db) // so that "nothing changes" is tested against existing rows too
				wdi := findOrg(t, db, "WDI")
				before := countOrgs(t, db)
				n, err := db.ImportOrganisations(ctx, strings.NewReader(file))
				if err == nil {
					t.Fatalf("ImportOrganisations = %d, nil; want an error", n)
				}
				if !strings.Contains(err.Error(), "line 3") {
					t.Errorf("error %q does not name line 3", err)
				}
				if n != 0 {
					t.Errorf("ImportOrganisations reported %d rows imported; want 0", n)
				}
				if after := countOrgs(t, db); after != before {
					t.Errorf("organisations went from %d to %d; want nothing imported", before, after)
				}
				if got := findOrg(t, db, "WDI"); *got != *wdi {
					t.Errorf("WDI changed by a failed import: %+v; was %+v", *got, *wdi)
				}
				if got := findOrg(t, db, wakefield); got.Inbox != "adults@wakefield.example" || got.Name != "Wakefield Council" {
					t.Errorf("Wakefield changed by a failed import: %+v", *got)
				}
			})
		})
	}
}

func TestImportOrganisationsRefusesAHeaderMissingAColumn(t *testing.T) {
	cases := map[string]struct{ file, missing string }{
		"plain without kind":                {"code,name,inbox,host_la\nE08000035,Leeds City Council,,\n", "kind"},
		"plain without name":                {"code,kind\nE08000035,local_authority\n", "name"},
		"reference without local_authority": {"code,name,kind,country,la_gss_code,source\nLEI,HMP Leeds,prison,England,E08000035,x\n", "local_authority"},
	}
	for name, c := range cases {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			forEachDB(t, func(t *testing.T, db *DB) {
				n, err := db.ImportOrganisations(ctx, strings.NewReader(c.file))
				if err == nil {
					t.Fatalf("ImportOrganisations = %d, nil; want the header refused", n)
				}
				if !strings.Contains(err.Error(), `"`+c.missing+`"`) {
					t.Errorf("error %q does not name the missing column %q", err, c.missing)
				}
				if got := countOrgs(t, db); got != 0 {
					t.Errorf("%d organisations stored; want 0", got)
				}
			})
		})
	}
}

func TestImportOrganisationsOfAnEmptyFileIsAnError(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		if _, err := db.ImportOrganisations(ctx, strings.NewReader("")); err == nil {
			t.Error("ImportOrganisations of an empty file = nil error; want the missing header reported")
		}
	})
}

func TestUpsertOrganisationRefusesAHostLAThatIsNotAKnownLocalAuthority(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		seedOrgs(t, db)
		// A health body whose code happens to look like a GSS code passes Validate, so only the
		// store can tell it is not a local authority.
		must(t, db.UpsertOrganisation(ctx, &safeguard.Organisation{Code: "E99999999", Name: "Leeds Health", Kind: safeguard.KindHealth}))
		for name, host := range map[string]string{"unknown": "E09999999", "not_a_local_authority": "E99999999"} {
			t.Run(name, func(t *testing.T) {
				before := countOrgs(t, db)
				err := db.UpsertOrganisation(ctx, &safeguard.Organisation{Code: "NEW", Name: "HMP New", Kind: safeguard.KindPrison, HostLA: host})
				e := wantCode(t, err, safeguard.EINVALID)
				if e.Fields["host_la"] == "" {
					t.Errorf("Fields = %v; want a message for host_la", e.Fields)
				}
				if _, err := db.FindOrganisation(ctx, "NEW"); safeguard.ErrorCode(err) != safeguard.ENOTFOUND {
					t.Errorf("FindOrganisation(NEW) after a refused upsert: %v; want ENOTFOUND", err)
				}
				// Re-pointing an existing prison the same way is refused too and changes nothing.
				err = db.UpsertOrganisation(ctx, &safeguard.Organisation{Code: "LEI", Name: "HMP Leeds", Kind: safeguard.KindPrison, HostLA: host})
				wantCode(t, err, safeguard.EINVALID)
				if got := findOrg(t, db, "LEI").HostLA; got != leeds {
					t.Errorf("LEI host LA = %s after a refused upsert; want %s", got, leeds)
				}
				if after := countOrgs(t, db); after != before {
					t.Errorf("organisations went from %d to %d", before, after)
				}
			})
		}
	})
}

func TestUpsertOrganisationValidatesBeforeWriting(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		err := db.UpsertOrganisation(ctx, &safeguard.Organisation{Code: "LEEDS", Name: "Leeds City Council", Kind: safeguard.KindLocalAuthority})
		if e := wantCode(t, err, safeguard.EINVALID); e.Fields["code"] == "" {
			t.Errorf("Fields = %v; want a message for code", e.Fields)
		}
		if n := countOrgs(t, db); n != 0 {
			t.Errorf("%d organisations stored; want 0", n)
		}
	})
}

func TestUpsertOrganisationReplacesAnExistingOrganisation(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		seedOrgs(t, db)
		before := countOrgs(t, db)
		must(t, db.UpsertOrganisation(ctx, &safeguard.Organisation{Code: "LEI", Name: "HMP Leeds (Armley)", Kind: safeguard.KindPrison, Inbox: "new@lei.example", HostLA: leeds}))
		got := findOrg(t, db, "LEI")
		if got.Name != "HMP Leeds (Armley)" || got.Inbox != "new@lei.example" {
			t.Errorf("LEI = %+v; want the new name and inbox", *got)
		}
		if after := countOrgs(t, db); after != before {
			t.Errorf("upsert of an existing code went from %d to %d organisations", before, after)
		}
	})
}

func TestFindOrganisationOfAnUnknownCodeIsNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		_, err := db.FindOrganisation(ctx, "NOPE")
		wantCode(t, err, safeguard.ENOTFOUND)
	})
}

func TestRepointingAnEstablishmentsHostLADoesNotChangeConcernsAlreadyRecorded(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		ref := raise(t, db, u, "LEI", at, nil)

		must(t, db.UpsertOrganisation(ctx, &safeguard.Organisation{Code: "LEI", Name: "HMP Leeds", Kind: safeguard.KindPrison, HostLA: wakefield}))
		if got := findOrg(t, db, "LEI").HostLA; got != wakefield {
			t.Fatalf("LEI host LA = %s; want it re-pointed to %s", got, wakefield)
		}

		c, err := db.FindConcern(ctx, safeguard.Scope{All: true}, ref)
		must(t, err)
		if c.HostLA != leeds {
			t.Errorf("concern host_la = %s after re-pointing; want %s, the host it was raised under", c.HostLA, leeds)
		}
		inv, err := db.Involvement(ctx, ref)
		must(t, err)
		if inv.HostLA != leeds {
			t.Errorf("Involvement.HostLA = %s after re-pointing; want %s", inv.HostLA, leeds)
		}
		if _, err := db.FindConcern(ctx, safeguard.Scope{Org: leeds}, ref); err != nil {
			t.Errorf("the original host LA no longer sees the concern: %v", err)
		}
		_, err = db.FindConcern(ctx, safeguard.Scope{Org: wakefield}, ref)
		wantCode(t, err, safeguard.ENOTFOUND)
	})
}
