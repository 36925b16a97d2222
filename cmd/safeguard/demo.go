package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/config"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// demoOrgs are HMP Leeds and its host authority from the reference data, given example inboxes,
// and a healthcare partner.
var demoOrgs = []safeguard.Organisation{
	{Code: "E08000035", Name: "Leeds City Council", Kind: safeguard.KindLocalAuthority, Inbox: "adult.safeguarding@leeds.example.org"},
	{Code: "LEI", Name: "HMP Leeds", Kind: safeguard.KindPrison, Inbox: "safeguarding.lei@prison.example.org", HostLA: "E08000035"},
	{Code: "LEI-HEALTH", Name: "HMP Leeds Healthcare", Kind: safeguard.KindHealth, Inbox: "healthcare.lei@nhs.example.org"},
}

var demoUsers = []safeguard.User{
	{Email: "lead@prison.example.org", Name: "Demo Prison Lead", OrgCode: "LEI", Role: safeguard.RolePrisonLead},
	{Email: "manager@prison.example.org", Name: "Demo Prison Manager", OrgCode: "LEI", Role: safeguard.RolePrisonManager},
	{Email: "practitioner@leeds.example.org", Name: "Demo LA Practitioner", OrgCode: "E08000035", Role: safeguard.RoleLAPractitioner},
	{Email: "manager@leeds.example.org", Name: "Demo LA Manager", OrgCode: "E08000035", Role: safeguard.RoleLAManager},
	{Email: "nurse@nhs.example.org", Name: "Demo Health Partner", OrgCode: "LEI-HEALTH", Role: safeguard.RolePartner},
	{Email: "auditor@leeds.example.org", Name: "Demo Auditor", OrgCode: "E08000035", Role: safeguard.RoleAuditor},
	{Email: "admin@leeds.example.org", Name: "Demo Admin", OrgCode: "E08000035", Role: safeguard.RoleAdmin},
}

// demo prepares the database if needed, creates the demo organisations and users (or finds
// them), and prints a fresh API token for each user.
func demo(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	if err := parseFlags(newFlags("demo", "demo", stderr), args, 0); err != nil {
		return err
	}
	db, err := sgsql.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := prepareDatabase(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		return err
	}
	for _, o := range demoOrgs {
		if err := db.UpsertOrganisation(ctx, &o); err != nil {
			return fmt.Errorf("demo organisation %s: %w", o.Code, err)
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tORGANISATION\tEMAIL\tAPI TOKEN")
	for _, u := range demoUsers {
		existing, err := db.FindUserByEmail(ctx, u.Email)
		switch {
		case err == nil:
			u = *existing
		case safeguard.ErrorCode(err) == safeguard.ENOTFOUND:
			if err := db.CreateUser(ctx, &u); err != nil {
				return fmt.Errorf("demo user %s: %w", u.Email, err)
			}
		default:
			return err
		}
		secret, err := db.CreateToken(ctx, u.ID, "demo", nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Role, u.OrgCode, u.Email, secret)
	}
	return tw.Flush()
}
