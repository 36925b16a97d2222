// Package checkpoint keeps signed checkpoints of the audit chain's head in a file outside the
// database. Each checkpoint is a signed note (golang.org/x/mod/sumdb/note, Ed25519) saying how
// many rows the chain had and the hash of the last: someone who can rewrite the database but
// not this file or its key cannot cut the chain's tail or re-seal it without verification
// noticing (safeguard.AuditVerifier).
//
// The embedded default keeps the signing key in SAFEGUARD_DATA_DIR/audit-signing.key (created
// on first use, mode 0600) and the checkpoints in SAFEGUARD_DATA_DIR/audit-checkpoints; the
// verifier key, which is public, is written beside them so that it can be copied elsewhere.
package checkpoint

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/safeguard-project/safeguard"
)

// Files in the data directory.
const (
	FileName        = "audit-checkpoints"
	SignerKeyFile   = "audit-signing.key"
	VerifierKeyFile = "audit-verifier.key"
)

// keyName names the signer in every note.
const keyName = "safeguard-audit"

// header is the first line of every checkpoint's text: it says what the note is, so that a
// signature made for something else is never taken for a checkpoint.
const header = "safeguard audit checkpoint v1"

// Log is the checkpoint file and the key that signs it.
type Log struct {
	path     string
	signer   note.Signer
	verifier note.Verifier
	vkey     string

	mu   sync.Mutex
	last safeguard.AuditCheckpoint // the last checkpoint appended by this process
}

// Open returns the checkpoint log in dir, creating its signing key on first use.
func Open(dir string) (*Log, error) {
	skey, err := signerKey(dir)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", filepath.Join(dir, SignerKeyFile), err)
	}
	vkey, err := verifierKey(skey)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, VerifierKeyFile), []byte(vkey+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("checkpoint: write verifier key: %w", err)
	}
	return &Log{path: filepath.Join(dir, FileName), signer: signer, verifier: verifier, vkey: vkey}, nil
}

// Path is the checkpoint file.
func (l *Log) Path() string { return l.path }

// VerifierKey is the public key that checks the checkpoints, in note's text form.
func (l *Log) VerifierKey() string { return l.vkey }

// Append signs cp and adds it to the file, synced to disk before it returns. A checkpoint
// that says nothing new (the chain has not grown since this process last wrote one) is
// skipped. One write per checkpoint, with O_APPEND, so that concurrent writers interleave
// whole checkpoints.
func (l *Log) Append(cp safeguard.AuditCheckpoint) (written bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cp.Rows == 0 || (cp.Rows == l.last.Rows && cp.Head == l.last.Head) {
		return false, nil
	}
	text := fmt.Sprintf("%s\nrows %d\nhead %s\nat %s\n", header, cp.Rows, cp.Head, cp.At.UTC().Format(time.RFC3339Nano))
	signed, err := note.Sign(&note.Note{Text: text}, l.signer)
	if err != nil {
		return false, err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	// A blank line ends each checkpoint: the note format itself has one between text and
	// signatures, so checkpoints are the pairs of blank-line-separated blocks.
	if _, err := f.Write(append(signed, '\n')); err != nil {
		f.Close()
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	l.last = cp
	return true, f.Close()
}

// Read returns every checkpoint in the file whose signature verifies, and a problem of kind
// checkpoint_mismatch for each that does not or cannot be read. A missing file has no
// checkpoints.
func (l *Log) Read() ([]safeguard.AuditCheckpoint, []safeguard.AuditProblem, error) {
	return ReadFile(l.path, l.verifier)
}

// ReadFile reads the checkpoints in path and checks them with verifier.
func ReadFile(path string, verifier note.Verifier) ([]safeguard.AuditCheckpoint, []safeguard.AuditProblem, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	var (
		cps      []safeguard.AuditCheckpoint
		problems []safeguard.AuditProblem
	)
	bad := func(n int, why string) {
		problems = append(problems, safeguard.AuditProblem{Kind: safeguard.AuditCheckpointMismatch,
			Message: fmt.Sprintf("checkpoint %d in %s %s", n, filepath.Base(path), why)})
	}
	blocks := strings.Split(strings.TrimRight(string(raw), "\n"), "\n\n")
	for i := 0; i < len(blocks); i += 2 {
		n := i/2 + 1
		if i+1 >= len(blocks) {
			bad(n, "is incomplete: it has no signature")
			break
		}
		msg := blocks[i] + "\n\n" + blocks[i+1] + "\n"
		opened, err := note.Open([]byte(msg), note.VerifierList(verifier))
		if err != nil {
			bad(n, "does not verify with the audit verifier key: "+err.Error())
			continue
		}
		cp, err := parse(opened.Text)
		if err != nil {
			bad(n, "is signed but not a checkpoint: "+err.Error())
			continue
		}
		cps = append(cps, cp)
	}
	return cps, problems, nil
}

func parse(text string) (safeguard.AuditCheckpoint, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 4 || lines[0] != header {
		return safeguard.AuditCheckpoint{}, fmt.Errorf("want 4 lines starting %q", header)
	}
	var cp safeguard.AuditCheckpoint
	rows, ok1 := strings.CutPrefix(lines[1], "rows ")
	head, ok2 := strings.CutPrefix(lines[2], "head ")
	at, ok3 := strings.CutPrefix(lines[3], "at ")
	if !ok1 || !ok2 || !ok3 {
		return cp, fmt.Errorf("want lines rows, head and at")
	}
	var err error
	if cp.Rows, err = strconv.ParseInt(rows, 10, 64); err != nil || cp.Rows < 1 {
		return cp, fmt.Errorf("bad row count %q", rows)
	}
	if cp.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return cp, fmt.Errorf("bad time %q", at)
	}
	cp.Head = head
	return cp, nil
}

// NewVerifier parses a verifier key given on the command line.
func NewVerifier(vkey string) (note.Verifier, error) {
	return note.NewVerifier(strings.TrimSpace(vkey))
}

// signerKey returns the signing key kept in dir, creating it on first use.
func signerKey(dir string) (string, error) {
	path := filepath.Join(dir, SignerKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		return string(bytes.TrimSpace(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	skey, _, err := note.GenerateKey(rand.Reader, keyName)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	// O_EXCL: two processes starting at once must not each write a different key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return signerKey(dir)
	} else if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return skey, f.Close()
}

// verifierKey derives the public verifier key from a signer key in note's text form
// ("PRIVATE+KEY+name+hash+base64(alg || seed)").
func verifierKey(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5) // the key itself is base64 and may hold "+"
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", fmt.Errorf("checkpoint: the signing key is not a note signer key")
	}
	key, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 { // 1: Ed25519
		return "", fmt.Errorf("checkpoint: the signing key is not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}
