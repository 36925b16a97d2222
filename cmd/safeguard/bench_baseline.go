package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	tlog "go.temporal.io/server/common/log"

	"github.com/safeguard-project/safeguard/config"
	"github.com/safeguard-project/safeguard/embedded"
	"github.com/safeguard-project/safeguard/payload"
)

// The baseline measures the engine alone: a workflow that does nothing, started and awaited
// through the same client setup as the service's (namespace, sealed payloads), on a worker of
// its own with the service's worker options. The rate at which these complete is the ceiling
// for anything that starts a workflow on this machine.

const (
	baselineTaskQueue = "safeguard-bench-baseline"
	baselineWorkflow  = "SafeguardBenchEmpty"
)

// emptyWorkflow returns at once: one workflow task, no activities, no timers.
func emptyWorkflow(workflow.Context) error { return nil }

// baselineRun is a started baseline: an embedded Temporal server of its own (the embedded
// default, its log discarded: a throwaway server's shutdown is noisy) or the external
// cluster's address, a client and the empty workflow's worker.
type baselineRun struct {
	server  *embedded.Server
	dir     string // the embedded server's data directory, removed at stop
	client  client.Client
	worker  worker.Worker
	runID   string
	started atomic.Int64
}

// startBaseline starts what the baseline needs. With the embedded default it starts a fresh
// embedded server with the options serve uses, in a temporary directory, so that the figure is
// not coloured by an instance's history and does not touch its data.
func startBaseline(ctx context.Context, cfg *config.Config) (b *baselineRun, err error) {
	b = &baselineRun{runID: strconv.FormatInt(time.Now().UnixNano(), 36)}
	defer func() {
		if err != nil {
			_ = b.stop()
		}
	}()
	hostPort, key := cfg.TemporalAddr, cfg.PayloadKey
	if cfg.Embedded() {
		if b.dir, err = os.MkdirTemp("", "safeguard-bench-temporal-"); err != nil {
			return nil, err
		}
		if b.server, err = embedded.Start(embedded.Options{DataDir: b.dir, Namespace: cfg.Namespace, Logger: tlog.NewNoopLogger()}); err != nil {
			return nil, err
		}
		hostPort = b.server.HostPort()
		if key, err = payload.KeyFromDataDir(b.dir); err != nil {
			return nil, err
		}
	}
	codec, err := payload.NewCodec(key)
	if err != nil {
		return nil, fmt.Errorf("SAFEGUARD_PAYLOAD_KEY: %w", err)
	}
	b.client, err = client.DialContext(ctx, client.Options{
		HostPort: hostPort, Namespace: cfg.Namespace,
		DataConverter: codec.DataConverter(), FailureConverter: codec.FailureConverter(),
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", hostPort, err)
	}
	b.worker = worker.New(b.client, baselineTaskQueue, worker.Options{})
	b.worker.RegisterWorkflowWithOptions(emptyWorkflow, workflow.RegisterOptions{Name: baselineWorkflow})
	if err := b.worker.Start(); err != nil {
		return nil, fmt.Errorf("start baseline worker: %w", err)
	}
	// A freshly started server takes a few seconds to settle its membership and task queues;
	// the first step should not be charged for that.
	warm, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for range 5 {
		if _, status := b.fire(warm); status != 200 {
			return nil, fmt.Errorf("bench: the baseline's first empty workflows did not complete")
		}
	}
	return b, nil
}

// fire starts one empty workflow and waits for it to complete.
func (b *baselineRun) fire(ctx context.Context) (string, int) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	id := fmt.Sprintf("bench-%s-%d", b.runID, b.started.Add(1))
	run, err := b.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: baselineTaskQueue}, baselineWorkflow)
	if err == nil {
		err = run.Get(ctx, nil)
	}
	if err != nil {
		return "empty_workflow", statusTransport
	}
	return "empty_workflow", 200
}

func (b *baselineRun) stop() error {
	if b.worker != nil {
		b.worker.Stop()
	}
	if b.client != nil {
		b.client.Close()
	}
	var err error
	if b.server != nil {
		err = b.server.Stop()
	}
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
	return err
}
