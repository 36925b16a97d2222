package sql

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

func outboxMessage(t *testing.T, db *DB, key string) *OutboxMessage {
	t.Helper()
	m, err := db.OutboxMessage(ctx, key)
	if err != nil {
		t.Fatalf("OutboxMessage(%s): %v", key, err)
	}
	return m
}

// claim claims key with a lease that lapses at once, as if each claimant finished before the next.
func claim(t *testing.T, db *DB, key string) bool {
	t.Helper()
	return claimFor(t, db, key, 0)
}

func claimFor(t *testing.T, db *DB, key string, lease time.Duration) bool {
	t.Helper()
	ok, err := db.ClaimForSending(ctx, key, lease)
	if err != nil {
		t.Fatalf("ClaimForSending(%s): %v", key, err)
	}
	return ok
}

func backlog(t *testing.T, db *DB) int {
	t.Helper()
	n, err := db.OutboxBacklog(ctx)
	must(t, err)
	return n
}

func TestClaimForSendingCountsAttemptsWhilePendingAndStopsOnceSentOrHeld(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		ref := raise(t, db, u, "LEI", raisedAt, nil)
		sent, held := ref+"/raised/host_la", ref+"/raised/establishment"

		for i := 1; i <= 2; i++ {
			if !claim(t, db, sent) {
				t.Fatalf("claim %d of a pending message = false; want true", i)
			}
			if m := outboxMessage(t, db, sent); m.Attempts != i || m.Status != OutboxPending {
				t.Errorf("after claim %d: attempts %d, status %s", i, m.Attempts, m.Status)
			}
		}
		must(t, db.SetOutboxStatus(ctx, sent, OutboxSent, ""))
		if claim(t, db, sent) {
			t.Error("claim of a sent message = true; want false")
		}
		if m := outboxMessage(t, db, sent); m.Attempts != 2 {
			t.Errorf("attempts = %d after claiming a sent message; want 2 (unchanged)", m.Attempts)
		}

		must(t, db.SetOutboxStatus(ctx, held, OutboxHeld, ""))
		if claim(t, db, held) {
			t.Error("claim of a held message = true; want false")
		}
		if m := outboxMessage(t, db, held); m.Attempts != 0 || m.SentAt != nil {
			t.Errorf("held message: attempts %d, sent_at %v; want 0 and none", m.Attempts, m.SentAt)
		}

		if claim(t, db, "no/such/key") {
			t.Error("claim of an unknown key = true; want false")
		}
	})
}

func TestClaimForSendingHoldsAMessageForOneSenderUntilItsLeaseLapses(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		key := raise(t, db, u, "LEI", raisedAt, nil) + "/raised/host_la"
		clk := fixClock(db, time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC))
		if !claimFor(t, db, key, 30*time.Second) {
			t.Fatal("first claim = false; want true")
		}
		if claimFor(t, db, key, 30*time.Second) {
			t.Error("a second claim within the lease = true; want false (another sender holds it)")
		}
		clk.Add(29 * time.Second)
		if claimFor(t, db, key, 30*time.Second) {
			t.Error("a claim 29s into a 30s lease = true; want false")
		}
		clk.Add(time.Second)
		if !claimFor(t, db, key, 30*time.Second) {
			t.Error("a claim once the lease lapsed (a sender lost mid-send) = false; want true")
		}
		if m := outboxMessage(t, db, key); m.Attempts != 2 {
			t.Errorf("attempts = %d; want 2 (refused claims do not count)", m.Attempts)
		}
		must(t, db.SetOutboxStatus(ctx, key, OutboxSent, ""))
		clk.Add(time.Hour)
		if claimFor(t, db, key, 30*time.Second) {
			t.Error("a claim of a sent message = true; want false")
		}
	})
}

func TestClaimForSendingGivesARacedMessageToOneSender(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		key := raise(t, db, u, "LEI", raisedAt, nil) + "/raised/host_la"
		const senders = 8
		got := make(chan bool, senders)
		errs := make(chan error, senders)
		var start sync.WaitGroup
		start.Add(1)
		for range senders {
			go func() {
				start.Wait()
				ok, err := db.ClaimForSending(ctx, key, time.Minute)
				got <- ok
				errs <- err
			}()
		}
		start.Done()
		won := 0
		for range senders {
			if <-got {
				won++
			}
			if err := <-errs; err != nil {
				t.Errorf("claim: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d racing senders claimed the message; want exactly 1", won, senders)
		}
	})
}

func TestDueMailLeavesOutClaimedBackedOffAndSettledMessages(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		clk := fixClock(db, time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC))
		ref := raise(t, db, u, "LEI", raisedAt, nil)
		la, est := ref+"/raised/host_la", ref+"/raised/establishment"
		due := func() []string {
			t.Helper()
			msgs, err := db.DueMail(ctx, 10)
			must(t, err)
			var keys []string
			for _, m := range msgs {
				keys = append(keys, m.Key)
				if m.Body == "" || m.Recipient == "" {
					t.Errorf("due message %s came without its body or recipient", m.Key)
				}
			}
			return keys
		}
		if got := due(); !slices.Equal(got, []string{la, est}) {
			t.Fatalf("due = %v; want both, oldest first", got)
		}
		claimFor(t, db, la, 30*time.Second)
		must(t, db.RetryLater(ctx, est, "421 try again later", 10*time.Second))
		if got := due(); len(got) != 0 {
			t.Errorf("due = %v; want none (one claimed, one backing off)", got)
		}
		clk.Add(10 * time.Second)
		if got := due(); !slices.Equal(got, []string{est}) {
			t.Errorf("due after the backoff = %v; want %v", got, []string{est})
		}
		clk.Add(20 * time.Second)
		if got := due(); !slices.Equal(got, []string{la, est}) {
			t.Errorf("due once the claim lapsed = %v; want both", got)
		}
		must(t, db.SetOutboxStatus(ctx, la, OutboxSent, ""))
		must(t, db.SetOutboxStatus(ctx, est, OutboxHeld, ""))
		if got := due(); len(got) != 0 {
			t.Errorf("due = %v; want none once sent and held", got)
		}
		if got, err := db.DueMail(ctx, 1); err != nil || len(got) != 0 {
			t.Errorf("DueMail = %v, %v", got, err)
		}
	})
}

func TestClaimForSendingStopsOnceFailed(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		key := raise(t, db, u, "LEI", raisedAt, nil) + "/raised/host_la"
		must(t, db.SetOutboxStatus(ctx, key, OutboxFailed, "550 mailbox unavailable"))
		if claim(t, db, key) {
			t.Error("claim of a failed message = true; want false")
		}
		if m := outboxMessage(t, db, key); m.Status != OutboxFailed || m.LastError != "550 mailbox unavailable" || m.SentAt != nil {
			t.Errorf("failed message = %+v", *m)
		}
	})
}

func TestSetOutboxStatusSentRecordsWhenAndATemporaryFailureKeepsItPending(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		key := raise(t, db, u, "LEI", raisedAt, nil) + "/raised/host_la"
		clk := fixClock(db, time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC))

		must(t, db.RetryLater(ctx, key, "421 try again later", 0))
		m := outboxMessage(t, db, key)
		if m.Status != OutboxPending || m.LastError != "421 try again later" || m.SentAt != nil {
			t.Errorf("after a temporary failure: %+v", *m)
		}
		if !claim(t, db, key) {
			t.Error("a message pending after a temporary failure cannot be claimed")
		}

		sentAt := clk.Now()
		must(t, db.SetOutboxStatus(ctx, key, OutboxSent, ""))
		m = outboxMessage(t, db, key)
		if m.Status != OutboxSent || m.LastError != "" || m.SentAt == nil || !m.SentAt.Equal(sentAt) {
			t.Errorf("after sending: status %s, last_error %q, sent_at %v; want sent at %v", m.Status, m.LastError, m.SentAt, sentAt)
		}
		// A later status change does not lose when it was sent.
		clk.Add(time.Hour)
		must(t, db.SetOutboxStatus(ctx, key, OutboxHeld, ""))
		if m = outboxMessage(t, db, key); m.SentAt == nil || !m.SentAt.Equal(sentAt) {
			t.Errorf("sent_at = %v after a later status; want %v kept", m.SentAt, sentAt)
		}
	})
}

func TestOutboxBacklogCountsPendingMessagesOnly(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		if n := backlog(t, db); n != 0 {
			t.Errorf("backlog of an empty outbox = %d", n)
		}
		r1 := raise(t, db, u, "LEI", raisedAt, nil)
		r2 := raise(t, db, u, "LEI", raisedAt.Add(time.Minute), nil)
		if n := backlog(t, db); n != 4 {
			t.Errorf("backlog = %d; want 4", n)
		}
		claim(t, db, r1+"/raised/host_la") // claiming does not take it out of the backlog
		if n := backlog(t, db); n != 4 {
			t.Errorf("backlog after a claim = %d; want 4", n)
		}
		must(t, db.SetOutboxStatus(ctx, r1+"/raised/host_la", OutboxSent, ""))
		must(t, db.SetOutboxStatus(ctx, r1+"/raised/establishment", OutboxHeld, ""))
		must(t, db.SetOutboxStatus(ctx, r2+"/raised/host_la", OutboxFailed, "refused"))
		if n := backlog(t, db); n != 1 {
			t.Errorf("backlog = %d; want 1 (sent, held and failed are not waiting)", n)
		}
	})
}

func TestRecentOutboxListsNewestFirst(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		r1 := raise(t, db, u, "LEI", raisedAt, nil)
		r2 := raise(t, db, u, "WDI", raisedAt.Add(time.Minute), nil)
		must(t, db.SetOutboxStatus(ctx, r1+"/raised/host_la", OutboxSent, "")) // status does not matter
		msgs, err := db.RecentOutbox(ctx, 10)
		must(t, err)
		var keys []string
		for _, m := range msgs {
			keys = append(keys, m.Key)
		}
		want := []string{r2 + "/raised/establishment", r2 + "/raised/host_la", r1 + "/raised/establishment", r1 + "/raised/host_la"}
		if !slices.Equal(keys, want) {
			t.Errorf("RecentOutbox = %v; want %v", keys, want)
		}
		if msgs[3].Status != OutboxSent || msgs[0].Reference != r2 || msgs[0].Subject != "Raised "+r2 {
			t.Errorf("RecentOutbox rows = %+v", msgs)
		}
		msgs, err = db.RecentOutbox(ctx, 3)
		must(t, err)
		if len(msgs) != 3 || msgs[0].Key != want[0] {
			t.Errorf("RecentOutbox(3) = %d messages starting %v", len(msgs), msgs)
		}
	})
}

func TestPendingMailListsAConcernsPendingMessagesOldestFirst(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		r1 := raise(t, db, u, "LEI", raisedAt, nil)
		r2 := raise(t, db, u, "LEI", raisedAt.Add(time.Minute), nil)
		keys, err := db.PendingMail(ctx, r1, "")
		must(t, err)
		if want := []string{r1 + "/raised/host_la", r1 + "/raised/establishment"}; !slices.Equal(keys, want) {
			t.Errorf("PendingMail(%s) = %v; want %v", r1, keys, want)
		}
		must(t, db.SetOutboxStatus(ctx, r1+"/raised/host_la", OutboxSent, ""))
		keys, err = db.PendingMail(ctx, r1, "")
		must(t, err)
		if want := []string{r1 + "/raised/establishment"}; !slices.Equal(keys, want) {
			t.Errorf("PendingMail(%s) after sending one = %v; want %v", r1, keys, want)
		}
		must(t, db.SetOutboxStatus(ctx, r1+"/raised/establishment", OutboxHeld, ""))
		keys, err = db.PendingMail(ctx, r1, "")
		must(t, err)
		if len(keys) != 0 {
			t.Errorf("PendingMail(%s) with nothing pending = %v; want none", r1, keys)
		}
		keys, err = db.PendingMail(ctx, r2, "")
		must(t, err)
		if len(keys) != 2 {
			t.Errorf("PendingMail(%s) = %v; want its own 2 keys untouched", r2, keys)
		}
	})
}

func TestOutboxMessageOfAnUnknownKeyIsNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		_, err := db.OutboxMessage(ctx, "SG-LEI-2026-00001/raised/host_la")
		wantCode(t, err, safeguard.ENOTFOUND)
	})
}

func TestPendingMailWithAPrefixListsOnlyKeysStartingWithIt(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		ref := raise(t, db, u, "LEI", raisedAt, nil)
		cases := map[string][]string{
			ref + "/raised/":          {ref + "/raised/host_la", ref + "/raised/establishment"},
			ref + "/raised/host":      {ref + "/raised/host_la"},
			ref + "/raised/host_la":   {ref + "/raised/host_la"},
			ref + "/raised/hostXla":   {},
			ref + "/raised/host_":     {ref + "/raised/host_la"},
			ref + "/raised/e_tablish": {}, // '_' is literal, not any character
			ref + "/raised/%":         {}, // '%' is literal, not any string
			ref + "/reminder/":        {},
		}
		for prefix, want := range cases {
			keys, err := db.PendingMail(ctx, ref, prefix)
			must(t, err)
			if keys == nil {
				keys = []string{}
			}
			if !slices.Equal(keys, want) {
				t.Errorf("PendingMail(%q) = %v; want %v", prefix, keys, want)
			}
		}
	})
}
