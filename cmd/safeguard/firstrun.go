package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/safeguard-project/safeguard"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// The first start with no admin creates one and prints a one-time link to set its password.
// The admin belongs to an organisation of its own that no concern ever involves, so that it
// administers the service without seeing any organisation's concerns. Its kind has to be one
// of the six; probation is used because partner organisations take part in a concern only when
// asked to contribute, and nobody asks this one.
var firstAdminOrg = safeguard.Organisation{Code: "SAFEGUARD-ADMIN", Name: "Safeguard service administration", Kind: safeguard.KindProbation}

const (
	firstAdminEmail = "admin@localhost"
	setupLinkTTL    = 24 * time.Hour
)

// ensureFirstAdmin creates the first admin if there is no enabled admin, and writes the
// one-time sign-in link to out (stderr) — once: the next start finds the admin. If the link is
// lost or expires, 'safeguard user password --email admin@localhost --password-stdin' sets the
// password instead. The link holds a random token, no personal data; only its hash is stored.
func ensureFirstAdmin(ctx context.Context, db *sgsql.DB, baseURL string, logger *slog.Logger, out io.Writer) error {
	n, err := db.CountAdmins(ctx)
	if err != nil || n > 0 {
		return err
	}
	org := firstAdminOrg
	if err := db.UpsertOrganisation(ctx, &org); err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	u, err := db.FindUserByEmail(ctx, firstAdminEmail)
	switch {
	case err == nil:
		// A disabled first admin stays disabled: someone chose that. Say how to proceed.
		logger.Warn("no enabled admin; create one with 'safeguard user add --role admin --password-stdin'")
		return nil
	case safeguard.ErrorCode(err) != safeguard.ENOTFOUND:
		return err
	}
	u = &safeguard.User{Email: firstAdminEmail, Name: "Administrator", OrgCode: org.Code, Role: safeguard.RoleAdmin}
	if err := db.CreateUser(ctx, u); err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	secret, err := db.CreateSetupToken(ctx, u.ID, setupLinkTTL)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if err := db.Audit(ctx, sgsql.AuditEntry{Action: "user_create", Outcome: "ok", Remote: "serve", Target: fmt.Sprintf("user:%d", u.ID), Detail: "first admin, with a one-time setup link"}); err != nil {
		return err
	}
	link := strings.TrimSuffix(baseURL, "/") + "/sign-in/setup?" + url.Values{"token": {secret}}.Encode()
	// Written as plain lines, not a JSON log record: a person reads this once, and log shippers
	// that index JSON fields should not index the link.
	fmt.Fprintf(out, "\n"+
		"  No admin existed, so one has been created: %s\n"+
		"  Open this one-time link within 24 hours to set its password and sign in:\n\n"+
		"    %s\n\n"+
		"  It works once. Lost it? safeguard user password --email %s --password-stdin\n\n",
		firstAdminEmail, link, firstAdminEmail)
	logger.Info("first admin created; its one-time sign-in link was printed above", "user_id", u.ID)
	return nil
}
