package safeguard

import "testing"

func TestFormatReference(t *testing.T) {
	for _, tc := range []struct {
		est       string
		year, seq int
		want      string
	}{
		{"LEI", 2026, 42, "SG-LEI-2026-00042"},
		{"LEI", 2026, 1, "SG-LEI-2026-00001"},
		{"WDI", 2027, 99999, "SG-WDI-2027-99999"},
		{"AP-BEDFORD", 2026, 7, "SG-AP-BEDFORD-2026-00007"},
		{"LEI", 999, 5, "SG-LEI-0999-00005"},
	} {
		t.Run("the sequence and year are zero-padded: "+tc.want, func(t *testing.T) {
			if got := FormatReference(tc.est, tc.year, tc.seq); got != tc.want {
				t.Errorf("FormatReference(%q, %d, %d) = %q; want %q", tc.est, tc.year, tc.seq, got, tc.want)
			}
		})
	}
}

func TestParseReference_roundTrip(t *testing.T) {
	for _, tc := range []struct {
		est       string
		year, seq int
	}{
		{"LEI", 2026, 42},
		{"LEI", 2026, 0},
		{"WDI", 2030, 99999},
		{"AP-BEDFORD", 2026, 12}, // a code containing the separator still parses
		{"PROB_YH", 2026, 3},
		{"E08000035", 2026, 3},
	} {
		ref := FormatReference(tc.est, tc.year, tc.seq)
		t.Run(ref+" parses back into its parts", func(t *testing.T) {
			est, year, seq, ok := ParseReference(ref)
			if !ok || est != tc.est || year != tc.year || seq != tc.seq {
				t.Errorf("ParseReference(%q) = %q, %d, %d, %v; want %q, %d, %d, true",
					ref, est, year, seq, ok, tc.est, tc.year, tc.seq)
			}
		})
	}
}

func TestParseReference_rejects(t *testing.T) {
	for _, tc := range []struct{ name, ref string }{
		{"the empty string", ""},
		{"a lower-case reference", "sg-lei-2026-00042"},
		{"a lower-case establishment", "SG-lei-2026-00042"},
		{"a 4-digit sequence", "SG-LEI-2026-0042"},
		{"a 6-digit sequence", "SG-LEI-2026-000042"},
		{"a 2-digit year", "SG-LEI-26-00042"},
		{"a missing sequence", "SG-LEI-2026"},
		{"a missing year", "SG-LEI-00042"},
		{"a missing establishment", "SG--2026-00042"},
		{"a one-character establishment", "SG-L-2026-00042"},
		{"a missing prefix", "LEI-2026-00042"},
		{"another prefix", "XX-LEI-2026-00042"},
		{"leading whitespace", " SG-LEI-2026-00042"},
		{"a trailing newline", "SG-LEI-2026-00042\n"},
		{"a trailing path", "SG-LEI-2026-00042/x"},
		{"a non-digit sequence", "SG-LEI-2026-0004a"},
	} {
		t.Run(tc.name+" is not a reference", func(t *testing.T) {
			est, year, seq, ok := ParseReference(tc.ref)
			if ok || est != "" || year != 0 || seq != 0 {
				t.Errorf("ParseReference(%q) = %q, %d, %d, %v; want \"\", 0, 0, false", tc.ref, est, year, seq, ok)
			}
		})
	}
}
