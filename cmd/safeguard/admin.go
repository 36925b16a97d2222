package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/argon2"
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

// openUser opens the database for a command about one user, named by --email, which is
// required. The caller closes the database.
func openUser(ctx context.Context, cfg *config.Config, fs *flag.FlagSet, email string) (*sgsql.DB, *safeguard.User, error) {
	if strings.TrimSpace(email) == "" {
		fs.Usage()
		return nil, nil, errUsage
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	u, err := db.FindUserByEmail(ctx, email)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, u, nil
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

func userCommand(ctx context.Context, cfg *config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	const synopsis = "user add --email E --name N --org CODE --role R [--password-stdin] | user password --email E --password-stdin | user disable --email E | user enable --email E | user sign-out --email E"
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: safeguard "+synopsis)
		return errUsage
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, cfg, args[1:], stdin, stdout, stderr)
	case "password", "disable", "enable", "sign-out":
	default:
		fmt.Fprintf(stderr, "safeguard user: unknown subcommand %q (add, password, disable, enable, sign-out)\n", args[0])
		return errUsage
	}
	sub := args[0]
	fs := newFlags("user "+sub, "user "+sub+" --email E"+map[bool]string{true: " --password-stdin"}[sub == "password"], stderr)
	email := fs.String("email", "", "the person's email")
	fromStdin := false
	if sub == "password" {
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the new password from standard input (required)")
	}
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	if sub == "password" && !fromStdin {
		fs.Usage()
		return errUsage
	}
	var hash string
	if sub == "password" && strings.TrimSpace(*email) != "" {
		var err error
		if hash, err = readPassword(stdin); err != nil {
			return err
		}
	}
	db, u, err := openUser(ctx, cfg, fs, *email)
	if err != nil {
		return err
	}
	defer db.Close()
	target := fmt.Sprintf("user:%d", u.ID)
	switch sub {
	case "password":
		if err := db.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return err
		}
		cliAudit(ctx, db, "password_change", target, "set from the command line; sessions ended")
		fmt.Fprintf(stdout, "password of user %d set; their sessions have ended\n", u.ID)
	case "disable", "enable":
		if err := db.SetUserDisabled(ctx, u.ID, sub == "disable"); err != nil {
			return err
		}
		cliAudit(ctx, db, "user_"+sub, target, "")
		fmt.Fprintf(stdout, "user %d %sd\n", u.ID, sub)
	case "sign-out":
		n, err := db.RevokeUserSessions(ctx, u.ID)
		if err != nil {
			return err
		}
		cliAudit(ctx, db, "sessions_revoke", target, fmt.Sprintf("%d sessions ended", n))
		fmt.Fprintf(stdout, "%d sessions of user %d ended\n", n, u.ID)
	}
	return nil
}

func userAdd(ctx context.Context, cfg *config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user add", "user add --email E --name N --org CODE --role R [--password-stdin]", stderr)
	var u safeguard.User
	role := fs.String("role", "", "prison_lead, prison_manager, la_practitioner, la_manager, partner, auditor or admin")
	fs.StringVar(&u.Email, "email", "", "the person's work email (their sign-in name)")
	fs.StringVar(&u.Name, "name", "", "the person's name")
	fs.StringVar(&u.OrgCode, "org", "", "the code of their organisation")
	fromStdin := fs.Bool("password-stdin", false, "read their password from standard input (one line)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	u.Role = safeguard.Role(*role)
	// The password is checked before anything is stored: a refused one creates no user.
	var hash string
	if *fromStdin {
		var err error
		if hash, err = readPassword(stdin); err != nil {
			return err
		}
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CreateUser(ctx, &u); err != nil {
		return err
	}
	target := fmt.Sprintf("user:%d", u.ID)
	cliAudit(ctx, db, "user_create", target, "role "+string(u.Role)+" at "+u.OrgCode)
	if hash != "" {
		if err := db.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return err
		}
		cliAudit(ctx, db, "password_change", target, "set at creation")
	}
	fmt.Fprintf(stdout, "user %d %s (%s at %s) created\n", u.ID, u.Email, u.Role, u.OrgCode)
	return nil
}

// readPassword reads one line from stdin (a trailing newline is not part of it), checks it
// against the password rules and returns its Argon2id hash. The password is never printed.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	password := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if err := safeguard.ValidatePassword(password); err != nil {
		return "", err
	}
	return argon2.Hash(password, argon2.Default)
}

// cliAudit records an administrative change made from the command line, where no signed-in
// user acts: the entry has no user and the remote "cli".
func cliAudit(ctx context.Context, db *sgsql.DB, action, target, detail string) {
	if err := db.Audit(ctx, sgsql.AuditEntry{Action: action, Outcome: "ok", Remote: "cli", Target: target, Detail: detail}); err != nil {
		fmt.Fprintf(os.Stderr, "safeguard: warning: audit log write failed for %s: %v\n", action, err)
	}
}

func tokenCommand(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	const synopsis = "token create --email E [--name NAME] [--expires-in DURATION] | token list --email E | token revoke --id N"
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: safeguard "+synopsis)
		return errUsage
	}
	switch args[0] {
	case "create":
		return tokenCreate(ctx, cfg, args[1:], stdout, stderr)
	case "list":
		return tokenList(ctx, cfg, args[1:], stdout, stderr)
	case "revoke":
		return tokenRevoke(ctx, cfg, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "safeguard token: unknown subcommand %q (create, list, revoke)\n", args[0])
		return errUsage
	}
}

func tokenCreate(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token create", "token create --email E [--name NAME] [--expires-in DURATION]", stderr)
	email := fs.String("email", "", "the user the token acts for")
	name := fs.String("name", "cli", "a label to recognise the token by")
	expiresIn := fs.Duration("expires-in", 0, "how long the token lives, e.g. 2160h for 90 days; 0 never expires")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	db, u, err := openUser(ctx, cfg, fs, *email)
	if err != nil {
		return err
	}
	defer db.Close()
	var expires *time.Time
	if *expiresIn > 0 {
		t := db.Now().Add(*expiresIn)
		expires = &t
	}
	secret, err := db.CreateToken(ctx, u.ID, *name, expires)
	if err != nil {
		return err
	}
	cliAudit(ctx, db, "token_create", fmt.Sprintf("user:%d", u.ID), "token named "+*name)
	fmt.Fprintln(stdout, secret)
	return nil
}

// tokenList prints a user's tokens: never a secret, which is not stored.
func tokenList(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token list", "token list --email E", stderr)
	email := fs.String("email", "", "whose tokens to list")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	db, u, err := openUser(ctx, cfg, fs, *email)
	if err != nil {
		return err
	}
	defer db.Close()
	tokens, err := db.ListTokens(ctx, u.ID)
	if err != nil {
		return err
	}
	when := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
	for _, t := range tokens {
		created := t.Created
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, when(&created), when(t.ExpiresAt), when(t.LastUsed), when(t.RevokedAt))
	}
	return tw.Flush()
}

func tokenRevoke(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token revoke", "token revoke --id N   (the ID from 'safeguard token list')", stderr)
	id := fs.Int64("id", 0, "the token's ID, from 'safeguard token list'")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if *id <= 0 {
		fs.Usage()
		return errUsage
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.RevokeToken(ctx, *id)
	if err != nil {
		return err
	}
	cliAudit(ctx, db, "token_revoke", fmt.Sprintf("token:%d", t.ID), fmt.Sprintf("token of user:%d named %s", t.UserID, t.Name))
	fmt.Fprintf(stdout, "token %d (%s) revoked\n", t.ID, t.Name)
	return nil
}
