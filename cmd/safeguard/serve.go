package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/safeguard-project/safeguard"
	"github.com/safeguard-project/safeguard/activities"
	"github.com/safeguard-project/safeguard/checkpoint"
	"github.com/safeguard-project/safeguard/config"
	"github.com/safeguard-project/safeguard/embedded"
	sghttp "github.com/safeguard-project/safeguard/http"
	"github.com/safeguard-project/safeguard/mail"
	"github.com/safeguard-project/safeguard/metrics"
	"github.com/safeguard-project/safeguard/payload"
	sgsql "github.com/safeguard-project/safeguard/sql"
	"github.com/safeguard-project/safeguard/workflows"
)

// mode is which halves of the service a process runs.
type mode string

const (
	modeServe  mode = "serve"  // HTTP and worker (and the embedded Temporal server by default)
	modeAPI    mode = "api"    // HTTP only
	modeWorker mode = "worker" // worker only
)

func (m mode) http() bool   { return m != modeWorker }
func (m mode) worker() bool { return m != modeAPI }

// serve runs the service until ctx is cancelled (SIGINT or SIGTERM), then stops it in order:
// stop taking requests, let running activities finish, close the Temporal server and database.
func serve(ctx context.Context, cfg *config.Config, m mode, args []string, stderr io.Writer) error {
	if err := parseFlags(newFlags(string(m), string(m), stderr), args, 0); err != nil {
		return err
	}
	if m != modeServe && cfg.Embedded() {
		return fmt.Errorf("'safeguard %s' runs half of the service and needs TEMPORAL_ADDRESS: use 'safeguard serve' for one process", m)
	}
	svc, err := start(ctx, cfg, m, stderr)
	if err != nil {
		return err
	}
	<-ctx.Done()
	svc.logger.Info("stopping")
	return svc.stop()
}

// service is a running process: whichever parts its mode starts.
type service struct {
	logger   *slog.Logger
	db       *sgsql.DB
	temporal *embedded.Server
	client   client.Client
	worker   worker.Worker
	http     *http.Server
	addr     string // the address HTTP listens on, known once it listens

	// stopCourier ends the worker's courier, which lets its sends in flight finish and closes
	// courierDone.
	stopCourier context.CancelFunc
	courierDone chan struct{}

	// stopCheckpoints ends the audit checkpoint writer, which writes a last checkpoint and
	// closes checkpointsDone.
	stopCheckpoints context.CancelFunc
	checkpointsDone chan struct{}
}

// start brings the service up, logging JSON to logOut. On any error it stops what it had
// started.
func start(ctx context.Context, cfg *config.Config, m mode, logOut io.Writer) (svc *service, err error) {
	logger := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc = &service{logger: logger}
	var ln net.Listener
	defer func() {
		if err != nil {
			if ln != nil && svc.http == nil {
				ln.Close()
			}
			_ = svc.stop()
		}
	}()
	if m.http() {
		// Listen first, so that every link the service makes (mail, one-time setup links, the
		// single sign-on callback) names the port really bound when SAFEGUARD_ADDR asks for any
		// free one (":0") and SAFEGUARD_BASE_URL is left to its default.
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, fmt.Errorf("SAFEGUARD_ADDR: listen on %s: %w", cfg.Addr, err)
		}
		svc.addr = ln.Addr().String()
		if _, port, _ := net.SplitHostPort(cfg.Addr); port == "0" && strings.HasSuffix(cfg.BaseURL, ":0") {
			_, bound, _ := net.SplitHostPort(svc.addr)
			c := *cfg
			c.BaseURL = strings.TrimSuffix(cfg.BaseURL, "0") + bound
			cfg = &c
		}
	}
	if svc.db, err = sgsql.Open(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	if m == modeServe {
		if err := prepareDatabase(ctx, svc.db, logger); err != nil {
			return nil, err
		}
	} else if err := svc.db.CheckSchema(ctx); err != nil {
		return nil, err
	}

	hostPort := cfg.TemporalAddr
	if cfg.Embedded() {
		t0 := time.Now()
		if svc.temporal, err = embedded.Start(embedded.Options{DataDir: cfg.DataDir, Namespace: cfg.Namespace}); err != nil {
			return nil, err
		}
		hostPort = svc.temporal.HostPort()
		logger.Info("embedded temporal server started", "address", hostPort, "took_ms", time.Since(t0).Milliseconds())
	}
	key := cfg.PayloadKey
	if key == nil {
		if key, err = payload.KeyFromDataDir(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("payload key in %s: %w", cfg.DataDir, err)
		}
	}
	codec, err := payload.NewCodec(key)
	if err != nil {
		return nil, fmt.Errorf("SAFEGUARD_PAYLOAD_KEY: %w", err)
	}
	clientOpts := client.Options{
		HostPort:  hostPort,
		Namespace: cfg.Namespace,
		// Concern data is sealed before it reaches Temporal's database (package payload).
		DataConverter:    codec.DataConverter(),
		FailureConverter: codec.FailureConverter(),
		// The SDK is chatty at info level; its warnings and errors are worth keeping.
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.LevelWarn})).With("component", "temporal-sdk")),
	}
	// The API connects lazily so that it starts, and serves reads, while Temporal is away;
	// writes then answer 503. A worker cannot work without Temporal, so it dials at once.
	if m.worker() {
		svc.client, err = client.DialContext(ctx, clientOpts)
	} else {
		svc.client, err = client.NewLazyClient(clientOpts)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", hostPort, err)
	}

	met := metrics.New()
	met.RegisterOutboxBacklog(svc.db.OutboxBacklog)
	checks := []sghttp.Check{
		{Name: "database", Run: svc.db.Ping},
		{Name: "temporal", Run: func(ctx context.Context) error {
			_, err := svc.client.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
	}
	if m.worker() {
		acts := &activities.Activities{DB: svc.db, BaseURL: cfg.BaseURL, Logger: logger}
		if cfg.SMTPURL != "" {
			sender, err := mail.NewSender(cfg.SMTPURL, cfg.MailFrom)
			if err != nil {
				return nil, fmt.Errorf("SMTP_URL: %w", err)
			}
			acts.Mailer = sender
			checks = append(checks, sghttp.Check{Name: "smtp", Optional: true, Run: sender.Ping})
		}
		// The courier delivers the outbox from this process: whatever is pending, from any
		// workflow, now and after a restart (activities.Courier).
		acts.Courier = &activities.Courier{DB: svc.db, Mailer: acts.Mailer, Logger: logger}
		var courierCtx context.Context
		courierCtx, svc.stopCourier = context.WithCancel(context.Background())
		svc.courierDone = make(chan struct{})
		go func() {
			defer close(svc.courierDone)
			acts.Courier.Run(courierCtx)
		}()
		svc.worker = worker.New(svc.client, workflows.TaskQueue, worker.Options{
			Interceptors: []interceptor.WorkerInterceptor{met.WorkerInterceptor()},
		})
		svc.worker.RegisterWorkflow(workflows.Concern)
		svc.worker.RegisterWorkflow(workflows.Digest)
		svc.worker.RegisterActivity(acts)
		if err := svc.worker.Start(); err != nil {
			return nil, fmt.Errorf("start worker: %w", err)
		}
		if err := ensureDigestSchedule(ctx, svc.client, logger); err != nil {
			return nil, err
		}
	}
	if m.http() {
		// The processes that serve requests sign the audit chain's head into their data dir.
		checkpoints, err := checkpoint.Open(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("audit checkpoints in %s: %w", cfg.DataDir, err)
		}
		var cpCtx context.Context
		cpCtx, svc.stopCheckpoints = context.WithCancel(context.Background())
		svc.checkpointsDone = checkpointEvery(cpCtx, cfg.AuditCheckpointInterval, svc.db, checkpoints, logger)
		api := &sghttp.Server{DB: svc.db, Temporal: svc.client, Logger: logger, Metrics: met, Checks: checks, DevMail: cfg.SMTPURL == "", BaseURL: cfg.BaseURL,
			Policy: cfg.Policy, SearchAttributes: cfg.Embedded() || hasSearchAttributes(ctx, svc.client, cfg.Namespace),
			Checkpoints: checkpoints}
		if cfg.OIDC != nil {
			// Discovery at start-up: a provider that cannot be reached stops the service with
			// the variable named, rather than failing each person's sign-in later.
			o, err := sghttp.NewOIDC(ctx, cfg.OIDC.Issuer, cfg.OIDC.ClientID, cfg.OIDC.ClientSecret, strings.TrimRight(cfg.BaseURL, "/")+"/sign-in/oidc/callback")
			if err != nil {
				return nil, fmt.Errorf("OIDC_ISSUER: %w", err)
			}
			api.OIDC = o
		}
		svc.http = &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
		go func() {
			if err := svc.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("http server stopped", "error", err)
			}
		}()
	}
	if m == modeServe {
		if err := ensureFirstAdmin(ctx, svc.db, cfg.BaseURL, logger, logOut); err != nil {
			return nil, err
		}
	}
	logger.Info("safeguard started", "mode", string(m), "http", svc.addr, "database", string(svc.db.Dialect), "policy", cfg.Policy.Fingerprint(),
		"temporal", map[bool]string{true: "embedded", false: "external"}[cfg.Embedded()], "smtp", cfg.SMTPURL != "")
	return svc, nil
}

// prepareDatabase migrates the schema and, on a first start, loads the reference list of
// prisons and their host local authorities.
func prepareDatabase(ctx context.Context, db *sgsql.DB, logger *slog.Logger) error {
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	if applied > 0 {
		logger.Info("database migrated", "migrations_applied", applied)
	}
	n, err := db.CountOrganisations(ctx)
	if err != nil || n > 0 {
		return err
	}
	loaded, err := db.ImportOrganisations(ctx, bytes.NewReader(safeguard.PrisonsCSV))
	if err != nil {
		return fmt.Errorf("load reference data: %w", err)
	}
	logger.Info("reference data loaded", "prisons", loaded)
	return nil
}

// stop shuts down whatever was started, in reverse order, and returns the first error.
func (s *service) stop() error {
	var errs []error
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, s.http.Shutdown(ctx))
		cancel()
	}
	if s.stopCheckpoints != nil {
		// After HTTP has stopped, so that the last checkpoint covers every request served.
		s.stopCheckpoints()
		<-s.checkpointsDone
	}
	if s.worker != nil {
		s.worker.Stop()
	}
	if s.stopCourier != nil {
		s.stopCourier()
		<-s.courierDone
	}
	if s.client != nil {
		s.client.Close()
	}
	if s.temporal != nil {
		errs = append(errs, s.temporal.Stop())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}

// hasSearchAttributes reports whether an external namespace has the search attributes the
// workflows keep current (the embedded server registers them itself). Without them, workflows
// simply do not set them.
func hasSearchAttributes(ctx context.Context, c client.Client, namespace string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return false
	}
	for name := range embedded.SearchAttributes {
		if _, ok := res.GetCustomAttributes()[name]; !ok {
			return false
		}
	}
	return true
}
