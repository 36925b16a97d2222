package safeguard

import (
	"fmt"
	"regexp"
	"strconv"
)

// referencePattern is SG-<ESTABLISHMENT>-<YEAR>-<5 digits>, e.g. SG-LEI-2026-00042.
var referencePattern = regexp.MustCompile(`^SG-([A-Z0-9_-]{2,32})-([0-9]{4})-([0-9]{5})$`)

// FormatReference builds a concern reference. It is also the concern's workflow ID, so it
// carries no personal data: only the establishment, the year raised and a sequence number.
func FormatReference(establishment string, year, seq int) string {
	return fmt.Sprintf("SG-%s-%04d-%05d", establishment, year, seq)
}

// ParseReference splits a reference into its parts; ok is false if it is not a reference.
func ParseReference(ref string) (establishment string, year, seq int, ok bool) {
	m := referencePattern.FindStringSubmatch(ref)
	if m == nil {
		return "", 0, 0, false
	}
	year, _ = strconv.Atoi(m[2])
	seq, _ = strconv.Atoi(m[3])
	return m[1], year, seq, true
}
