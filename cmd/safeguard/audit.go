package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/checkpoint"
	"github.com/safeguard-project/safeguard/config"
	sgsql "github.com/safeguard-project/safeguard/sql"
)

// auditCommand is `safeguard audit verify` and `safeguard audit checkpoint`.
func auditCommand(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: safeguard audit verify [--checkpoints FILE] [--verifier-key KEY] | safeguard audit checkpoint")
		return errUsage
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, cfg, args[1:], stdout, stderr)
	case "checkpoint":
		if err := parseFlags(newFlags("audit checkpoint", "audit checkpoint", stderr), args[1:], 0); err != nil {
			return err
		}
		db, err := openDB(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		log, err := checkpoint.Open(cfg.DataDir)
		if err != nil {
			return err
		}
		cp, err := writeCheckpoint(ctx, db, log)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "checkpoint: %d rows, head %s, in %s\n", cp.Rows, cp.Head, log.Path())
		return nil
	}
	fmt.Fprintf(stderr, "safeguard audit: unknown subcommand %q\n", args[0])
	return errUsage
}

// auditVerify checks the whole chain and the checkpoints, prints the report as JSON and fails
// (exit 1) unless it is ok.
func auditVerify(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit verify", "audit verify [--checkpoints FILE] [--verifier-key KEY]", stderr)
	file := fs.String("checkpoints", "", "checkpoint file (default: "+checkpoint.FileName+" in SAFEGUARD_DATA_DIR)")
	vkey := fs.String("verifier-key", "", "verifier key the checkpoints are signed for, kept apart from the server (default: the data dir's)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	log, err := checkpoint.Open(cfg.DataDir)
	if err != nil {
		return err
	}
	path, key := log.Path(), log.VerifierKey()
	if *file != "" {
		path = *file
	}
	if *vkey != "" {
		key = *vkey
	}
	verifier, err := checkpoint.NewVerifier(key)
	if err != nil {
		return fmt.Errorf("--verifier-key: %w", err)
	}
	// The checkpoints first: every row they name is committed before the rows are read.
	cps, problems, err := checkpoint.ReadFile(path, verifier)
	if err != nil {
		return err
	}
	rep, err := db.VerifyAudit(ctx, cps, problems)
	if err != nil {
		return err
	}
	outcome := "ok"
	if !rep.OK {
		outcome = "tampered"
	}
	if err := db.Audit(ctx, sgsql.AuditEntry{Action: string(safeguard.ActionVerifyAuditLog), Outcome: outcome, Target: "cli"}); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("the audit trail does not verify: %d problems, the first at row %d (%s)", len(rep.Problems), rep.Problems[0].ID, rep.Problems[0].Kind)
	}
	return nil
}

// writeCheckpoint signs the chain's head now and appends it to the checkpoint file.
func writeCheckpoint(ctx context.Context, db *sgsql.DB, log *checkpoint.Log) (safeguard.AuditCheckpoint, error) {
	cp, err := db.AuditHead(ctx)
	if err != nil {
		return cp, fmt.Errorf("read the audit chain's head: %w", err)
	}
	if _, err := log.Append(cp); err != nil {
		return cp, err
	}
	return cp, nil
}

// checkpointEvery writes a checkpoint every interval until ctx ends, then one last one; done
// is closed when it has. Failures are logged and retried at the next tick: the chain itself is
// unharmed, only the window an attacker would have grows.
func checkpointEvery(ctx context.Context, interval time.Duration, db *sgsql.DB, log *checkpoint.Log, logger *slog.Logger) (done chan struct{}) {
	done = make(chan struct{})
	write := func(when string) {
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if cp, err := writeCheckpoint(wctx, db, log); err != nil {
			logger.Error("audit checkpoint failed", "when", when, "error", err)
		} else {
			logger.Debug("audit checkpoint", "rows", cp.Rows)
		}
	}
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				write("shutdown")
				return
			case <-t.C:
				write("periodic")
			}
		}
	}()
	return done
}
