package safeguard

import (
	"strings"
	"testing"
	"time"
)

func passwordError(t *testing.T, p string) string {
	t.Helper()
	err := ValidatePassword(p)
	if err == nil {
		return ""
	}
	e, ok := err.(*Error)
	if !ok || e.Code != EINVALID || len(e.Fields) != 1 || e.Fields["password"] == "" {
		t.Fatalf("ValidatePassword(%q) = %v; want EINVALID on the field password only", p, err)
	}
	return e.Fields["password"]
}

func TestPasswordMustBeTwelveCharactersCountedAsCharactersNotBytes(t *testing.T) {
	for _, tc := range []struct {
		password string
		ok       bool
	}{
		{"", false},
		{"short pass", false},
		{"elevenchars", false},
		{"tw3lve chars", true},
		// Eleven characters but 22 bytes: refused, because people count characters.
		{strings.Repeat("é", 11), false},
		{strings.Repeat("é", 12), true},
		{"ðŸ" + strings.Repeat("ẞ", 10), true},
		{"日本語のパスワードです。", true}, // 12 characters, 36 bytes
	} {
		msg := passwordError(t, tc.password)
		if (msg == "") != tc.ok {
			t.Errorf("ValidatePassword(%q): message %q; want accepted = %v", tc.password, msg, tc.ok)
		}
	}
	if got := passwordError(t, "elevenchars"); got != "Password must be 12 characters or more" {
		t.Errorf("too short: %q", got)
	}
	if got := passwordError(t, ""); got != "Enter a password" {
		t.Errorf("empty: %q", got)
	}
}

func TestPasswordsUpTo128CharactersAreAllowedAndLongerRefused(t *testing.T) {
	phrase := "correct horse battery staple and a long walk by the river aire at dawn " // 71 characters
	if len([]rune(phrase)) < 64 {
		t.Fatal("the passphrase must be over 64 characters to test the contract")
	}
	if msg := passwordError(t, phrase); msg != "" {
		t.Errorf("a %d-character passphrase was refused: %s", len([]rune(phrase)), msg)
	}
	if msg := passwordError(t, strings.Repeat("ab3", 42)+"xy"); msg != "" { // exactly 128
		t.Errorf("128 characters refused: %s", msg)
	}
	if msg := passwordError(t, strings.Repeat("ab3", 43)); msg != "Password must be 128 characters or fewer" { // 129
		t.Errorf("129 characters: %q", msg)
	}
}

func TestCommonPasswordsAreRefusedWhateverTheirCase(t *testing.T) {
	for _, p := range []string{"1qaz2wsx3edc", "qwerty123456", "QWERTY123456", "Password1234", "iloveyou1234", "Safeguarding123"} {
		if msg := passwordError(t, p); !strings.HasPrefix(msg, "Password is too common") {
			t.Errorf("ValidatePassword(%q) = %q; want refused as common", p, msg)
		}
	}
	if n := len(commonPasswords()); n < 40000 {
		t.Errorf("the bundled list has %d entries; want the 43,940 from data/common-passwords.txt", n)
	}
	// A password nobody has used before is not on the list.
	if msg := passwordError(t, "heron kettle Wakefield 1987 marmalade"); msg != "" {
		t.Errorf("an uncommon passphrase was refused: %s", msg)
	}
}

func TestPasswordIsNotTrimmedOrNormalised(t *testing.T) {
	// Twelve characters only with the surrounding spaces: they count, as typed.
	if msg := passwordError(t, " ten chars! "); msg != "" {
		t.Errorf("spaces were not counted: %s", msg)
	}
	if msg := passwordError(t, "bad\xffutf8 password"); msg == "" {
		t.Error("invalid UTF-8 was accepted")
	}
}

func TestLockoutAfterFiveFailuresInFifteenMinutesLastsFifteenMinutes(t *testing.T) {
	l := DefaultLockout
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var f SignInFailures
	for i := 0; i < 4; i++ {
		f = l.Fail(f, t0.Add(time.Duration(i)*time.Minute))
		if f.Locked(t0.Add(time.Duration(i) * time.Minute)) {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	fifth := t0.Add(14 * time.Minute)
	f = l.Fail(f, fifth)
	if !f.Locked(fifth) {
		t.Fatalf("not locked after the fifth failure within 15 minutes: %+v", f)
	}
	if !f.Locked(fifth.Add(15*time.Minute - time.Second)) {
		t.Error("lock ended before 15 minutes")
	}
	if f.Locked(fifth.Add(15 * time.Minute)) {
		t.Error("still locked 15 minutes later")
	}
	// Failures while locked do not extend the lock.
	g := l.Fail(f, fifth.Add(time.Minute))
	if !g.LockedUntil.Equal(*f.LockedUntil) {
		t.Errorf("a failure while locked moved the lock to %v", g.LockedUntil)
	}
	// After the lock the count starts again from zero.
	after := fifth.Add(16 * time.Minute)
	g = l.Fail(f, after)
	if g.Locked(after) || g.Count != 1 {
		t.Errorf("first failure after the lock: %+v; want count 1, unlocked", g)
	}
}

func TestLockoutForgetsFailuresOlderThanTheWindow(t *testing.T) {
	l := DefaultLockout
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var f SignInFailures
	for i := 0; i < 4; i++ {
		f = l.Fail(f, t0)
	}
	later := t0.Add(15 * time.Minute)
	f = l.Fail(f, later)
	if f.Locked(later) || f.Count != 1 {
		t.Errorf("a fifth failure 15 minutes after the first: %+v; want a new count of 1", f)
	}
}
