package sql

import (
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

var sessionEpoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newSession(t *testing.T, db *DB, u *safeguard.User) string {
	t.Helper()
	secret, s, err := db.CreateSession(ctx, u.ID, "192.0.2.7", "Mozilla/5.0 test")
	must(t, err)
	if s.ID == 0 || len(secret) < 40 {
		t.Fatalf("CreateSession = %q, %+v; want an ID and 32 random bytes", secret, s)
	}
	return secret
}

func sessionLive(t *testing.T, db *DB, secret string) bool {
	t.Helper()
	_, _, err := db.SessionUser(ctx, secret)
	if err == nil {
		return true
	}
	wantCode(t, err, safeguard.EUNAUTHORIZED)
	return false
}

func TestSessionStoresOnlyAHashOfItsToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		fixClock(db, sessionEpoch)
		u := seed(t, db)
		secret := newSession(t, db, u)
		if n := count(t, db, `SELECT COUNT(*) FROM sessions WHERE hash = ?`, secret); n != 0 {
			t.Error("the session token is stored in clear")
		}
		if n := count(t, db, `SELECT COUNT(*) FROM sessions WHERE hash = ?`, hashToken(secret)); n != 1 {
			t.Error("the token's hash is not stored")
		}
		got, id, err := db.SessionUser(ctx, secret)
		must(t, err)
		if got.ID != u.ID || got.OrgKind != safeguard.KindPrison || id == 0 {
			t.Errorf("SessionUser = %+v, %d", got, id)
		}
		if sessionLive(t, db, secret[:len(secret)-1]+"x") || sessionLive(t, db, "") {
			t.Error("a wrong token found a session")
		}
	})
}

func TestSessionEndsAfterThirtyMinutesIdle(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		c := fixClock(db, sessionEpoch)
		secret := newSession(t, db, seed(t, db))
		// Activity every 29 minutes keeps it alive for hours.
		for i := 0; i < 8; i++ {
			c.Add(29 * time.Minute)
			if !sessionLive(t, db, secret) {
				t.Fatalf("session ended after %d×29 minutes of activity", i+1)
			}
		}
		c.Add(30 * time.Minute)
		if sessionLive(t, db, secret) {
			t.Fatal("session still live after 30 minutes idle")
		}
		c.Add(time.Minute) // and being refused did not count as activity either
		if sessionLive(t, db, secret) {
			t.Fatal("a refused lookup revived the session")
		}
	})
}

func TestSessionIdleTimeoutCountsFromTheLastRecordedRequest(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		c := fixClock(db, sessionEpoch)
		secret := newSession(t, db, seed(t, db))
		c.Add(29*time.Minute + 59*time.Second)
		if !sessionLive(t, db, secret) {
			t.Fatal("ended before 30 minutes")
		}
		c.Add(29*time.Minute + 59*time.Second)
		if !sessionLive(t, db, secret) {
			t.Fatal("the request at 29:59 did not count as activity")
		}
	})
}

func TestSessionEndsTwelveHoursAfterSignInWhateverTheActivity(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		c := fixClock(db, sessionEpoch)
		secret := newSession(t, db, seed(t, db))
		for elapsed := time.Duration(0); elapsed < 12*time.Hour-10*time.Minute; elapsed += 10 * time.Minute {
			c.Add(10 * time.Minute)
			if !sessionLive(t, db, secret) {
				t.Fatalf("active session ended after %v", elapsed+10*time.Minute)
			}
		}
		c.Set(sessionEpoch.Add(12*time.Hour - time.Second))
		if !sessionLive(t, db, secret) {
			t.Fatal("ended before 12 hours")
		}
		c.Set(sessionEpoch.Add(12 * time.Hour))
		if sessionLive(t, db, secret) {
			t.Fatal("an active session outlived 12 hours")
		}
	})
}

func TestRevokeUserSessionsEndsEveryOneOfThatUserOnly(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		fixClock(db, sessionEpoch)
		u := seed(t, db)
		other := newUser(t, db, "manager@lei.example", "LEI", safeguard.RolePrisonManager)
		a, b, keep := newSession(t, db, u), newSession(t, db, u), newSession(t, db, other)
		n, err := db.RevokeUserSessions(ctx, u.ID)
		must(t, err)
		if n != 2 {
			t.Errorf("revoked %d; want 2", n)
		}
		if sessionLive(t, db, a) || sessionLive(t, db, b) {
			t.Error("a revoked session is still live")
		}
		if !sessionLive(t, db, keep) {
			t.Error("another user's session was revoked")
		}
		// A new sign-in after revocation works.
		if !sessionLive(t, db, newSession(t, db, u)) {
			t.Error("a session started after revocation is not live")
		}
	})
}

func TestDisablingAnAccountEndsItsSessionsAndReEnablingDoesNotRestoreThem(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		fixClock(db, sessionEpoch)
		u := seed(t, db)
		secret := newSession(t, db, u)
		must(t, db.SetUserDisabled(ctx, u.ID, true))
		if sessionLive(t, db, secret) {
			t.Fatal("session live after the account was disabled")
		}
		must(t, db.SetUserDisabled(ctx, u.ID, false))
		if sessionLive(t, db, secret) {
			t.Fatal("re-enabling the account revived its old session")
		}
		wantCode(t, db.SetUserDisabled(ctx, 99999, true), safeguard.ENOTFOUND)
	})
}

func TestDisabledAccountRefusesSessionsEvenWithoutRevocation(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		fixClock(db, sessionEpoch)
		u := seed(t, db)
		secret := newSession(t, db, u)
		// Disabled by hand, bypassing SetUserDisabled: the join still ends the session.
		exec(t, db, `UPDATE users SET disabled = TRUE WHERE id = ?`, u.ID)
		if sessionLive(t, db, secret) {
			t.Fatal("a disabled user's session is live")
		}
	})
}

func TestRevokeSessionIsSignOut(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		fixClock(db, sessionEpoch)
		u := seed(t, db)
		secret, other := newSession(t, db, u), newSession(t, db, u)
		s, err := db.RevokeSession(ctx, secret)
		must(t, err)
		if s.UserID != u.ID || s.RevokedAt == nil {
			t.Errorf("RevokeSession = %+v", s)
		}
		if sessionLive(t, db, secret) {
			t.Error("signed-out session still live")
		}
		if !sessionLive(t, db, other) {
			t.Error("signing out one browser signed out another")
		}
		_, err = db.RevokeSession(ctx, secret)
		wantCode(t, err, safeguard.ENOTFOUND)
	})
}

func TestChangingThePasswordEndsSessionsAndClearsTheLockout(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		fixClock(db, sessionEpoch)
		u := seed(t, db)
		secret := newSession(t, db, u)
		for i := 0; i < 5; i++ {
			_, err := db.RecordSignInFailure(ctx, u.ID, safeguard.DefaultLockout)
			must(t, err)
		}
		c, err := db.FindCredentials(ctx, u.Email)
		must(t, err)
		if !c.Locked(sessionEpoch) {
			t.Fatalf("not locked after 5 recorded failures: %+v", c.SignInFailures)
		}
		must(t, db.SetPasswordHash(ctx, u.ID, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"))
		if sessionLive(t, db, secret) {
			t.Error("a session survived a password change")
		}
		c, err = db.FindCredentials(ctx, "  LEAD@lei.example")
		must(t, err)
		if c.Locked(sessionEpoch) || c.Count != 0 || c.PasswordHash == nil || !strings.HasPrefix(*c.PasswordHash, "$argon2id$") {
			t.Errorf("after SetPasswordHash: %+v, hash %v", c.SignInFailures, c.PasswordHash)
		}
	})
}

func TestSignInFailuresAreCountedInTheDatabaseUnderTheLockoutRule(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		clk := fixClock(db, sessionEpoch)
		u := seed(t, db)
		var f safeguard.SignInFailures
		var err error
		for i := 1; i <= 4; i++ {
			f, err = db.RecordSignInFailure(ctx, u.ID, safeguard.DefaultLockout)
			must(t, err)
			if f.Count != i || f.Locked(db.Now()) {
				t.Fatalf("after %d failures: %+v", i, f)
			}
			clk.Add(time.Minute)
		}
		must(t, db.ClearSignInFailures(ctx, u.ID))
		c, err := db.FindCredentials(ctx, u.Email)
		must(t, err)
		if c.Count != 0 || c.Since != nil {
			t.Errorf("after a success the failures remain: %+v", c.SignInFailures)
		}
		_, err = db.FindCredentials(ctx, "nobody@lei.example")
		wantCode(t, err, safeguard.ENOTFOUND)
	})
}

func TestSetupTokenSetsThePasswordOnceAndExpires(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		clk := fixClock(db, sessionEpoch)
		u := seed(t, db)
		secret, err := db.CreateSetupToken(ctx, u.ID, 24*time.Hour)
		must(t, err)
		if n := count(t, db, `SELECT COUNT(*) FROM setup_tokens WHERE hash = ?`, secret); n != 0 {
			t.Error("the setup token is stored in clear")
		}
		got, err := db.SetupTokenUser(ctx, secret)
		must(t, err)
		if got.ID != u.ID {
			t.Errorf("SetupTokenUser = %+v", got)
		}
		_, err = db.UseSetupToken(ctx, secret, "$argon2id$v=19$m=19456,t=2,p=1$x$y")
		must(t, err)
		_, err = db.UseSetupToken(ctx, secret, "$argon2id$v=19$m=19456,t=2,p=1$x$z")
		wantCode(t, err, safeguard.EUNAUTHORIZED)
		c, _ := db.FindCredentials(ctx, u.Email)
		if c.PasswordHash == nil || *c.PasswordHash != "$argon2id$v=19$m=19456,t=2,p=1$x$y" {
			t.Errorf("the second use changed the password: %v", c.PasswordHash)
		}

		late, err := db.CreateSetupToken(ctx, u.ID, 24*time.Hour)
		must(t, err)
		clk.Add(24 * time.Hour)
		_, err = db.SetupTokenUser(ctx, late)
		wantCode(t, err, safeguard.EUNAUTHORIZED)
		_, err = db.UseSetupToken(ctx, late, "$argon2id$v=19$m=19456,t=2,p=1$x$w")
		wantCode(t, err, safeguard.EUNAUTHORIZED)
	})
}

func TestListAndRevokeTokensNeverShowTheSecret(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newTokenFixture(t, db, nil)
		second, err := db.CreateToken(ctx, f.user.ID, "script", nil)
		must(t, err)
		list, err := db.ListTokens(ctx, f.user.ID)
		must(t, err)
		if len(list) != 2 || list[0].Name != "laptop" || list[1].Name != "script" {
			t.Fatalf("ListTokens = %+v", list)
		}
		tok, err := db.RevokeToken(ctx, list[1].ID)
		must(t, err)
		if tok.RevokedAt == nil || tok.UserID != f.user.ID {
			t.Errorf("RevokeToken = %+v", tok)
		}
		if _, err := db.Authenticate(ctx, second); err == nil {
			t.Error("a revoked token still authenticates")
		}
		if _, err := db.Authenticate(ctx, f.secret); err != nil {
			t.Errorf("revoking one token revoked another: %v", err)
		}
		_, err = db.RevokeToken(ctx, list[1].ID)
		wantCode(t, err, safeguard.ECONFLICT)
		_, err = db.RevokeToken(ctx, 424242)
		wantCode(t, err, safeguard.ENOTFOUND)
	})
}
