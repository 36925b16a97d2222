package sql

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

var raisedAt = time.Date(2026, 3, 2, 9, 30, 15, 123456000, time.UTC)

// rowCounts is how many rows a concern has in each table RecordRaise writes.
func rowCounts(t *testing.T, db *DB, ref string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"concerns", "concern_orgs", "timeline", "outbox"} {
		out[table] = count(t, db, `SELECT COUNT(*) FROM `+table+` WHERE reference = ?`, ref)
	}
	return out
}

func newConcern(u *safeguard.User, ref string, at time.Time) NewConcern {
	return NewConcern{
		Reference: ref, Establishment: "LEI", HostLA: leeds, RaisedBy: u.ID, RaisedAt: at, Raise: validRaise("LEI"),
		Mail: []Mail{
			{Key: ref + "/raised/host_la", Recipient: "adults@leeds.example", Subject: "New concern " + ref, Body: "Please acknowledge."},
			{Key: ref + "/raised/establishment", Recipient: "safeguarding@lei.example", Subject: "Raised " + ref, Body: "Recorded."},
		},
	}
}

func TestRecordRaiseStoresTheConcernItsOrganisationsTimelineAndOutbox(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		ref, _ := allocate(t, db, "LEI", 2026, nil)
		must(t, db.RecordRaise(ctx, newConcern(u, ref, raisedAt)))

		want := map[string]int{"concerns": 1, "concern_orgs": 2, "timeline": 1, "outbox": 2}
		if got := rowCounts(t, db, ref); !reflect.DeepEqual(got, want) {
			t.Errorf("rows = %v; want %v", got, want)
		}
		var orgs []struct {
			Org      string `db:"org_code"`
			Relation string `db:"relation"`
		}
		must(t, db.SelectContext(ctx, &orgs, db.Rebind(`SELECT org_code, relation FROM concern_orgs WHERE reference = ? ORDER BY relation`), ref))
		if len(orgs) != 2 || orgs[0].Org != "LEI" || orgs[0].Relation != "establishment" || orgs[1].Org != leeds || orgs[1].Relation != "host_la" {
			t.Errorf("concern_orgs = %+v; want LEI as establishment and %s as host_la", orgs, leeds)
		}
		var stage string
		must(t, db.GetContext(ctx, &stage, db.Rebind(`SELECT stage FROM concerns WHERE reference = ?`), ref))
		if stage != string(safeguard.StageNotification) {
			t.Errorf("stage = %s; want notification", stage)
		}
		keys, err := db.PendingMail(ctx, ref, "")
		must(t, err)
		if want := []string{ref + "/raised/host_la", ref + "/raised/establishment"}; !slices.Equal(keys, want) {
			t.Errorf("PendingMail = %v; want %v", keys, want)
		}
		m, err := db.OutboxMessage(ctx, ref+"/raised/host_la")
		must(t, err)
		if m.Reference != ref || m.Recipient != "adults@leeds.example" || m.Subject != "New concern "+ref ||
			m.Body != "Please acknowledge." || m.Status != OutboxPending || m.Attempts != 0 || m.SentAt != nil || !m.CreatedAt.Equal(raisedAt) {
			t.Errorf("outbox message = %+v", *m)
		}
	})
}

func TestRecordRaiseTwiceChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		ref, _ := allocate(t, db, "LEI", 2026, nil)
		first := newConcern(u, ref, raisedAt)
		must(t, db.RecordRaise(ctx, first))
		before := rowCounts(t, db, ref)

		must(t, db.RecordRaise(ctx, first))
		// A retry that differs (later clock, other mail) must not change the record either.
		second := newConcern(u, ref, raisedAt.Add(time.Minute))
		second.Raise.Subject.Name = "Someone Else"
		second.Mail = append(second.Mail, Mail{Key: ref + "/extra", Recipient: "x@example.org", Subject: "s", Body: "b"})
		must(t, db.RecordRaise(ctx, second))

		if after := rowCounts(t, db, ref); !reflect.DeepEqual(after, before) {
			t.Errorf("rows after repeating RecordRaise = %v; want %v", after, before)
		}
		c, err := db.FindConcern(ctx, safeguard.Scope{All: true}, ref)
		must(t, err)
		if !c.RaisedAt.Equal(raisedAt) || c.Subject.Name != "John Smith" {
			t.Errorf("concern changed by a repeat: raised_at %v, name %q", c.RaisedAt, c.Subject.Name)
		}
	})
}

// installOutboxFailure makes every insert into the outbox fail, so that RecordRaise fails at its
// last step.
func installOutboxFailure(t *testing.T, db *DB) {
	t.Helper()
	switch db.Dialect {
	case SQLite:
		exec(t, db, `CREATE TRIGGER outbox_fails BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'outbox refused'); END`)
	case Postgres:
		exec(t, db, `CREATE FUNCTION outbox_fails() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox refused'; END $$`)
		exec(t, db, `CREATE TRIGGER outbox_fails BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_fails()`)
	}
}

func TestRecordRaiseIsOneTransactionAFailureLeavesNoTrace(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		installOutboxFailure(t, db)
		ref, _ := allocate(t, db, "LEI", 2026, nil)
		err := db.RecordRaise(ctx, newConcern(u, ref, raisedAt))
		if err == nil || !strings.Contains(err.Error(), "outbox refused") {
			t.Fatalf("RecordRaise = %v; want the outbox failure", err)
		}
		want := map[string]int{"concerns": 0, "concern_orgs": 0, "timeline": 0, "outbox": 0}
		if got := rowCounts(t, db, ref); !reflect.DeepEqual(got, want) {
			t.Errorf("rows after a failed RecordRaise = %v; want none", got)
		}
		// And the retry, once the outbox works, records everything.
		switch db.Dialect {
		case SQLite:
			exec(t, db, `DROP TRIGGER outbox_fails`)
		case Postgres:
			exec(t, db, `DROP TRIGGER outbox_fails ON outbox`)
		}
		must(t, db.RecordRaise(ctx, newConcern(u, ref, raisedAt)))
		want = map[string]int{"concerns": 1, "concern_orgs": 2, "timeline": 1, "outbox": 2}
		if got := rowCounts(t, db, ref); !reflect.DeepEqual(got, want) {
			t.Errorf("rows after the retry = %v; want %v", got, want)
		}
	})
}

func TestFindConcernRoundTripsTheRaisedFields(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		ref, _ := allocate(t, db, "LEI", 2026, nil)
		nc := newConcern(u, ref, raisedAt)
		must(t, db.RecordRaise(ctx, nc))

		c, err := db.FindConcern(ctx, safeguard.Scope{All: true}, ref)
		must(t, err)
		if c.Reference != ref || c.Stage != safeguard.StageNotification || c.Establishment != "LEI" || c.HostLA != leeds || c.RaisedBy != u.ID {
			t.Errorf("concern = %s %s %s %s %d", c.Reference, c.Stage, c.Establishment, c.HostLA, c.RaisedBy)
		}
		if !reflect.DeepEqual(c.Raise, nc.Raise) {
			a, _ := json.Marshal(c.Raise)
			b, _ := json.Marshal(nc.Raise)
			t.Errorf("raised fields:\n got %s\nwant %s", a, b)
		}
		if c.Subject.Name != "John Smith" || !slices.Equal(c.Categories, []string{"physical", "financial"}) ||
			!*c.ImmediateRisk || *c.PoliceInformed || !*c.CapacityConcern || *c.Consent.Given {
			t.Errorf("raised fields not round-tripped: %+v", c.Raise)
		}
		if !c.RaisedAt.Equal(raisedAt) || !c.UpdatedAt.Equal(raisedAt) || c.RaisedAt.Location() != time.UTC {
			t.Errorf("raised_at %v, updated_at %v; want %v in UTC", c.RaisedAt, c.UpdatedAt, raisedAt)
		}
		if c.Clocks == nil || c.Contributions == nil || len(c.Clocks)+len(c.Contributions) != 0 {
			t.Errorf("clocks %v, contributions %v; want empty, non-nil lists", c.Clocks, c.Contributions)
		}
		if len(c.Timeline) != 1 {
			t.Fatalf("timeline = %+v; want one 'raised' event", c.Timeline)
		}
		ev := c.Timeline[0]
		if ev.Kind != "raised" || !ev.At.Equal(raisedAt) || ev.ActorID == nil || *ev.ActorID != u.ID || ev.Org != "LEI" {
			t.Errorf("timeline[0] = %+v", ev)
		}
		var detail struct {
			Categories    []string `json:"categories"`
			ImmediateRisk bool     `json:"immediate_risk"`
		}
		if err := json.Unmarshal(ev.Detail, &detail); err != nil || !slices.Equal(detail.Categories, nc.Raise.Categories) || !detail.ImmediateRisk {
			t.Errorf("timeline detail = %s (%v)", ev.Detail, err)
		}
		if strings.Contains(string(ev.Detail), "John Smith") || strings.Contains(string(ev.Detail), "A1234BC") {
			t.Errorf("timeline detail %s carries the subject's identity", ev.Detail)
		}
	})
}

// RecordRaise stores what both dialects can hold: the input in UTC, truncated to microseconds.
func TestFindConcernRaisedAtIsTheInputTruncatedToMicroseconds(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		in := time.Date(2026, 3, 2, 9, 30, 15, 123456789, time.UTC)
		ref, _ := allocate(t, db, "LEI", 2026, nil)
		must(t, db.RecordRaise(ctx, newConcern(u, ref, in)))
		c, err := db.FindConcern(ctx, safeguard.Scope{All: true}, ref)
		must(t, err)
		if want := in.Truncate(time.Microsecond); !c.RaisedAt.Equal(want) {
			t.Errorf("RaisedAt = %s; want %s", c.RaisedAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
	})
}

func TestFindConcernAppliesTheScope(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		ref := raise(t, db, u, "LEI", raisedAt, nil)
		for _, s := range []safeguard.Scope{{Org: "LEI"}, {Org: leeds}, {All: true}} {
			c, err := db.FindConcern(ctx, s, ref)
			if err != nil {
				t.Errorf("FindConcern(%+v): %v; want it found", s, err)
			} else if c.Reference != ref {
				t.Errorf("FindConcern(%+v) = %s", s, c.Reference)
			}
		}
		for _, s := range []safeguard.Scope{{Org: "WDI"}, {Org: wakefield}, {Org: "WYI"}, {Org: ""}, {}} {
			_, err := db.FindConcern(ctx, s, ref)
			wantCode(t, err, safeguard.ENOTFOUND)
		}
		_, err := db.FindConcern(ctx, safeguard.Scope{All: true}, "SG-LEI-2026-99999")
		wantCode(t, err, safeguard.ENOTFOUND)
	})
}

func TestInvolvementListsTheEstablishmentAndHostLA(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		ref := raise(t, db, u, "LEI", raisedAt, nil)
		inv, err := db.Involvement(ctx, ref)
		must(t, err)
		if inv.Establishment != "LEI" || inv.HostLA != leeds || len(inv.Others) != 0 {
			t.Errorf("Involvement = %+v; want LEI, %s and no others", *inv, leeds)
		}
		_, err = db.Involvement(ctx, "SG-LEI-2026-99999")
		wantCode(t, err, safeguard.ENOTFOUND)
	})
}

// refsOf returns the references of a page.
func refsOf(cs []*safeguard.Concern) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Reference)
	}
	return out
}

func list(t *testing.T, db *DB, s safeguard.Scope, f safeguard.ConcernFilter) ([]string, string) {
	t.Helper()
	cs, next, err := db.ListConcerns(ctx, s, f)
	if err != nil {
		t.Fatalf("ListConcerns(%+v, %+v): %v", s, f, err)
	}
	return refsOf(cs), next
}

// listAll follows cursors to the end and returns every page.
func listAll(t *testing.T, db *DB, s safeguard.Scope, f safeguard.ConcernFilter) [][]string {
	t.Helper()
	var pages [][]string
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("more than 100 pages: the cursor does not advance")
		}
		refs, next := list(t, db, s, f)
		pages = append(pages, refs)
		if next == "" {
			return pages
		}
		f.Cursor = next
	}
}

func TestListConcernsAppliesTheScopeInTheQuery(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		lei := raise(t, db, u, "LEI", raisedAt, nil)
		wyi := raise(t, db, u, "WYI", raisedAt.Add(time.Hour), nil)
		wdi := raise(t, db, u, "WDI", raisedAt.Add(2*time.Hour), nil)
		must(t, db.UpsertOrganisation(ctx, &safeguard.Organisation{Code: "POLICE-WY", Name: "West Yorkshire Police", Kind: safeguard.KindPolice}))

		cases := []struct {
			scope safeguard.Scope
			want  []string
		}{
			{safeguard.Scope{All: true}, []string{wdi, wyi, lei}},
			{safeguard.Scope{Org: leeds}, []string{wyi, lei}},
			{safeguard.Scope{Org: wakefield}, []string{wdi}},
			{safeguard.Scope{Org: "LEI"}, []string{lei}},
			{safeguard.Scope{Org: "WDI"}, []string{wdi}},
			{safeguard.Scope{Org: "POLICE-WY"}, []string{}},
			{safeguard.Scope{Org: "NOPE"}, []string{}},
			{safeguard.Scope{}, []string{}},
		}
		for _, c := range cases {
			got, next := list(t, db, c.scope, safeguard.ConcernFilter{})
			if !slices.Equal(got, c.want) || next != "" {
				t.Errorf("ListConcerns(%+v) = %v, %q; want %v, \"\"", c.scope, got, next, c.want)
			}
		}
		// A filter naming an establishment out of scope does not widen the scope.
		if got, _ := list(t, db, safeguard.Scope{Org: leeds}, safeguard.ConcernFilter{Establishment: "WDI"}); len(got) != 0 {
			t.Errorf("Leeds filtering on WDI sees %v; want none", got)
		}
	})
}

// filterFixture raises five concerns an hour apart, newest last: three at LEI and two at WDI.
type filterFixture struct{ smith, maryUnderscore, maryDash, percent, fiveHundred string }

func newFilterFixture(t *testing.T, db *DB) filterFixture {
	t.Helper()
	u := seed(t, db)
	subject := func(number, name string) func(*safeguard.Raise) {
		return func(r *safeguard.Raise) { r.Subject.PrisonNumber, r.Subject.Name = number, name }
	}
	var f filterFixture
	f.smith = raise(t, db, u, "LEI", raisedAt, subject("A1234BC", "John Smith"))
	f.maryUnderscore = raise(t, db, u, "LEI", raisedAt.Add(1*time.Hour), subject("B2345CD", "Mary_Ann Lee"))
	f.maryDash = raise(t, db, u, "LEI", raisedAt.Add(2*time.Hour), subject("C3456DE", "Mary-Ann Lee"))
	f.percent = raise(t, db, u, "WDI", raisedAt.Add(3*time.Hour), subject("D4567EF", "Percy 50% Jones"))
	f.fiveHundred = raise(t, db, u, "WDI", raisedAt.Add(4*time.Hour), subject("E5678FG", "Percy 500 Jones"))
	return f
}

func TestListConcernsFilters(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newFilterFixture(t, db)
		exec(t, db, `UPDATE concerns SET stage = 'enquiry' WHERE reference = ?`, f.maryUnderscore)
		all := safeguard.Scope{All: true}
		cases := []struct {
			name   string
			scope  safeguard.Scope
			filter safeguard.ConcernFilter
			want   []string
		}{
			{"no filter lists newest first", all, safeguard.ConcernFilter{}, []string{f.fiveHundred, f.percent, f.maryDash, f.maryUnderscore, f.smith}},
			{"stage", all, safeguard.ConcernFilter{Stage: safeguard.StageEnquiry}, []string{f.maryUnderscore}},
			{"stage notification", all, safeguard.ConcernFilter{Stage: safeguard.StageNotification}, []string{f.fiveHundred, f.percent, f.maryDash, f.smith}},
			{"stage with no concerns", all, safeguard.ConcernFilter{Stage: safeguard.StageClosed}, []string{}},
			{"establishment", all, safeguard.ConcernFilter{Establishment: "WDI"}, []string{f.fiveHundred, f.percent}},
			{"q reference", all, safeguard.ConcernFilter{Q: f.smith}, []string{f.smith}},
			{"q reference lower case", all, safeguard.ConcernFilter{Q: strings.ToLower(f.percent)}, []string{f.percent}},
			{"q prison number", all, safeguard.ConcernFilter{Q: "B2345CD"}, []string{f.maryUnderscore}},
			{"q prison number lower case", all, safeguard.ConcernFilter{Q: "b2345cd"}, []string{f.maryUnderscore}},
			{"q part of the name", all, safeguard.ConcernFilter{Q: "smi"}, []string{f.smith}},
			{"q part of the name upper case", all, safeguard.ConcernFilter{Q: "SMITH"}, []string{f.smith}},
			{"q name with spaces around", all, safeguard.ConcernFilter{Q: "  ann lee "}, []string{f.maryDash, f.maryUnderscore}},
			{"q underscore matches literally", all, safeguard.ConcernFilter{Q: "mary_ann"}, []string{f.maryUnderscore}},
			{"q lone underscore matches literally", all, safeguard.ConcernFilter{Q: "_"}, []string{f.maryUnderscore}},
			{"q percent matches literally", all, safeguard.ConcernFilter{Q: "50%"}, []string{f.percent}},
			{"q lone percent matches literally", all, safeguard.ConcernFilter{Q: "%"}, []string{f.percent}},
			{"q backslash matches nothing", all, safeguard.ConcernFilter{Q: `\`}, []string{}},
			{"q nothing matches", all, safeguard.ConcernFilter{Q: "nobody"}, []string{}},
			{"q and establishment", all, safeguard.ConcernFilter{Q: "percy", Establishment: "WDI"}, []string{f.fiveHundred, f.percent}},
			{"q and establishment disjoint", all, safeguard.ConcernFilter{Q: "percy", Establishment: "LEI"}, []string{}},
			{"q within scope", safeguard.Scope{Org: wakefield}, safeguard.ConcernFilter{Q: "lee"}, []string{}},
			{"q by reference out of scope", safeguard.Scope{Org: wakefield}, safeguard.ConcernFilter{Q: f.smith}, []string{}},
			{"stage within scope", safeguard.Scope{Org: leeds}, safeguard.ConcernFilter{Stage: safeguard.StageNotification}, []string{f.maryDash, f.smith}},
		}
		for _, c := range cases {
			got, next := list(t, db, c.scope, c.filter)
			if !slices.Equal(got, c.want) || next != "" {
				t.Errorf("%s: ListConcerns(%+v, %+v) = %v, %q; want %v", c.name, c.scope, c.filter, got, next, c.want)
			}
		}
		// Items carry the raised fields.
		cs, _, err := db.ListConcerns(ctx, all, safeguard.ConcernFilter{Q: "smith"})
		must(t, err)
		if len(cs) != 1 || cs[0].Subject == nil || cs[0].Subject.Name != "John Smith" || cs[0].HostLA != leeds || !cs[0].RaisedAt.Equal(raisedAt) {
			t.Errorf("listed concern = %+v", cs)
		}
	})
}

func TestListConcernsPagesNewestFirstWithoutGapsOrDuplicates(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		var refs []string
		for i := 0; i < 5; i++ {
			refs = append(refs, raise(t, db, u, "LEI", raisedAt.Add(time.Duration(i)*time.Hour+time.Duration(i)*time.Microsecond), nil))
		}
		slices.Reverse(refs) // newest first
		for _, s := range []safeguard.Scope{{All: true}, {Org: leeds}, {Org: "LEI"}} {
			pages := listAll(t, db, s, safeguard.ConcernFilter{Limit: 2})
			if len(pages) != 3 {
				t.Fatalf("scope %+v: %d pages %v; want 3", s, len(pages), pages)
			}
			want := [][]string{refs[0:2], refs[2:4], refs[4:5]}
			if !reflect.DeepEqual(pages, want) {
				t.Errorf("scope %+v: pages = %v; want %v", s, pages, want)
			}
		}
		// A page size equal to the number of concerns has no next page.
		if got, next := list(t, db, safeguard.Scope{All: true}, safeguard.ConcernFilter{Limit: 5}); len(got) != 5 || next != "" {
			t.Errorf("limit 5 over 5 = %v, next %q; want all 5 and no cursor", got, next)
		}
		// No limit, or one over the maximum, gives the default page, which holds all five.
		for _, limit := range []int{0, -1, 1000} {
			if got, next := list(t, db, safeguard.Scope{All: true}, safeguard.ConcernFilter{Limit: limit}); !slices.Equal(got, refs) || next != "" {
				t.Errorf("limit %d = %v, next %q; want all 5", limit, got, next)
			}
		}
	})
}

func TestListConcernsPagesThroughConcernsRaisedAtTheSameInstant(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		older := raise(t, db, u, "LEI", raisedAt.Add(-time.Hour), nil)
		var same []string
		for i := 0; i < 3; i++ {
			same = append(same, raise(t, db, u, "LEI", raisedAt, nil))
		}
		newer := raise(t, db, u, "LEI", raisedAt.Add(time.Hour), nil)
		slices.Reverse(same) // ties are broken by reference, highest first
		want := append(append([]string{newer}, same...), older)
		for _, limit := range []int{1, 2, 3} {
			pages := listAll(t, db, safeguard.Scope{Org: leeds}, safeguard.ConcernFilter{Limit: limit})
			var got []string
			for _, p := range pages {
				got = append(got, p...)
			}
			if !slices.Equal(got, want) {
				t.Errorf("limit %d: concatenated pages = %v; want %v", limit, got, want)
			}
		}
	})
}

func TestListConcernsRefusesACursorItDidNotGiveOut(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		raise(t, db, u, "LEI", raisedAt, nil)
		b64 := base64.RawURLEncoding.EncodeToString
		for _, cursor := range []string{"not a cursor!", b64([]byte("no separator")), b64([]byte("yesterday|SG-LEI-2026-00001")), "====", "%%%"} {
			_, _, err := db.ListConcerns(ctx, safeguard.Scope{All: true}, safeguard.ConcernFilter{Cursor: cursor})
			e := wantCode(t, err, safeguard.EINVALID)
			if e.Fields["cursor"] == "" {
				t.Errorf("cursor %q: Fields = %v; want a message for cursor", cursor, e.Fields)
			}
		}
	})
}

func TestListConcernsOrdersRaisedTimesGivenInAnotherZoneByInstant(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		bst := time.FixedZone("BST", 3600)
		newer := raise(t, db, u, "LEI", time.Date(2026, 6, 1, 10, 30, 0, 0, time.UTC), nil)
		older := raise(t, db, u, "LEI", time.Date(2026, 6, 1, 11, 0, 0, 0, bst), nil) // 10:00Z
		if got, _ := list(t, db, safeguard.Scope{All: true}, safeguard.ConcernFilter{}); !slices.Equal(got, []string{newer, older}) {
			t.Errorf("ListConcerns = %v; want %v newest first", got, []string{newer, older})
		}
		pages := listAll(t, db, safeguard.Scope{All: true}, safeguard.ConcernFilter{Limit: 1})
		if !reflect.DeepEqual(pages, [][]string{{newer}, {older}}) {
			t.Errorf("pages = %v; want [[%s] [%s]]", pages, newer, older)
		}
		c, err := db.FindConcern(ctx, safeguard.Scope{All: true}, older)
		must(t, err)
		if want := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC); !c.RaisedAt.Equal(want) || c.RaisedAt.Location() != time.UTC {
			t.Errorf("RaisedAt = %v; want %v", c.RaisedAt, want)
		}
	})
}
