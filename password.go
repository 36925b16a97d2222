package safeguard

import (
	"bufio"
	"bytes"
	_ "embed"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Password rules (OWASP ASVS 5.0 6.2, NIST SP 800-63B): length is what makes a password strong,
// so there is a minimum and a generous maximum, no composition rules, and the passwords that
// attackers try first are refused. Lengths count characters (runes), not bytes: "café" is four.
const (
	MinPasswordLength = 12
	// MaxPasswordLength leaves room for passphrases while bounding the work of hashing.
	MaxPasswordLength = 128
)

// commonPasswordsFile is the bundled list of the most used passwords of 12 characters or more,
// lower case, one a line (data/README.md says where it comes from).
//
//go:embed data/common-passwords.txt
var commonPasswordsFile []byte

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 45000)
	sc := bufio.NewScanner(bytes.NewReader(commonPasswordsFile))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			set[line] = struct{}{}
		}
	}
	// Words this service's users would reach for, which no public list ranks.
	for _, w := range []string{"safeguarding", "safeguarding1", "safeguarding123", "safeguard123", "safeguard1234",
		"safeguarding2026", "safeguarding!", "hmpps123456", "hmppspassword", "prisonservice", "prisonservice1",
		"passwordpassword", "password1234", "password12345", "password123456", "welcome12345", "welcome123456",
		"changeme1234", "changeme12345", "letmein12345", "qwertyuiop12", "123456789012", "1234567890ab",
		"abcdefghijkl", "aaaaaaaaaaaa", "000000000000", "111111111111"} {
		set[w] = struct{}{}
	}
	return set
})

// IsCommonPassword reports whether a password is on the bundled list, ignoring case: changing
// the case of a common password does not make it much harder to guess.
func IsCommonPassword(p string) bool {
	_, ok := commonPasswords()[strings.ToLower(p)]
	return ok
}

// ValidatePassword checks a new password against the rules, and answers EINVALID with the
// problem under the field "password". Nothing about the password is trimmed or changed: spaces
// and any Unicode character are allowed, and what is typed is what is hashed.
func ValidatePassword(p string) error {
	msg := ""
	switch n := utf8.RuneCountInString(p); {
	case !utf8.ValidString(p):
		msg = "Enter a password made of valid characters"
	case n == 0:
		msg = "Enter a password"
	case n < MinPasswordLength:
		msg = "Password must be 12 characters or more"
	case n > MaxPasswordLength:
		msg = "Password must be 128 characters or fewer"
	case IsCommonPassword(p):
		msg = "Password is too common: choose one that others are unlikely to use, such as three or four random words"
	}
	if msg != "" {
		return FieldErrors(map[string]string{"password": msg})
	}
	return nil
}

// Lockout is the rule that slows down guessing one account's password: after MaxFailures
// wrong passwords within Window the account refuses every password, right or wrong, for
// Duration. Sign-in answers the same whether the account is locked, unknown, disabled or the
// password is wrong, so the lockout tells an attacker nothing about which accounts exist.
type Lockout struct {
	MaxFailures int
	Window      time.Duration
	Duration    time.Duration
}

// DefaultLockout: five failures in fifteen minutes lock the account for fifteen minutes.
var DefaultLockout = Lockout{MaxFailures: 5, Window: 15 * time.Minute, Duration: 15 * time.Minute}

// SignInFailures is what is remembered about an account's recent failed sign-ins.
type SignInFailures struct {
	Count       int        `db:"failed_sign_ins"`
	Since       *time.Time `db:"failures_since"` // the first failure in the current window
	LockedUntil *time.Time `db:"locked_until"`
}

// Locked reports whether the account refuses sign-in at now.
func (f SignInFailures) Locked(now time.Time) bool {
	return f.LockedUntil != nil && now.Before(*f.LockedUntil)
}

// Fail returns the state after one more failed sign-in at now. A failure outside the window
// starts a new count; the failure that reaches MaxFailures locks the account and starts afresh,
// so that after the lock ends the next failures are counted from zero.
func (l Lockout) Fail(f SignInFailures, now time.Time) SignInFailures {
	if f.Locked(now) {
		return f // failures while locked neither extend nor count towards the next lock
	}
	if f.Since == nil || now.Sub(*f.Since) >= l.Window {
		t := now
		f = SignInFailures{Count: 0, Since: &t}
	}
	f.Count++
	if f.Count >= l.MaxFailures {
		until := now.Add(l.Duration)
		return SignInFailures{LockedUntil: &until}
	}
	return f
}

// Sessions end after SessionIdleTimeout without a request, and SessionAbsoluteTimeout after
// sign-in whatever the activity (ASVS 5.0 7.3): a shared office computer left signed in does
// not stay a way into safeguarding records for long.
const (
	SessionIdleTimeout     = 30 * time.Minute
	SessionAbsoluteTimeout = 12 * time.Hour
)
