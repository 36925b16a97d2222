// Package embedded runs a Temporal server inside the safeguard process, persisted to a SQLite
// file, for the one-process default. It is the same server a cluster runs
// (go.temporal.io/server), with every service in one process and one history shard.
package embedded

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// SearchAttributes are registered on the namespace when it is created. Their values are
// stored unencrypted and shown in the Temporal UI, so they never hold personal data: a stage
// and a deadline only.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	"SafeguardStage":        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"SafeguardNextDeadline": enumspb.INDEXED_VALUE_TYPE_DATETIME,
}

// Options configures the embedded server.
type Options struct {
	DataDir   string // the SQLite file temporal.db lives here
	Namespace string
	Logger    log.Logger // nil: warnings and errors to stderr as JSON
}

// Server is a running embedded Temporal server.
type Server struct {
	server   temporal.Server
	hostPort string
}

// Start creates the schema and namespace on first use, then starts the server. The frontend
// listens on loopback only, on a port remembered in the data directory so that the address
// recorded in the cluster metadata stays true across restarts.
func Start(opts Options) (*Server, error) {
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded temporal: %w", err)
	}
	dbPath := filepath.Join(opts.DataDir, "temporal.db")
	ports, err := choosePorts(filepath.Join(opts.DataDir, "temporal.ports"))
	if err != nil {
		return nil, err
	}
	sqlCfg := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: dbPath,
		ConnectAttributes: map[string]string{
			"mode": "rwc",
			// WAL lets readers and the single writer work at once, and with synchronous=normal
			// a commit does not wait for fsync (a power cut can lose the last commits, never
			// corrupt the file). The plugin passes every key it does not know as a pragma
			// under that exact name, so these are spelled as SQLite spells them: the
			// "_journal_mode" this once said was an unknown pragma, silently ignored, and
			// the server ran on the rollback journal (see docs/performance.md).
			"journal_mode": "wal",
			"synchronous":  "normal",
		},
	}
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		if err := sqlite.SetupSchema(sqlCfg); err != nil {
			return nil, fmt.Errorf("embedded temporal: set up schema: %w", err)
		}
	}
	const clusterName = "active"
	ns, err := sqlite.NewNamespaceConfig(clusterName, opts.Namespace, false, SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("embedded temporal: namespace: %w", err)
	}
	if err := sqlite.CreateNamespaces(sqlCfg, ns); err != nil {
		return nil, fmt.Errorf("embedded temporal: create namespace: %w", err)
	}

	logger := opts.Logger
	if logger == nil {
		logger = log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "warn", Format: "json"}))
	}
	frontend := fmt.Sprintf("127.0.0.1:%d", ports[0])
	cfg := &config.Config{
		Global: config.Global{
			Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: "127.0.0.1"},
		},
		Persistence: config.Persistence{
			DefaultStore:     sqliteplugin.PluginName,
			VisibilityStore:  sqliteplugin.PluginName,
			NumHistoryShards: 1,
			DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlCfg}},
		},
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontend},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services: map[string]config.Service{
			"frontend": service(ports[0], ports[1]),
			"history":  service(ports[2], ports[3]),
			"matching": service(ports[4], ports[5]),
			"worker":   service(ports[6], ports[7]),
		},
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
			History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
			Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
		}},
		PublicClient: config.PublicClient{HostPort: frontend},
	}
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, err
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, logger)
	if err != nil {
		return nil, err
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// Workflows started a moment ago must be findable at once by the UI and by tests.
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): []dynamicconfig.ConstrainedValue{{Value: true}},
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("embedded temporal: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("embedded temporal: start: %w", err)
	}
	return &Server{server: srv, hostPort: frontend}, nil
}

// HostPort is the frontend's address, for clients and workers in this process.
func (s *Server) HostPort() string { return s.hostPort }

// Stop stops the server; it waits for its services to finish.
func (s *Server) Stop() error { return s.server.Stop() }

func service(grpcPort, membershipPort int) config.Service {
	return config.Service{RPC: config.RPC{GRPCPort: grpcPort, MembershipPort: membershipPort, BindOnIP: "127.0.0.1"}}
}

// choosePorts returns eight loopback ports: those remembered in file if they are all free, else
// newly chosen ones, which are then remembered.
func choosePorts(file string) ([]int, error) {
	if b, err := os.ReadFile(file); err == nil {
		var ports []int
		for _, f := range strings.Fields(string(b)) {
			if p, err := strconv.Atoi(f); err == nil {
				ports = append(ports, p)
			}
		}
		if len(ports) == 8 && allFree(ports) {
			return ports, nil
		}
	}
	ports := make([]int, 0, 8)
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range 8 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("embedded temporal: find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintln(&b, p)
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("embedded temporal: %w", err)
	}
	return ports, nil
}

func allFree(ports []int) bool {
	for _, p := range ports {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}
