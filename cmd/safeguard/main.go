// Command safeguard runs the safeguarding service and administers it. With no arguments it runs
// everything in one process (the embedded default); see usage for the rest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/safeguard-project/safeguard/config"
)

const usage = `safeguard carries adult safeguarding concerns raised in prisons and approved premises
through notification, enquiry, local authority contribution and closure.

Usage:
  safeguard [serve]      run everything in one process: HTTP, worker and, unless
                         TEMPORAL_ADDRESS is set, an embedded Temporal server; migrates the
                         database and loads the reference list of prisons on first start
  safeguard api          run only the HTTP API (needs TEMPORAL_ADDRESS)
  safeguard worker       run only the Temporal worker and the courier that sends the outbox
                         (needs TEMPORAL_ADDRESS)
  safeguard migrate      bring the database schema up to date and load reference data
  safeguard org add --kind K --code C --name N [--inbox EMAIL] [--host-la CODE]
  safeguard org import FILE.csv
  safeguard user add --email E --name N --org CODE --role R [--password-stdin]
                         --password-stdin reads their password (one line) from stdin
  safeguard user password --email E --password-stdin
                         set a new password; ends the person's sessions
  safeguard user disable|enable --email E
                         disabling ends every session at once and stops their API tokens
  safeguard user sign-out --email E
                         end every web session of the person
  safeguard token create --email E [--name NAME] [--expires-in DURATION]
                         prints only the new API token, once; it is stored hashed
  safeguard token list --email E
                         the person's tokens: id, name, created, expires, last used, revoked
  safeguard token revoke --id N
                         revoke the token with that id (from token list)
  safeguard audit verify [--checkpoints FILE] [--verifier-key KEY]
                         verify the audit trail's hash chain and signed checkpoints;
                         prints the report and exits 1 if it was tampered with
  safeguard audit checkpoint
                         sign the audit chain's head into the data dir now
  safeguard demo         create demo organisations and users and print their API tokens
  safeguard bench        load a running instance at a fixed rate and report latency per operation
  safeguard seed --concerns N [--force]
                         write N realistic concerns straight into SQL to measure the reports;
                         they have no workflows: never on a live service (seed -h for more)

Configuration comes from the environment:
`

// printUsage writes the usage text and the configuration contract.
func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	for _, v := range config.Variables {
		fmt.Fprintf(w, "  %-22s %s (default: %s)\n", v.Name, v.Meaning, v.Default)
	}
	fmt.Fprint(w, "\nand, beyond the contract's variables:\n")
	for _, v := range config.Extensions {
		fmt.Fprintf(w, "  %-22s %s (default: %s)\n", v.Name, v.Meaning, v.Default)
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// errUsage means the arguments were wrong; the message has been printed with the usage.
var errUsage = errors.New("usage")

// run is the whole command, with its environment passed in so that tests can run it in-process.
// It returns the exit status: 0 success, 1 failure, 2 bad usage or configuration.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		printUsage(stdout)
		return 0
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var run func() error
	switch cmd {
	case "serve", "api", "worker":
		run = func() error { return serve(ctx, cfg, mode(cmd), args, stderr) }
	case "migrate":
		run = func() error { return migrate(ctx, cfg, args, stdout, stderr) }
	case "org":
		run = func() error { return orgCommand(ctx, cfg, args, stdout, stderr) }
	case "user":
		run = func() error { return userCommand(ctx, cfg, args, stdin, stdout, stderr) }
	case "token":
		run = func() error { return tokenCommand(ctx, cfg, args, stdout, stderr) }
	case "demo":
		run = func() error { return demo(ctx, cfg, args, stdout, stderr) }
	case "audit":
		run = func() error { return auditCommand(ctx, cfg, args, stdout, stderr) }
	case "bench":
		run = func() error { return bench(ctx, cfg, args, stdin, stdout, stderr) }
	case "seed":
		run = func() error { return seed(ctx, cfg, args, stdout, stderr) }
	default:
		fmt.Fprintf(stderr, "safeguard: unknown command %q\n\n", cmd)
		printUsage(stderr)
		return 2
	}
	switch err := run(); {
	case err == nil:
		return 0
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		return 2
	default:
		fmt.Fprintln(stderr, "safeguard:", err)
		return 1
	}
}

// newFlags returns a flag set for a subcommand that prints its own usage to stderr.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: safeguard %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and insists on no positional arguments beyond want.
func parseFlags(fs *flag.FlagSet, args []string, want int) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != want {
		fs.Usage()
		return errUsage
	}
	return nil
}
