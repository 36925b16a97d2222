package sql

import (
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/safeguard-project/safeguard"
)

func allocate(t *testing.T, db *DB, est string, year int, key *IdempotencyKey) (string, bool) {
	t.Helper()
	ref, replay, err := db.AllocateReference(ctx, est, year, key)
	if err != nil {
		t.Fatalf("AllocateReference(%s, %d, %+v): %v", est, year, key, err)
	}
	return ref, replay
}

func wantRef(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("reference = %s; want %s", got, want)
	}
}

func TestAllocateReferenceIsSequentialPerEstablishmentAndYear(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		r, replay := allocate(t, db, "LEI", 2026, nil)
		wantRef(t, r, "SG-LEI-2026-00001")
		if replay {
			t.Error("replay = true without a key")
		}
		r, _ = allocate(t, db, "LEI", 2026, nil)
		wantRef(t, r, "SG-LEI-2026-00002")
		r, _ = allocate(t, db, "WDI", 2026, nil)
		wantRef(t, r, "SG-WDI-2026-00001")
		r, _ = allocate(t, db, "LEI", 2027, nil)
		wantRef(t, r, "SG-LEI-2027-00001")
		r, _ = allocate(t, db, "LEI", 2026, nil)
		wantRef(t, r, "SG-LEI-2026-00003")
		r, _ = allocate(t, db, "WDI", 2026, nil)
		wantRef(t, r, "SG-WDI-2026-00002")
	})
}

func TestAllocateReferenceReplaysAnIdempotencyKeyWithoutAdvancingTheCounter(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		key := &IdempotencyKey{UserID: u.ID, Key: "raise-1", RequestHash: "hash-a"}
		r, replay := allocate(t, db, "LEI", 2026, key)
		wantRef(t, r, "SG-LEI-2026-00001")
		if replay {
			t.Error("first use of a key: replay = true")
		}
		for i := 0; i < 3; i++ {
			r, replay = allocate(t, db, "LEI", 2026, key)
			wantRef(t, r, "SG-LEI-2026-00001")
			if !replay {
				t.Error("repeat of a key: replay = false")
			}
		}
		r, _ = allocate(t, db, "LEI", 2026, nil)
		wantRef(t, r, "SG-LEI-2026-00002")
		if n := count(t, db, `SELECT COUNT(*) FROM idempotency_keys`); n != 1 {
			t.Errorf("%d idempotency keys stored; want 1", n)
		}
	})
}

func TestAllocateReferenceRefusesAKeyReusedWithADifferentBody(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		allocate(t, db, "LEI", 2026, &IdempotencyKey{UserID: u.ID, Key: "raise-1", RequestHash: "hash-a"})
		_, _, err := db.AllocateReference(ctx, "LEI", 2026, &IdempotencyKey{UserID: u.ID, Key: "raise-1", RequestHash: "hash-b"})
		wantCode(t, err, safeguard.ECONFLICT)
		r, _ := allocate(t, db, "LEI", 2026, nil)
		wantRef(t, r, "SG-LEI-2026-00002") // the refused request did not use a number
		// The original body still replays.
		r, replay := allocate(t, db, "LEI", 2026, &IdempotencyKey{UserID: u.ID, Key: "raise-1", RequestHash: "hash-a"})
		wantRef(t, r, "SG-LEI-2026-00001")
		if !replay {
			t.Error("replay = false for the original body")
		}
	})
}

func TestAllocateReferenceKeysOfDifferentUsersAreIndependent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		other := newUser(t, db, "lead2@lei.example", "LEI", safeguard.RolePrisonLead)
		r1, _ := allocate(t, db, "LEI", 2026, &IdempotencyKey{UserID: u.ID, Key: "k", RequestHash: "h"})
		r2, replay := allocate(t, db, "LEI", 2026, &IdempotencyKey{UserID: other.ID, Key: "k", RequestHash: "h"})
		wantRef(t, r1, "SG-LEI-2026-00001")
		wantRef(t, r2, "SG-LEI-2026-00002")
		if replay {
			t.Error("another user's use of the same key was treated as a replay")
		}
		// Nor is a different body from the other user a conflict.
		r3, _ := allocate(t, db, "LEI", 2026, &IdempotencyKey{UserID: other.ID, Key: "k2", RequestHash: "h-other"})
		wantRef(t, r3, "SG-LEI-2026-00003")
	})
}

func TestAllocateReferenceRefusesTheHundredThousandthConcernOfAYear(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		allocate(t, db, "LEI", 2026, nil)
		exec(t, db, `UPDATE reference_counters SET next_seq = 99999 WHERE establishment = 'LEI' AND year = 2026`)
		r, _ := allocate(t, db, "LEI", 2026, nil)
		wantRef(t, r, "SG-LEI-2026-99999")
		_, _, err := db.AllocateReference(ctx, "LEI", 2026, nil)
		wantCode(t, err, safeguard.ECONFLICT)
		r, _ = allocate(t, db, "LEI", 2027, nil)
		wantRef(t, r, "SG-LEI-2027-00001")
	})
}

func TestAllocateReferenceConcurrentlyGivesDistinctConsecutiveReferences(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		const workers, each = 8, 10
		var (
			mu   sync.Mutex
			refs []string
			wg   sync.WaitGroup
		)
		errs := make(chan error, workers*each)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					ref, _, err := db.AllocateReference(ctx, "LEI", 2026, nil)
					if err != nil {
						errs <- err
						continue
					}
					mu.Lock()
					refs = append(refs, ref)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("AllocateReference: %v", err)
		}
		sort.Strings(refs)
		if len(refs) != workers*each {
			t.Fatalf("%d references; want %d", len(refs), workers*each)
		}
		for i, r := range refs {
			if want := fmt.Sprintf("SG-LEI-2026-%05d", i+1); r != want {
				t.Fatalf("sorted reference %d = %s; want %s (duplicates or gaps)", i, r, want)
			}
		}
	})
}

// A client that retries a raise before the first attempt has answered sends the same key twice
// at once. Both must get the same reference: one allocation, the other a replay.
//
// On PostgreSQL the second transaction meets the first one's key in the unique index.
func TestAllocateReferenceSameKeyConcurrentlyAllocatesOnceAndReplaysTheRest(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		const n = 8
		type result struct {
			ref    string
			replay bool
			err    error
		}
		results := make(chan result, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ref, replay, err := db.AllocateReference(ctx, "LEI", 2026, &IdempotencyKey{UserID: u.ID, Key: "same", RequestHash: "h"})
				results <- result{ref, replay, err}
			}()
		}
		close(start)
		wg.Wait()
		close(results)
		fresh := 0
		for r := range results {
			if r.err != nil {
				t.Errorf("AllocateReference: %v (code %s); want the reference or a replay", r.err, safeguard.ErrorCode(r.err))
				continue
			}
			wantRef(t, r.ref, "SG-LEI-2026-00001")
			if !r.replay {
				fresh++
			}
		}
		if fresh != 1 {
			t.Errorf("%d calls allocated; want exactly 1", fresh)
		}
	})
}
