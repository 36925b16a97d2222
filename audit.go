package safeguard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AuditRecord is one row of the audit trail as it is sealed into the hash chain: who did what
// to which record, when (UTC), from where and with what outcome. Seq is its position in the
// chain, from 1 without gaps; PrevHash is the Hash of the row before it ("" for the first).
//
// Hash commits to every other field, so a row cannot be changed, moved, removed or slipped in
// without breaking either its own hash or the next row's link to it (see AuditVerifier).
type AuditRecord struct {
	Seq       int64
	At        time.Time
	UserID    *int64
	Action    string
	Reference string
	Outcome   string
	Remote    string
	Target    string
	Detail    string
	Flagged   bool
	PrevHash  string
	Hash      string
}

// auditEncodingVersion names the canonical encoding below; a new encoding gets a new name, so
// that rows sealed under the old one still verify.
const auditEncodingVersion = "safeguard-audit-v1"

// ComputeHash returns the SHA-256, in hex, of the record's canonical encoding: the version
// name, then every field but Hash in a fixed order, each written as its length in bytes, a
// colon, the bytes and a newline. Lengths make the encoding unambiguous whatever a field
// holds (a newline or a colon in a detail cannot shift one field into the next).
func (r *AuditRecord) ComputeHash() string { return r.hashAt(r.Seq) }

// hashAt is ComputeHash as if the row stood at position seq: the verifier uses it to recognise
// a row that was renumbered.
func (r *AuditRecord) hashAt(seq int64) string {
	uid := ""
	if r.UserID != nil {
		uid = strconv.FormatInt(*r.UserID, 10)
	}
	flagged := "0"
	if r.Flagged {
		flagged = "1"
	}
	h := sha256.New()
	for _, f := range []string{
		auditEncodingVersion, strconv.FormatInt(seq, 10), r.At.UTC().Format(time.RFC3339Nano), uid, r.Action,
		r.Reference, r.Outcome, r.Remote, r.Target, r.Detail, flagged, r.PrevHash,
	} {
		fmt.Fprintf(h, "%d:%s\n", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditCheckpoint is a signed statement, kept outside the database, of how long the chain was
// and what its head hash was at a time. A rewrite of the chain that is consistent in itself
// (every hash recomputed) or a cut tail is caught only by comparing with these.
type AuditCheckpoint struct {
	Rows int64     // the chain had this many rows
	Head string    // and the last of them had this hash
	At   time.Time // when the checkpoint was signed
}

// Kinds of AuditProblem.
const (
	AuditEdited             = "edited"              // a row no longer matches its own hash
	AuditDeleted            = "deleted"             // a row is missing
	AuditInserted           = "inserted"            // a row is there that the chain did not have
	AuditReordered          = "reordered"           // rows stand in each other's places
	AuditTruncated          = "truncated"           // the chain is shorter than a checkpoint says
	AuditCheckpointMismatch = "checkpoint_mismatch" // a checkpoint disagrees with the chain, or is unreadable
)

// AuditProblem is one thing verification found wrong, at the row ID where it was found.
type AuditProblem struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// AuditReport is the outcome of verifying the audit trail.
type AuditReport struct {
	OK                 bool           `json:"ok"`
	Rows               int64          `json:"rows"`
	Head               string         `json:"head"`
	CheckpointsChecked int            `json:"checkpoints_checked"`
	Problems           []AuditProblem `json:"problems"`
}

// maxAuditProblems bounds a report: a log rewritten from the start would otherwise produce one
// problem per row, and verification must stay streaming.
const maxAuditProblems = 1000

// AuditVerifier checks the audit trail one row at a time, in Seq order, holding no more than
// one row ahead and the checkpoints: a log of any length verifies in constant memory.
//
// Each row is checked against its own hash and against the row before it, and every row that
// fails is classified:
//   - edited: the row does not match its hash but is linked correctly, or the next row is
//     chained to a different hash than the row now has (it was rewritten and re-hashed);
//   - deleted: Seq jumps, or a run of rows matches their hashes only some positions further
//     on (rows were removed and the rest renumbered);
//   - inserted: a run of rows matches their hashes only some positions earlier (rows were
//     added and the rest renumbered), or a row matches neither its hash nor its link;
//   - reordered: a row matches its hash only in another place, and the row after it does not
//     share that shift (rows were moved, not renumbered);
//   - truncated or checkpoint_mismatch: the chain is shorter than a checkpoint, or the row at a
//     checkpoint's position does not carry the hash it signed.
//
// A run of rows shifted by one renumbering is reported once, where it starts.
type AuditVerifier struct {
	checkpoints []AuditCheckpoint // sorted by Rows
	checked     []bool            // checkpoints compared with a row
	report      AuditReport

	pending   *AuditRecord // the row read but not yet judged (one row of lookahead)
	prevSeq   int64        // the last judged row's Seq
	prevHash  string       // the hash the next row must link to
	shift     int64        // the renumbering the current run of rows shows (0: none)
	lastMoved int64        // the last row reported as moved out of its place
	// recent holds the hashes of the last rows judged, by Seq modulo its length.
	recent [maxShift + 1]struct {
		seq  int64
		hash string
	}
	maxOrig int64      // the highest original position seen
	deleted [][2]int64 // reported ranges of missing rows, to leave their checkpoints be
	omitted int
}

// NewAuditVerifier returns a verifier that will also compare the chain with checkpoints, and
// report problems already found in reading them (an unreadable or badly signed checkpoint).
func NewAuditVerifier(checkpoints []AuditCheckpoint, problems []AuditProblem) *AuditVerifier {
	cps := slices.Clone(checkpoints)
	sort.SliceStable(cps, func(i, j int) bool { return cps[i].Rows < cps[j].Rows })
	v := &AuditVerifier{checkpoints: cps, checked: make([]bool, len(cps))}
	for _, p := range problems {
		v.problem(p.ID, p.Kind, "%s", p.Message)
	}
	return v
}

// Add takes the next row, in Seq order.
func (v *AuditVerifier) Add(r AuditRecord) {
	v.report.Rows++
	v.report.Head = r.Hash
	if v.pending == nil {
		v.pending = &r
		return
	}
	cur := v.pending
	v.pending = &r
	v.judge(cur, &r)
}

// Finish judges the last row, compares the checkpoints not yet met and returns the report.
func (v *AuditVerifier) Finish() AuditReport {
	if v.pending != nil {
		v.judge(v.pending, nil)
		v.pending = nil
	}
	var truncatedAt *AuditCheckpoint
	for i := range v.checkpoints {
		cp := &v.checkpoints[i]
		if v.checked[i] || cp.Rows == 0 {
			continue
		}
		v.report.CheckpointsChecked++
		switch {
		case cp.Rows > v.maxOrig:
			truncatedAt = cp // the longest such checkpoint says most
		case !v.inDeletedRange(cp.Rows):
			v.problem(cp.Rows, AuditCheckpointMismatch, "the checkpoint of %s signed %d rows ending in %s, but no row of the log has that hash at that position",
				cp.At.UTC().Format(time.RFC3339), cp.Rows, short(cp.Head))
		}
	}
	if truncatedAt != nil {
		v.problem(v.maxOrig+1, AuditTruncated, "the log ends after %d rows, but the checkpoint of %s signed %d rows: the rows after %d were removed",
			v.maxOrig, truncatedAt.At.UTC().Format(time.RFC3339), truncatedAt.Rows, v.maxOrig)
	}
	if v.omitted > 0 {
		v.report.Problems = append(v.report.Problems, AuditProblem{Kind: v.report.Problems[len(v.report.Problems)-1].Kind,
			Message: fmt.Sprintf("%d further problems were not listed", v.omitted)})
	}
	v.report.OK = len(v.report.Problems) == 0
	if v.report.Problems == nil {
		v.report.Problems = []AuditProblem{}
	}
	return v.report
}

// maxShift is how far from its place verification looks for a row that was moved or
// renumbered. Only a row that fails its own hash pays for the search.
const maxShift = 16

// origin is the position a row's hash says it was sealed at: its own Seq, or up to maxShift
// either side if it was moved or renumbered; 0 if its hash matches none (it was edited, or
// forged).
func origin(r *AuditRecord) int64 {
	if r.Hash == r.hashAt(r.Seq) {
		return r.Seq
	}
	for d := int64(1); d <= maxShift; d++ {
		if r.Hash == r.hashAt(r.Seq+d) {
			return r.Seq + d
		}
		if r.Seq-d > 0 && r.Hash == r.hashAt(r.Seq-d) {
			return r.Seq - d
		}
	}
	return 0
}

// judge classifies cur, given the row after it (nil at the end).
func (v *AuditVerifier) judge(cur, next *AuditRecord) {
	orig := origin(cur)
	linked := cur.PrevHash == v.prevHash
	if cur.Seq > v.prevSeq+1 {
		v.problem(v.prevSeq+1, AuditDeleted, "rows %s are missing: row %d follows row %d", span(v.prevSeq+1, cur.Seq-1), cur.Seq, v.prevSeq)
		v.deleted = append(v.deleted, [2]int64{v.prevSeq + 1, cur.Seq - 1})
		v.shift = 0
		linked = true // the missing rows explain the broken link
	}
	delta := orig - cur.Seq
	switch {
	case delta != 0 && v.recentHash(orig) == cur.Hash:
		// The row sealed at orig is still there, and this is a second copy of it.
		v.problem(cur.Seq, AuditInserted, "row %d is a copy of row %d", cur.Seq, orig)
		v.shift = 0
	case orig == 0 && linked:
		v.problem(cur.Seq, AuditEdited, "row %d was changed: it no longer matches its hash", cur.Seq)
		v.shift = 0
	case orig == 0:
		v.problem(cur.Seq, AuditInserted, "row %d did not come from the chain: it matches neither its hash nor the row before it", cur.Seq)
		v.shift = 0
	case delta == 0 && linked:
		v.shift = 0
	case delta == 0:
		// The row is intact, but the one before it is not the row it was chained to: that row
		// was rewritten and given a new hash (or moved, and already reported).
		if !v.hasProblemAt(v.prevSeq) {
			v.problem(v.prevSeq, AuditEdited, "row %d was changed and re-hashed: row %d is chained to a different hash", v.prevSeq, cur.Seq)
		}
		v.shift = 0
	case v.lastMoved == cur.Seq-1 && v.shift == 0:
		// The other half of a move: the row displaced by the one just reported.
		v.problem(cur.Seq, AuditReordered, "row %d stands in the place of row %d: rows were reordered", orig, cur.Seq)
		v.lastMoved = cur.Seq
	case delta == v.shift && linked:
		// Further on in a run of renumbered rows: reported where the run began.
	case (next != nil && origin(next)-next.Seq == delta) || next == nil:
		// A run of rows all shifted alike: rows were removed, or added, and the rest renumbered.
		if delta > 0 {
			v.problem(cur.Seq, AuditDeleted, "rows %s are missing: they were removed and the rows after them renumbered (row %d was sealed as row %d)",
				span(cur.Seq, orig-1), cur.Seq, orig)
			v.deleted = append(v.deleted, [2]int64{cur.Seq, orig - 1})
		} else {
			first := cur.Seq + delta
			v.replaceProblemsIn(first, cur.Seq-1)
			v.problem(first, AuditInserted, "rows %s were inserted: the rows after them were renumbered (row %d was sealed as row %d)",
				span(first, cur.Seq-1), cur.Seq, orig)
		}
		v.shift = delta
	default:
		v.problem(cur.Seq, AuditReordered, "row %d stands in the place of row %d: rows were reordered", orig, cur.Seq)
		v.lastMoved, v.shift = cur.Seq, 0
	}
	if orig != 0 {
		v.checkpoint(cur, orig)
	} else {
		v.checkpoint(cur, cur.Seq)
	}
	v.prevSeq, v.prevHash = cur.Seq, cur.Hash
	slot := &v.recent[cur.Seq%int64(len(v.recent))]
	slot.seq, slot.hash = cur.Seq, cur.Hash
}

// recentHash returns the stored hash of the row judged at seq, if it is among the last few.
func (v *AuditVerifier) recentHash(seq int64) string {
	if seq <= 0 {
		return ""
	}
	if slot := v.recent[seq%int64(len(v.recent))]; slot.seq == seq {
		return slot.hash
	}
	return ""
}

// checkpoint compares the row sealed at position orig with the checkpoints that signed a
// chain of exactly that length.
func (v *AuditVerifier) checkpoint(r *AuditRecord, orig int64) {
	v.maxOrig = max(v.maxOrig, orig, r.Seq)
	i, _ := slices.BinarySearchFunc(v.checkpoints, orig, func(cp AuditCheckpoint, n int64) int { return cmpInt(cp.Rows, n) })
	for ; i < len(v.checkpoints) && v.checkpoints[i].Rows == orig; i++ {
		if v.checked[i] {
			continue
		}
		v.checked[i] = true
		v.report.CheckpointsChecked++
		if cp := v.checkpoints[i]; cp.Head != r.Hash {
			v.problem(r.Seq, AuditCheckpointMismatch, "the checkpoint of %s signed %d rows ending in %s, but row %d has %s: the chain was rewritten up to here",
				cp.At.UTC().Format(time.RFC3339), cp.Rows, short(cp.Head), r.Seq, short(r.Hash))
		}
	}
}

func (v *AuditVerifier) problem(id int64, kind, format string, args ...any) {
	if len(v.report.Problems) >= maxAuditProblems {
		v.omitted++
		return
	}
	v.report.Problems = append(v.report.Problems, AuditProblem{ID: id, Kind: kind, Message: fmt.Sprintf(format, args...)})
}

// replaceProblemsIn forgets what was said about rows from to to: inserted rows are first seen
// as rows that do not fit, and only the renumbered row after them shows why.
func (v *AuditVerifier) replaceProblemsIn(from, to int64) {
	v.report.Problems = slices.DeleteFunc(v.report.Problems, func(p AuditProblem) bool {
		return from <= p.ID && p.ID <= to && (p.Kind == AuditEdited || p.Kind == AuditInserted)
	})
}

func (v *AuditVerifier) hasProblemAt(id int64) bool {
	return slices.ContainsFunc(v.report.Problems, func(p AuditProblem) bool { return p.ID == id })
}

func (v *AuditVerifier) inDeletedRange(n int64) bool {
	return slices.ContainsFunc(v.deleted, func(r [2]int64) bool { return r[0] <= n && n <= r[1] })
}

func span(from, to int64) string {
	if from == to {
		return strconv.FormatInt(from, 10)
	}
	return fmt.Sprintf("%d to %d", from, to)
}

// short abbreviates a hash for a message.
func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	if h == "" {
		return `""`
	}
	return h
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AuditLogEntry is one line of a concern's access log, as its managers and auditors see it.
type AuditLogEntry struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	UserID   *int64    `json:"user_id"`
	UserName string    `json:"user_name,omitempty"`
	UserRole Role      `json:"user_role,omitempty"`
	UserOrg  string    `json:"user_org,omitempty"`
	Action   string    `json:"action"`
	Outcome  string    `json:"outcome"`
	Remote   string    `json:"remote"`
	Flagged  bool      `json:"flagged"`
	// Reference and Detail are set on the list of flagged reads: which concern, and the reason
	// the admin gave.
	Reference string `json:"reference,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// CheckBreakGlassReason checks the reason an admin gives for reading outside their scope: none
// at all ("") is no break-glass read, and passes.
func CheckBreakGlassReason(reason string) error {
	n := len([]rune(strings.TrimSpace(reason)))
	switch {
	case reason == "":
		return nil
	case n < 10:
		return FieldErrors(map[string]string{BreakGlassHeader: "must give the reason for reading this concern, at least 10 characters"})
	case n > 500:
		return FieldErrors(map[string]string{BreakGlassHeader: "must be at most 500 characters"})
	}
	return nil
}
