package checkpoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
)

var at = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func head(rows int64) safeguard.AuditCheckpoint {
	return safeguard.AuditCheckpoint{Rows: rows, Head: strings.Repeat("ab", 32), At: at.Add(time.Duration(rows) * time.Minute)}
}

func TestCheckpointsReadBackAsSigned(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{3, 3, 7} { // the repeat says nothing new and is skipped
		if _, err := l.Append(head(n)); err != nil {
			t.Fatal(err)
		}
	}
	cps, problems, err := l.Read()
	if err != nil || len(problems) != 0 {
		t.Fatalf("Read: %v, problems %v", err, problems)
	}
	if len(cps) != 2 || cps[0] != head(3) || cps[1] != head(7) {
		t.Fatalf("Read = %+v; want the checkpoints of 3 and 7 rows as appended", cps)
	}
	if st, err := os.Stat(filepath.Join(dir, SignerKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("signing key: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	// A second process on the same data dir signs with the same key.
	again, err := Open(dir)
	if err != nil || again.VerifierKey() != l.VerifierKey() {
		t.Fatalf("reopened verifier key = %q (%v); want %q", again.VerifierKey(), err, l.VerifierKey())
	}
}

func TestCheckpointEditedOrSignedByAnotherKeyIsAProblem(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{3, 7} {
		if _, err := l.Append(head(n)); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := os.ReadFile(l.Path())
	// Claim the first checkpoint covered fewer rows, to excuse a cut tail.
	edited := strings.Replace(string(raw), "rows 3\n", "rows 2\n", 1)
	if err := os.WriteFile(l.Path(), []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	cps, problems, err := l.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 1 || cps[0].Rows != 7 || len(problems) != 1 || problems[0].Kind != safeguard.AuditCheckpointMismatch ||
		!strings.Contains(problems[0].Message, "checkpoint 1 ") {
		t.Fatalf("after editing checkpoint 1: checkpoints %+v, problems %+v; want checkpoint 7 and a mismatch naming checkpoint 1", cps, problems)
	}

	// Signed with another data dir's key: not ours.
	other, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(other.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if cps, problems, _ := ReadFile(l.Path(), v); len(cps) != 0 || len(problems) != 2 {
		t.Fatalf("read with another key: %d checkpoints, problems %+v; want none accepted and 2 problems", len(cps), problems)
	}
}

func TestNoCheckpointFileMeansNoCheckpoints(t *testing.T) {
	l, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if cps, problems, err := l.Read(); err != nil || len(cps) != 0 || len(problems) != 0 {
		t.Fatalf("Read with no file = %v, %v, %v", cps, problems, err)
	}
}
