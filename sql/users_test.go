package sql

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

func TestCreateUserRefusesADuplicateEmailWhateverItsCase(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		seedOrgs(t, db)
		newUser(t, db, "Lead@LEI.example", "LEI", safeguard.RolePrisonLead)
		for _, email := range []string{"lead@lei.example", "LEAD@lei.EXAMPLE", "  lead@lei.example "} {
			err := db.CreateUser(ctx, &safeguard.User{Email: email, Name: "Someone Else", OrgCode: "LEI", Role: safeguard.RolePrisonManager})
			wantCode(t, err, safeguard.ECONFLICT)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM users`); n != 1 {
			t.Errorf("%d users stored; want 1", n)
		}
	})
}

func TestCreateUserStoresTheEmailLowerCaseAndFindsItByAnyCase(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		seedOrgs(t, db)
		u := newUser(t, db, "Practitioner@Leeds.example", leeds, safeguard.RoleLAPractitioner)
		got, err := db.FindUserByEmail(ctx, " PRACTITIONER@leeds.example")
		must(t, err)
		if got.ID != u.ID || got.Email != "practitioner@leeds.example" || got.OrgCode != leeds ||
			got.OrgKind != safeguard.KindLocalAuthority || got.Role != safeguard.RoleLAPractitioner || got.Disabled {
			t.Errorf("FindUserByEmail = %+v", *got)
		}
		_, err = db.FindUserByEmail(ctx, "nobody@leeds.example")
		wantCode(t, err, safeguard.ENOTFOUND)
	})
}

func TestCreateUserRefusesAnUnknownOrganisationOrARoleThatDoesNotFitIt(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		seedOrgs(t, db)
		err := db.CreateUser(ctx, &safeguard.User{Email: "a@x.example", Name: "A", OrgCode: "NOPE", Role: safeguard.RolePrisonLead})
		if e := wantCode(t, err, safeguard.EINVALID); e.Fields["org"] == "" {
			t.Errorf("Fields = %v; want org", e.Fields)
		}
		err = db.CreateUser(ctx, &safeguard.User{Email: "b@x.example", Name: "B", OrgCode: leeds, Role: safeguard.RolePrisonLead})
		if e := wantCode(t, err, safeguard.EINVALID); e.Fields["role"] == "" {
			t.Errorf("Fields = %v; want role", e.Fields)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM users`); n != 0 {
			t.Errorf("%d users stored; want 0", n)
		}
	})
}

func TestCountAdminsCountsEnabledAdminsOnly(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		seedOrgs(t, db)
		newUser(t, db, "lead@lei.example", "LEI", safeguard.RolePrisonLead)
		a := newUser(t, db, "admin1@leeds.example", leeds, safeguard.RoleAdmin)
		newUser(t, db, "admin2@leeds.example", leeds, safeguard.RoleAdmin)
		exec(t, db, `UPDATE users SET disabled = TRUE WHERE id = ?`, a.ID)
		n, err := db.CountAdmins(ctx)
		must(t, err)
		if n != 1 {
			t.Errorf("CountAdmins = %d; want 1", n)
		}
	})
}

// tokenFixture is a user at LEI with a token, under a fixed clock.
type tokenFixture struct {
	db     *DB
	clock  *clock
	user   *safeguard.User
	secret string
}

var tokenEpoch = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func newTokenFixture(t *testing.T, db *DB, expires *time.Time) *tokenFixture {
	t.Helper()
	c := fixClock(db, tokenEpoch)
	u := seed(t, db)
	secret, err := db.CreateToken(ctx, u.ID, "laptop", expires)
	must(t, err)
	return &tokenFixture{db: db, clock: c, user: u, secret: secret}
}

func TestAuthenticateWithTheSecretReturnsTheUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newTokenFixture(t, db, nil)
		if !strings.HasPrefix(f.secret, "sgt_") || len(f.secret) < 40 {
			t.Errorf("secret %q; want sgt_ and at least 32 random bytes", f.secret)
		}
		got, err := db.Authenticate(ctx, f.secret)
		must(t, err)
		if got.ID != f.user.ID || got.Email != "lead@lei.example" || got.OrgCode != "LEI" ||
			got.OrgKind != safeguard.KindPrison || got.Role != safeguard.RolePrisonLead {
			t.Errorf("Authenticate = %+v; want the token's user", *got)
		}
	})
}

func TestAuthenticateRefusesAWrongSecret(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newTokenFixture(t, db, nil)
		for _, s := range []string{"", "sgt_", f.secret + "x", f.secret[:len(f.secret)-1], strings.TrimPrefix(f.secret, "sgt_"),
			"sgt_" + strings.Repeat("A", 300)} {
			_, err := db.Authenticate(ctx, s)
			wantCode(t, err, safeguard.EUNAUTHORIZED)
		}
	})
}

func TestAuthenticateRefusesAnExpiredToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		past := tokenEpoch.Add(-time.Second)
		f := newTokenFixture(t, db, &past)
		_, err := db.Authenticate(ctx, f.secret)
		wantCode(t, err, safeguard.EUNAUTHORIZED)
	})
}

func TestAuthenticateAcceptsATokenUntilItExpires(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		expires := tokenEpoch.Add(time.Hour)
		f := newTokenFixture(t, db, &expires)
		if _, err := db.Authenticate(ctx, f.secret); err != nil {
			t.Fatalf("Authenticate before expiry: %v", err)
		}
		f.clock.Set(expires.Add(-time.Millisecond))
		if _, err := db.Authenticate(ctx, f.secret); err != nil {
			t.Fatalf("Authenticate 1ms before expiry: %v", err)
		}
		f.clock.Set(expires)
		_, err := db.Authenticate(ctx, f.secret)
		wantCode(t, err, safeguard.EUNAUTHORIZED)
		f.clock.Set(expires.Add(24 * time.Hour))
		_, err = db.Authenticate(ctx, f.secret)
		wantCode(t, err, safeguard.EUNAUTHORIZED)
	})
}

func TestAuthenticateRefusesARevokedToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newTokenFixture(t, db, nil)
		must(t, func() error { _, err := db.Authenticate(ctx, f.secret); return err }())
		exec(t, db, `UPDATE tokens SET revoked_at = ? WHERE user_id = ?`, tokenEpoch, f.user.ID)
		_, err := db.Authenticate(ctx, f.secret)
		wantCode(t, err, safeguard.EUNAUTHORIZED)
	})
}

func TestAuthenticateRefusesADisabledUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newTokenFixture(t, db, nil)
		exec(t, db, `UPDATE users SET disabled = TRUE WHERE id = ?`, f.user.ID)
		_, err := db.Authenticate(ctx, f.secret)
		wantCode(t, err, safeguard.EUNAUTHORIZED)
	})
}

func TestAuthenticateTellsTokensOfDifferentUsersApart(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newTokenFixture(t, db, nil)
		other := newUser(t, db, "manager@lei.example", "LEI", safeguard.RolePrisonManager)
		s2, err := db.CreateToken(ctx, other.ID, "", nil)
		must(t, err)
		s3, err := db.CreateToken(ctx, f.user.ID, "second", nil)
		must(t, err)
		if s2 == f.secret || s3 == f.secret || s2 == s3 {
			t.Fatal("CreateToken returned the same secret twice")
		}
		for secret, want := range map[string]int64{f.secret: f.user.ID, s2: other.ID, s3: f.user.ID} {
			u, err := db.Authenticate(ctx, secret)
			must(t, err)
			if u.ID != want {
				t.Errorf("Authenticate = user %d; want %d", u.ID, want)
			}
		}
	})
}

func TestTokensStoreOnlyAHashOfTheSecret(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newTokenFixture(t, db, nil)
		var hash string
		must(t, db.GetContext(ctx, &hash, `SELECT hash FROM tokens`))
		if hash == f.secret || strings.Contains(hash, strings.TrimPrefix(f.secret, "sgt_")) {
			t.Errorf("stored hash %q is the secret", hash)
		}
		if len(hash) != 64 {
			t.Errorf("stored hash %q is not a hex SHA-256", hash)
		}
		rows, err := db.QueryxContext(ctx, `SELECT * FROM tokens`)
		must(t, err)
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
			row := map[string]any{}
			must(t, rows.MapScan(row))
			for col, v := range row {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				if strings.Contains(s, strings.TrimPrefix(f.secret, "sgt_")) {
					t.Errorf("column %s holds the secret", col)
				}
			}
		}
		must(t, rows.Err())
		if n != 1 {
			t.Errorf("%d token rows; want 1", n)
		}
	})
}

func TestAuthenticateRecordsWhenTheTokenWasLastUsed(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newTokenFixture(t, db, nil)
		lastUsed := func() *time.Time {
			var at *time.Time
			must(t, db.GetContext(ctx, &at, `SELECT last_used_at FROM tokens`))
			return at
		}
		if at := lastUsed(); at != nil {
			t.Fatalf("last_used_at = %v before any use; want NULL", at)
		}
		_, err := db.Authenticate(ctx, f.secret)
		must(t, err)
		if at := lastUsed(); at == nil || !at.Equal(tokenEpoch) {
			t.Fatalf("last_used_at = %v; want %v", at, tokenEpoch)
		}
		// Within a minute it is not rewritten; after a minute it is.
		f.clock.Add(30 * time.Second)
		_, err = db.Authenticate(ctx, f.secret)
		must(t, err)
		if at := lastUsed(); at == nil || !at.Equal(tokenEpoch) {
			t.Errorf("last_used_at = %v 30s later; want it left at %v", at, tokenEpoch)
		}
		f.clock.Add(2 * time.Minute)
		_, err = db.Authenticate(ctx, f.secret)
		must(t, err)
		if at, want := lastUsed(), tokenEpoch.Add(150*time.Second); at == nil || !at.Equal(want) {
			t.Errorf("last_used_at = %v; want %v", at, want)
		}
	})
}

// SQLite compares times as text, so expiries are stored in UTC.
func TestAuthenticateComparesAnExpiryGivenInAnotherZoneByInstant(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		u := seed(t, db)
		bst := time.FixedZone("BST", 3600)
		fixClock(db, time.Date(2026, 6, 1, 10, 30, 0, 0, time.UTC))
		expires := time.Date(2026, 6, 1, 11, 0, 0, 0, bst) // 10:00Z: already past
		secret, err := db.CreateToken(ctx, u.ID, "zoned", &expires)
		must(t, err)
		_, err = db.Authenticate(ctx, secret)
		wantCode(t, err, safeguard.EUNAUTHORIZED)
	})
}
