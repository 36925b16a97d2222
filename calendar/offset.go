package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxWorkingDays bounds working-day offsets in either direction. Ten thousand
// working days is about forty years: far beyond any statutory or local
// timescale, so anything larger is a typo in a policy, and the bound keeps
// Calendar.Add's day-by-day counting cheap.
const MaxWorkingDays = 10000

const workingDaySuffix = "wd"

// Offset is a deadline or reminder offset: a whole number of working days
// ("2wd", "-1wd"), an exact duration ("90s", "4h") for seconds-scale test
// policies, or zero ("0").
//
// The zero value is the zero offset. Offsets are comparable with ==, and
// implement encoding.TextMarshaler and encoding.TextUnmarshaler so they can
// be used directly in JSON and YAML policy files.
type Offset struct {
	// At most one of the two is non-zero.
	workingDays int
	duration    time.Duration
}

// WorkingDays returns an offset of n working days (backwards if n < 0).
// It panics if n is beyond ±MaxWorkingDays; use ParseOffset for input that
// has not been checked.
func WorkingDays(n int) Offset {
	if n < -MaxWorkingDays || n > MaxWorkingDays {
		panic(fmt.Sprintf("calendar: %d working days is out of range (at most %d either way)", n, MaxWorkingDays))
	}
	return Offset{workingDays: n}
}

// Duration returns an offset of exactly d, ignoring working days.
func Duration(d time.Duration) Offset {
	return Offset{duration: d}
}

// IsZero reports whether o is the zero offset.
func (o Offset) IsZero() bool {
	return o == Offset{}
}

// InWorkingDays returns the number of working days and true if o is a
// non-zero working-day offset.
func (o Offset) InWorkingDays() (n int, ok bool) {
	return o.workingDays, o.workingDays != 0
}

// AsDuration returns the duration and true if o is a non-zero duration
// offset.
func (o Offset) AsDuration() (d time.Duration, ok bool) {
	return o.duration, o.duration != 0
}

// String returns the canonical form accepted by ParseOffset: "0", "Nwd"
// (with a leading "-" when negative) or time.Duration's form ("1m30s").
// ParseOffset(o.String()) returns o, although the text may differ from the
// text o was parsed from ("90s" prints as "1m30s", "+2wd" as "2wd").
func (o Offset) String() string {
	switch {
	case o.workingDays != 0:
		return strconv.Itoa(o.workingDays) + workingDaySuffix
	case o.duration != 0:
		return o.duration.String()
	default:
		return "0"
	}
}

// MarshalText implements encoding.TextMarshaler using String's form.
func (o Offset) MarshalText() ([]byte, error) {
	return []byte(o.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler using ParseOffset.
func (o *Offset) UnmarshalText(text []byte) error {
	parsed, err := ParseOffset(string(text))
	if err != nil {
		return err
	}
	*o = parsed
	return nil
}

// ParseOffset parses an offset written as:
//
//   - "Nwd": N working days, N a whole number with an optional sign
//     ("1wd", "+5wd", "-1wd"), at most MaxWorkingDays either way;
//   - "0": the zero offset;
//   - a Go duration accepted by time.ParseDuration ("90s", "-30s", "4h").
//
// Input is taken literally: surrounding spaces and upper-case units are
// errors, so that a policy file means exactly what it says.
func ParseOffset(s string) (Offset, error) {
	if s == "" {
		return Offset{}, errors.New(`calendar: empty offset; want working days ("Nwd", e.g. "2wd"), "0" or a Go duration (e.g. "90s")`)
	}
	if number, ok := strings.CutSuffix(s, workingDaySuffix); ok {
		return parseWorkingDays(s, number)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return Offset{}, fmt.Errorf(`calendar: %q is not a working-day offset ("Nwd") or a Go duration ("90s")`, s)
	}
	return Duration(d), nil
}

// parseWorkingDays parses number, the part of s before "wd".
func parseWorkingDays(s, number string) (Offset, error) {
	digits := strings.TrimLeft(number, "+-")
	if len(number)-len(digits) > 1 || !isDigits(digits) {
		return Offset{}, fmt.Errorf(`calendar: %q is not a whole number of working days (want "Nwd", e.g. "2wd" or "-1wd")`, s)
	}
	n, err := strconv.Atoi(number)
	if err != nil || n < -MaxWorkingDays || n > MaxWorkingDays {
		return Offset{}, fmt.Errorf("calendar: %q is out of range (at most %d working days either way)", s, MaxWorkingDays)
	}
	return WorkingDays(n), nil
}

// isDigits reports whether s is one or more ASCII decimal digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
