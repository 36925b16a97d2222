package sql

import (
	"context"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

// BenchmarkRecordRaise measures recording a new concern (RecordRaise's one transaction), and
// what keeping the SAC return's counts adds to it: reading the concern's facts and upserting
// its cells (countForSAC, in a transaction rolled back), and the no-op an action that changes
// nothing the return counts pays (facts read, nothing written). docs/reports.md has figures.
//
//	go test ./sql/ -run '^$' -bench 'RecordRaise' -benchtime 2000x
func BenchmarkRecordRaise(b *testing.B) {
	for _, o := range openers {
		b.Run(o.name, func(b *testing.B) {
			db, err := Open(context.Background(), o.url(b))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			for _, org := range []*safeguard.Organisation{
				{Code: leeds, Name: "Leeds City Council", Kind: safeguard.KindLocalAuthority},
				{Code: "LEI", Name: "HMP Leeds", Kind: safeguard.KindPrison, HostLA: leeds},
			} {
				if err := db.UpsertOrganisation(ctx, org); err != nil {
					b.Fatal(err)
				}
			}
			u := &safeguard.User{Email: "lead@lei.example", Name: "Lead", OrgCode: "LEI", Role: safeguard.RolePrisonLead}
			if err := db.CreateUser(ctx, u); err != nil {
				b.Fatal(err)
			}
			at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			var last string
			b.Run("record_raise", func(b *testing.B) {
				for b.Loop() {
					ref, _, err := db.AllocateReference(ctx, "LEI", 2026, nil)
					if err != nil {
						b.Fatal(err)
					}
					at = at.Add(time.Minute)
					if err := db.RecordRaise(ctx, NewConcern{Reference: ref, Establishment: "LEI", HostLA: leeds, RaisedBy: u.ID, RaisedAt: at, Raise: validRaise("LEI")}); err != nil {
						b.Fatal(err)
					}
					last = ref
				}
			})
			keep := func(b *testing.B, unchanged bool) {
				for b.Loop() {
					tx, err := db.BeginTxx(ctx, nil)
					if err != nil {
						b.Fatal(err)
					}
					var before *sacFacts
					if unchanged {
						if before, err = db.sacFactsOf(ctx, tx, last); err != nil {
							b.Fatal(err)
						}
					}
					if err := db.countForSAC(ctx, tx, last, before); err != nil {
						b.Fatal(err)
					}
					_ = tx.Rollback()
				}
			}
			b.Run("counts_of_a_new_concern", func(b *testing.B) { keep(b, false) })
			b.Run("counts_of_an_action_changing_nothing", func(b *testing.B) { keep(b, true) })
		})
	}
}
