package activities

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	sgsql "github.com/safeguard-project/safeguard/sql"
	"github.com/safeguard-project/safeguard/sql/sqltest"
)

// adult is someone a concern is about: nothing of theirs may reach a digest.
type adult struct{ name, prisonNumber, dob string }

var adults = []adult{
	{"Margaret Oyelaran-Whitcombe", "A9876ZY", "1948-11-23"},
	{"Desmond Featherstonehaugh", "B1357XW", "1961-02-07"},
}

// TestWeeklyDigestCarriesCountsAndLinksButNoPersonalData raises concerns about named adults,
// writes the real digest for the prison and its host LA through the activity, and reads what
// went into the outbox: the counts and the links are there; no name, prison number or date of
// birth (in any of the ways a date is written), and no concern reference, is.
func TestWeeklyDigestCarriesCountsAndLinksButNoPersonalData(t *testing.T) {
	for _, o := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", sqltest.SQLite}, {"postgres", sqltest.Postgres}} {
		t.Run(o.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := sgsql.Open(ctx, o.url(t))
			must(t, err)
			t.Cleanup(func() { db.Close() })
			_, err = db.Migrate(ctx)
			must(t, err)
			const leeds = "E08000035"
			for _, org := range []*safeguard.Organisation{
				{Code: leeds, Name: "Leeds City Council", Kind: safeguard.KindLocalAuthority, Inbox: "adults@leeds.example"},
				{Code: "LEI", Name: "HMP Leeds", Kind: safeguard.KindPrison, Inbox: "safeguarding@lei.example", HostLA: leeds},
			} {
				must(t, db.UpsertOrganisation(ctx, org))
			}
			lead := &safeguard.User{Email: "lead@lei.example", Name: "Pat Lead", OrgCode: "LEI", Role: safeguard.RolePrisonLead}
			must(t, db.CreateUser(ctx, lead))
			for _, u := range []*safeguard.User{
				{Email: "governor@lei.example", Name: "Sam Governor", OrgCode: "LEI", Role: safeguard.RolePrisonManager},
				{Email: "head@leeds.example", Name: "Alex Head", OrgCode: leeds, Role: safeguard.RoleLAManager},
				{Email: "deputy@leeds.example", Name: "Jo Deputy", OrgCode: leeds, Role: safeguard.RoleLAManager},
			} {
				must(t, db.CreateUser(ctx, u))
			}
			a := &Activities{DB: db, BaseURL: "https://safeguard.example", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			raisedAt := time.Date(2026, 2, 23, 10, 0, 0, 0, time.UTC) // a Monday: both clocks overdue a week later
			oneDay := func(clock string, start time.Time) time.Time { return start.Add(24 * time.Hour) }
			var refs []string
			for _, ad := range adults {
				ref, _, err := db.AllocateReference(ctx, "LEI", 2026, nil)
				must(t, err)
				refs = append(refs, ref)
				_, err = a.RecordRaise(ctx, RaiseInput{Reference: ref, HostLA: leeds, RaisedBy: lead.ID, RaisedAt: raisedAt,
					Raise:  namedRaise(ad),
					Clocks: safeguard.NewLifecycle(ref, "LEI", leeds, lead.ID, raisedAt, oneDay).Clocks})
				must(t, err)
			}

			at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
			orgs, err := a.DigestOrganisations(ctx)
			must(t, err)
			if strings.Join(orgs, ",") != leeds+",LEI" {
				t.Fatalf("digest organisations = %v", orgs)
			}
			sent := map[string]*sgsql.OutboxMessage{}
			for _, org := range orgs {
				keys, err := a.WriteDigest(ctx, DigestInput{Org: org, At: at})
				must(t, err)
				for _, k := range keys {
					if !strings.HasPrefix(k, "digest/2026-W10/"+org+"/") {
						t.Errorf("digest key %q is not keyed by week and organisation", k)
					}
					m, err := db.OutboxMessage(ctx, k)
					must(t, err)
					sent[m.Recipient] = m
				}
				// Counted again (a retried activity): no new message.
				again, err := a.WriteDigest(ctx, DigestInput{Org: org, At: at.Add(time.Hour)})
				must(t, err)
				if len(again) != len(keys) {
					t.Errorf("a second run for %s in the same week gives keys %v; want the same %v", org, again, keys)
				}
			}
			if len(sent) != 3 || sent["governor@lei.example"] == nil || sent["head@leeds.example"] == nil || sent["deputy@leeds.example"] == nil {
				t.Fatalf("digests went to %v; want the prison's and the LA's managers", keysOf(sent))
			}
			var n int
			must(t, db.GetContext(ctx, &n, db.Rebind(`SELECT COUNT(*) FROM outbox WHERE reference = ?`), sgsql.DigestReference))
			if n != 3 {
				t.Errorf("outbox holds %d digests; want 3, one per manager", n)
			}

			for addr, m := range sent {
				text := m.Subject + "\n" + m.Body
				for _, want := range []string{"Concerns open: 2", "Deadlines overdue: 4", "acknowledgement by the host local authority: 2",
					"triage decision: 2", "https://safeguard.example/overdue", "https://safeguard.example/reports"} {
					if !strings.Contains(m.Body, want) {
						t.Errorf("digest to %s lacks %q:\n%s", addr, want, m.Body)
					}
				}
				for _, ad := range adults {
					dob, _ := time.Parse("2006-01-02", ad.dob)
					for _, secret := range []string{ad.name, strings.Fields(ad.name)[0], strings.Fields(ad.name)[1], ad.prisonNumber, ad.dob,
						dob.Format("02/01/2006"), dob.Format("2 January 2006"), dob.Format("2 Jan 2006")} {
						if strings.Contains(strings.ToLower(text), strings.ToLower(secret)) {
							t.Errorf("digest to %s contains %q:\n%s", addr, secret, text)
						}
					}
				}
				for _, ref := range refs {
					if strings.Contains(text, ref) {
						t.Errorf("digest to %s names concern %s: it carries counts only", addr, ref)
					}
				}
			}
		})
	}
}

func namedRaise(ad adult) safeguard.Raise {
	yes, no := true, false
	return safeguard.Raise{
		Establishment: "LEI",
		Subject:       &safeguard.Subject{PrisonNumber: ad.prisonNumber, Name: ad.name, DateOfBirth: ad.dob, SupportNeeds: []string{"older_age"}},
		Categories:    []string{"financial"}, LocationOfRisk: "custody", SourceOfRisk: "other_known",
		Summary:       ad.name + " (" + ad.prisonNumber + ") has had his canteen taken each week.",
		ImmediateRisk: &no, ActionsTaken: "Moved landing.", PoliceInformed: &no,
		Consent: &safeguard.Consent{Given: &yes}, CapacityConcern: &no,
		DesiredOutcomes: &safeguard.DesiredOutcomes{Asked: &yes, Outcomes: "To feel safe."},
	}
}

func keysOf(m map[string]*sgsql.OutboxMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
