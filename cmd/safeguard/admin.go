package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/config"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// openDB opens the configured database for an administrative command, which needs the schema to
// be current.
func openDB(ctx context.Context, cfg *config.Config) (*sgsql.DB, error) {
	db, err := sgsql.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// migrate brings the schema up to date and loads the reference data on an empty database.
func migrate(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	if err := parseFlags(newFlags("migrate", "migrate", stderr), args, 0); err != nil {
		return err
	}
	db, err := sgsql.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := prepareDatabase(ctx, db, slog.New(slog.NewTextHandler(stdout, nil))); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}

func orgCommand(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: safeguard org add|import …")
		return errUsage
	}
	switch args[0] {
	case "add":
		fs := newFlags("org add", "org add --kind K --code C --name N [--inbox EMAIL] [--host-la CODE]", stderr)
		var o safeguard.Organisation
		kind := fs.String("kind", "", "prison, approved_premises, local_authority, health, police or probation")
		fs.StringVar(&o.Code, "code", "", "NOMIS code for a prison (LEI), ONS GSS code for a local authority (E08000035)")
		fs.StringVar(&o.Name, "name", "", "the organisation's name")
		fs.StringVar(&o.Inbox, "inbox", "", "the safeguarding inbox that receives notifications")
		fs.StringVar(&o.HostLA, "host-la", "", "for a prison or approved premises: its host local authority's GSS code")
		if err := parseFlags(fs, args[1:], 0); err != nil {
			return err
		}
		o.Kind = safeguard.OrgKind(*kind)
		db, err := openDB(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.UpsertOrganisation(ctx, &o); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "organisation %s (%s) saved\n", o.Code, o.Kind)
		return nil
	case "import":
		fs := newFlags("org import", "org import FILE.csv", stderr)
		if err := parseFlags(fs, args[1:], 1); err != nil {
			return err
		}
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		db, err := openDB(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		n, err := db.ImportOrganisations(ctx, f)
		if err != nil {
			return fmt.Errorf("%s: %w (nothing was imported)", fs.Arg(0), err)
		}
		fmt.Fprintf(stdout, "%d rows imported\n", n)
		return nil
	default:
		fmt.Fprintf(stderr, "safeguard org: unknown subcommand %q (add, import)\n", args[0])
		return errUsage
	}
}

func userCommand(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "Usage: safeguard user add --email E --name N --org CODE --role R")
		return errUsage
	}
	fs := newFlags("user add", "user add --email E --name N --org CODE --role R", stderr)
	var u safeguard.User
	role := fs.String("role", "", "prison_lead, prison_manager, la_practitioner, la_manager, partner, auditor or admin")
	fs.StringVar(&u.Email, "email", "", "the person's work email (their sign-in name)")
	fs.StringVar(&u.Name, "name", "", "the person's name")
	fs.StringVar(&u.OrgCode, "org", "", "the code of their organisation")
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	u.Role = safeguard.Role(*role)
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CreateUser(ctx, &u); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %d %s (%s at %s) created\n", u.ID, u.Email, u.Role, u.OrgCode)
	return nil
}

func tokenCommand(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "Usage: safeguard token create --email E [--name NAME] [--expires-in DURATION]")
		return errUsage
	}
	fs := newFlags("token create", "token create --email E [--name NAME] [--expires-in DURATION]", stderr)
	email := fs.String("email", "", "the user the token acts for")
	name := fs.String("name", "cli", "a label to recognise the token by")
	expiresIn := fs.Duration("expires-in", 0, "how long the token lives, e.g. 2160h for 90 days; 0 never expires")
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" {
		fs.Usage()
		return errUsage
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.FindUserByEmail(ctx, *email)
	if err != nil {
		return err
	}
	var expires *time.Time
	if *expiresIn > 0 {
		t := db.Now().Add(*expiresIn)
		expires = &t
	}
	secret, err := db.CreateToken(ctx, u.ID, *name, expires)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	return nil
}
