package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/checkpoint"
)

// TestAuditTrailEndToEnd runs the real service and follows the audit trail through it: an
// admin outside a concern's scope reads it only by breaking glass with a reason, which is
// flagged for review; the concern's managers and the auditor see its access log; the chain
// verifies over the API and the CLI, against checkpoints written by the running service, until
// a row is edited directly in the database, when both name the row.
func TestAuditTrailEndToEnd(t *testing.T) {
	svc := startService(t, env{"SAFEGUARD_AUDIT_CHECKPOINT_INTERVAL": "1s"})
	ctx := context.Background()
	db := svc.svc.db
	ref := svc.raise(t)

	// An admin in an organisation the concern does not involve.
	outsider := safeguard.User{Email: "admin@wdi.example.org", Name: "Outside Admin", OrgCode: "WDI", Role: safeguard.RoleAdmin}
	if err := db.CreateUser(ctx, &outsider); err != nil {
		t.Fatal(err)
	}
	tok, err := db.CreateToken(ctx, outsider.ID, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc.tokens[outsider.Email] = tok

	const reason = "Police request 4471 about an incident on the wing tonight"
	concernPath := "/api/v1/concerns/" + ref
	if res := svc.do("GET", concernPath, outsider.Email, nil); res.status != http.StatusNotFound {
		t.Fatalf("admin outside scope without a reason: %d %s; want 404 as for any read outside scope", res.status, res.body)
	}
	if res := svc.do("GET", concernPath, outsider.Email, nil, safeguard.BreakGlassHeader, "because"); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(res.body), safeguard.BreakGlassHeader) {
		t.Fatalf("admin with a 7-character reason: %d %s; want 422 naming %s", res.status, res.body, safeguard.BreakGlassHeader)
	}
	if res := svc.do("GET", "/api/v1/concerns/SG-LEI-2026-99999", outsider.Email, nil, safeguard.BreakGlassHeader, "because"); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("a short reason on a concern that does not exist: %d; want the same 422, saying nothing of existence", res.status)
	}
	if res := svc.do("GET", concernPath, practitioner, nil, safeguard.BreakGlassHeader, reason); res.status != http.StatusOK {
		t.Fatalf("the host LA's practitioner giving a reason: %d; want an ordinary read", res.status)
	}
	if res := svc.do("GET", concernPath, partner, nil, safeguard.BreakGlassHeader, reason); res.status != http.StatusNotFound {
		t.Fatalf("a partner not involved giving a reason: %d %s; want 404: only an admin may break glass", res.status, res.body)
	}
	res := svc.do("GET", concernPath, outsider.Email, nil, safeguard.BreakGlassHeader, reason)
	var read safeguard.Concern
	if res.status != http.StatusOK {
		t.Fatalf("admin breaking glass with a reason: %d %s; want 200", res.status, res.body)
	}
	res.json(t, &read)
	if read.Reference != ref {
		t.Fatalf("break-glass read returned %q; want %s", read.Reference, ref)
	}

	// Flagged for review, with the reason, for the auditor and admins only.
	var flagged struct {
		Items      []safeguard.AuditLogEntry `json:"items"`
		NextCursor string                    `json:"next_cursor"`
	}
	res = svc.do("GET", "/api/v1/audit/flagged", auditor, nil)
	res.json(t, &flagged)
	if res.status != http.StatusOK || len(flagged.Items) != 2 {
		t.Fatalf("GET /audit/flagged as auditor: %d, %d items; want the read and the refused attempt: %s", res.status, len(flagged.Items), res.body)
	}
	if got := flagged.Items[0]; got.Action != "break_glass_read" || got.Outcome != "ok" || got.Detail != reason || got.Reference != ref ||
		got.UserID == nil || *got.UserID != outsider.ID || !got.Flagged {
		t.Errorf("newest flagged read = %+v; want the admin's break_glass_read of %s with the reason", got, ref)
	}
	if got := flagged.Items[1]; got.Action != "break_glass_read" || got.Outcome != safeguard.ENOTFOUND || got.UserName != "Demo Health Partner" {
		t.Errorf("older flagged read = %+v; want the partner's refused attempt", got)
	}
	for _, who := range []string{lead, prisonMgr, partner} {
		if res := svc.do("GET", "/api/v1/audit/flagged", who, nil); res.status != http.StatusForbidden {
			t.Errorf("GET /audit/flagged as %s: %d; want 403", who, res.status)
		}
	}

	// The concern's access log: its managers and the auditor; paged; itself audited.
	var log struct {
		Items      []safeguard.AuditLogEntry `json:"items"`
		NextCursor string                    `json:"next_cursor"`
	}
	res = svc.do("GET", concernPath+"/access-log?limit=2", prisonMgr, nil)
	res.json(t, &log)
	if res.status != http.StatusOK || len(log.Items) != 2 || log.NextCursor == "" {
		t.Fatalf("access log as the prison manager: %d %s; want 2 items and a cursor", res.status, res.body)
	}
	if got := log.Items[0]; got.Action != "break_glass_read" || got.UserName != "Outside Admin" || got.UserOrg != "WDI" || got.At.Location() != time.UTC || got.Remote != "127.0.0.1" {
		t.Errorf("newest access = %+v; want the break-glass read by Outside Admin of WDI, in UTC, from 127.0.0.1", got)
	}
	if got := log.Items[0]; got.Detail != "" {
		t.Errorf("the access log shows the reason %q to the concern's managers; it belongs to the review list", got.Detail)
	}
	seen, pages := len(log.Items), 1
	for cursor := log.NextCursor; cursor != ""; {
		var page struct {
			Items      []safeguard.AuditLogEntry `json:"items"`
			NextCursor string                    `json:"next_cursor"`
		}
		svc.do("GET", concernPath+"/access-log?limit=2&cursor="+cursor, prisonMgr, nil).json(t, &page)
		seen, pages = seen+len(page.Items), pages+1
		cursor = page.NextCursor
	}
	var want int
	if err := svc.db().Get(&want, svc.db().Rebind(`SELECT COUNT(*) FROM audit_log WHERE reference = ?`), ref); err != nil {
		t.Fatal(err)
	}
	// Each page read is audited after it is answered, and later pages only look further back.
	if seen != want-pages {
		t.Errorf("paging the access log in %d pages saw %d rows; want the %d there were when the first page was read", pages, seen, want-pages)
	}
	for who, status := range map[string]int{laManager: 200, auditor: 200, lead: 403, practitioner: 403, outsider.Email: 404} {
		if res := svc.do("GET", concernPath+"/access-log", who, nil); res.status != status {
			t.Errorf("access log as %s: %d; want %d", who, res.status, status)
		}
	}
	if res := svc.do("GET", concernPath+"/access-log?limit=0", prisonMgr, nil); res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), `"limit"`) {
		t.Errorf("access log with limit=0: %d %s; want 422 on limit", res.status, res.body)
	}

	// The running service writes checkpoints into its data dir.
	cpFile := filepath.Join(svc.cfg.DataDir, checkpoint.FileName)
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(cpFile)
		if bytes.Contains(b, []byte("safeguard audit checkpoint")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint in %s after 20s with SAFEGUARD_AUDIT_CHECKPOINT_INTERVAL=1s", cpFile)
		}
		time.Sleep(200 * time.Millisecond)
	}

	var report safeguard.AuditReport
	for _, who := range []string{lead, prisonMgr, laManager} {
		if res := svc.do("GET", "/api/v1/audit/verify", who, nil); res.status != http.StatusForbidden {
			t.Errorf("GET /audit/verify as %s: %d; want 403", who, res.status)
		}
	}
	res = svc.do("GET", "/api/v1/audit/verify", auditor, nil)
	res.json(t, &report)
	if res.status != http.StatusOK || !report.OK || report.Rows < 10 || report.CheckpointsChecked < 1 || len(report.Problems) != 0 {
		t.Fatalf("GET /audit/verify of an untouched trail: %d %s; want ok with the checkpoints checked", res.status, res.body)
	}
	if code, out, errOut := runCLI(svc, "audit", "checkpoint"); code != 0 || !strings.Contains(out, "checkpoint: ") {
		t.Fatalf("safeguard audit checkpoint exited %d: %s %s", code, out, errOut)
	}
	code, out, errOut := runCLI(svc, "audit", "verify")
	if code != 0 || !strings.Contains(out, `"ok": true`) {
		t.Fatalf("safeguard audit verify of an untouched trail exited %d:\n%s\n%s", code, out, errOut)
	}

	// Someone with the database edits who read the concern, behind the triggers' back.
	var victim int64
	if err := svc.db().Get(&victim, svc.db().Rebind(`SELECT MIN(id) FROM audit_log WHERE action = 'break_glass_read' AND outcome = 'ok'`)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET user_id = NULL WHERE id = ` + strconv.FormatInt(victim, 10)} {
		if _, err := svc.db().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ = runCLI(svc, "audit", "verify")
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("audit verify printed %q: %v", out, err)
	}
	if code != 1 || report.OK || len(report.Problems) == 0 || report.Problems[0].ID != victim || report.Problems[0].Kind != safeguard.AuditEdited {
		t.Fatalf("safeguard audit verify after row %d was edited exited %d with %+v; want 1 and the row named as edited", victim, code, report)
	}
	res = svc.do("GET", "/api/v1/audit/verify", admin, nil)
	res.json(t, &report)
	if res.status != http.StatusOK || report.OK || report.Problems[0].ID != victim || report.Problems[0].Kind != safeguard.AuditEdited {
		t.Fatalf("GET /audit/verify after row %d was edited: %d %s", victim, res.status, res.body)
	}
}

// runCLI runs a safeguard command in-process against the running service's configuration.
func runCLI(svc *running, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	e := env{"SAFEGUARD_DATA_DIR": svc.cfg.DataDir, "DATABASE_URL": svc.cfg.DatabaseURL}
	code = run(context.Background(), args, e.get, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}
