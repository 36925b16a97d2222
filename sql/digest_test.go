package sql

import (
	"maps"
	"slices"
	"testing"

	"github.com/safeguard-project/safeguard"
)

// The digest fixture, counted at Mon 2 Mar 2026 08:00 (London, GMT):
//
//	P  LEI  raised Mon 23 Feb 10:00; nothing done: acknowledgement (due Tue 24) and triage
//	        (due Wed 25) overdue; a rung fired Wed 25 Feb 10:00 (last week)
//	Q  LEI  raised Fri 27 Feb 10:00; acknowledgement due Mon 2 Mar 10:00 and triage due
//	        Tue 3 Mar 10:00: both due this week, neither overdue
//	R  LEI  raised Mon 2 Feb; acknowledged, no further action at triage: not open, no clock
//	U  LEI  raised Mon 9 Feb 10:00; nothing done: both clocks overdue; rungs fired Tue 17 Feb
//	        (before the week) and Mon 23 Feb 08:00 (the first moment of the week)
//	S  WDI  raised Mon 23 Feb 10:00 (host Wakefield); nothing done
//
// Leeds (host LA of LEI) and LEI see P, Q, R, U; Wakefield sees S.
func TestDigestCountsOpenOverdueDueAndEscalationsPerOrganisation(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		seedOrgs(t, db)
		lead := newUser(t, db, "lead@lei.example", "LEI", safeguard.RolePrisonLead)
		wdiLead := newUser(t, db, "lead@wdi.example", "WDI", safeguard.RolePrisonLead)
		la := newUser(t, db, "practitioner@leeds.example", leeds, safeguard.RoleLAPractitioner)
		newUser(t, db, "manager@lei.example", "LEI", safeguard.RolePrisonManager)
		newUser(t, db, "manager@leeds.example", leeds, safeguard.RoleLAManager)
		newUser(t, db, "manager@wakefield.example", wakefield, safeguard.RoleLAManager)
		gone := newUser(t, db, "gone@wdi.example", "WDI", safeguard.RolePrisonManager)
		exec(t, db, `UPDATE users SET disabled = ? WHERE id = ?`, true, gone.ID)

		p := raiseFixture(t, db, lead, leeds, lon("2026-02-23 10:00"), validRaise("LEI"))
		raiseFixture(t, db, lead, leeds, lon("2026-02-27 10:00"), validRaise("LEI"))
		r := raiseFixture(t, db, lead, leeds, lon("2026-02-02 10:00"), validRaise("LEI"))
		r.do(la, safeguard.ActionAcknowledge, lon("2026-02-02 11:00"), safeguard.Input{}, nil)
		r.do(lead, safeguard.ActionTriage, lon("2026-02-03 10:00"), safeguard.Input{Decision: "no_further_action", Rationale: "Not met."}, nil)
		u := raiseFixture(t, db, lead, leeds, lon("2026-02-09 10:00"), validRaise("LEI"))
		raiseFixture(t, db, wdiLead, wakefield, lon("2026-02-23 10:00"), validRaise("WDI"))

		step := func(d *concernDriver, index int, at string) {
			t.Helper()
			ok, err := db.RecordStep(ctx, StepRecord{Reference: d.l.Reference, ClockID: d.l.Clocks[0].ID, Index: index, At: lon(at), Breached: true,
				Detail: map[string]any{"clock": d.l.Clocks[0].Name, "clock_id": d.l.Clocks[0].ID, "step": index}})
			must(t, err)
			if !ok {
				t.Fatalf("fixture: rung %d of %s not recorded", index, d.l.Reference)
			}
		}
		step(p, 1, "2026-02-25 10:00")
		step(u, 1, "2026-02-17 10:00")
		step(u, 2, "2026-02-23 08:00")

		orgs, err := db.DigestOrganisations(ctx)
		must(t, err)
		if want := []string{leeds, wakefield, "LEI"}; !slices.Equal(orgs, want) {
			t.Errorf("DigestOrganisations = %v; want %v (WDI has only a lead and a disabled manager)", orgs, want)
		}

		now := lon("2026-03-02 08:00")
		leedsWant := safeguard.Digest{Week: "2026-W10", Open: 3, OverdueTotal: 4, DueThisWeek: 2, EscalationsLastWeek: 2,
			Overdue: map[string]int{safeguard.ClockLAAcknowledgement: 2, safeguard.ClockTriageDecision: 2}}
		for org, want := range map[string]safeguard.Digest{
			leeds: leedsWant,
			"LEI": leedsWant,
			wakefield: {Week: "2026-W10", Open: 1, OverdueTotal: 2, DueThisWeek: 0, EscalationsLastWeek: 0,
				Overdue: map[string]int{safeguard.ClockLAAcknowledgement: 1, safeguard.ClockTriageDecision: 1}},
		} {
			got, err := db.DigestCounts(ctx, org, now)
			must(t, err)
			if got.Org != org || !got.At.Equal(now) || got.Week != want.Week || got.Open != want.Open || got.OverdueTotal != want.OverdueTotal ||
				got.DueThisWeek != want.DueThisWeek || got.EscalationsLastWeek != want.EscalationsLastWeek || !maps.Equal(got.Overdue, want.Overdue) {
				t.Errorf("DigestCounts(%s) = %+v; want %+v", org, *got, want)
			}
		}
	})
}

func TestRecordDigestWritesEachKeyOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		msgs := []Mail{{Key: "digest/2026-W10/LEI/a", Recipient: "a@lei.example", Subject: "s", Body: "b"},
			{Key: "digest/2026-W10/LEI/b", Recipient: "b@lei.example", Subject: "s", Body: "b"}}
		keys, err := db.RecordDigest(ctx, "digest/2026-W10/LEI/", msgs)
		must(t, err)
		if len(keys) != 2 {
			t.Fatalf("pending keys = %v; want both", keys)
		}
		must(t, db.SetOutboxStatus(ctx, keys[0], OutboxSent, ""))
		// The retry, with a body rendered again: nothing is written twice, the sent one stays sent.
		msgs[0].Body = "changed"
		keys, err = db.RecordDigest(ctx, "digest/2026-W10/LEI/", msgs)
		must(t, err)
		if !slices.Equal(keys, []string{"digest/2026-W10/LEI/b"}) {
			t.Errorf("pending keys after a retry = %v; want only the unsent one", keys)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM outbox WHERE reference = ?`, DigestReference); n != 2 {
			t.Errorf("outbox holds %d digest rows; want 2", n)
		}
		m, err := db.OutboxMessage(ctx, "digest/2026-W10/LEI/a")
		must(t, err)
		if m.Status != OutboxSent || m.Body != "b" {
			t.Errorf("sent message became %+v", m)
		}
		if keys, _ := db.RecordDigest(ctx, "digest/2026-W10/WDI/", nil); len(keys) != 0 {
			t.Errorf("another organisation's prefix sees %v", keys)
		}
	})
}
