// Package config reads the service's configuration from the environment (DESIGN.md,
// "Configuration"). Every command reads the same variables; a bad one stops start-up with one
// line that names it.
package config

import (
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-project/safeguard/mail"
	"github.com/safeguard-project/safeguard/payload"
	"github.com/safeguard-project/safeguard/policy"
)

// Variable is one environment variable of the configuration contract.
type Variable struct {
	Name    string
	Meaning string
	Default string
}

// Variables is the configuration contract, in the order DESIGN.md lists it. Tests check
// docker-compose.yml and the README against it.
var Variables = []Variable{
	{"SAFEGUARD_ADDR", "HTTP listen address", "127.0.0.1:8080"},
	{"SAFEGUARD_BASE_URL", "public URL used in email links", "http:// + SAFEGUARD_ADDR"},
	{"SAFEGUARD_DATA_DIR", "embedded databases", "./data"},
	{"DATABASE_URL", "postgres://… or sqlite:///path", "SQLite in the data dir"},
	{"TEMPORAL_ADDRESS", "external Temporal frontend host:port; unset = embedded server", "embedded"},
	{"TEMPORAL_NAMESPACE", "Temporal namespace", "default"},
	{"SMTP_URL", "smtp://user:pass@host:port?tls=none|starttls|tls", "unset: outbox only, shown at /dev/mail"},
	{"MAIL_FROM", "sender address", "safeguarding@localhost"},
	{"SAFEGUARD_POLICY_FILE", "deadline policy (YAML; JSON accepted)", "built-in policy"},
	{"OIDC_ISSUER", "single sign-on issuer URL; unset = local accounts", "unset"},
	{"OIDC_CLIENT_ID", "single sign-on client ID", "unset"},
	{"OIDC_CLIENT_SECRET", "single sign-on client secret", "unset"},
}

// Extensions are variables this implementation reads beyond DESIGN.md's table. They never
// change what a contract variable means; each is named SAFEGUARD_… and documented like the
// rest (usage text, README).
var Extensions = []Variable{
	{"SAFEGUARD_PAYLOAD_KEY", "key (32 bytes, base64) sealing concern data held in Temporal; every api and worker process needs the same one", "embedded: generated in the data dir; required with TEMPORAL_ADDRESS"},
	{"SAFEGUARD_AUDIT_CHECKPOINT_INTERVAL", "how often the audit chain's head is signed into the data dir's audit-checkpoints file (Go duration)", "5m"},
}

// Known reports whether name is a variable of the contract or one of the extensions.
func Known(name string) bool {
	for _, v := range append(Variables[:len(Variables):len(Variables)], Extensions...) {
		if v.Name == name {
			return true
		}
	}
	return false
}

// Config is the validated configuration.
type Config struct {
	Addr         string
	BaseURL      string
	DataDir      string
	DatabaseURL  string
	TemporalAddr string // "" means run the embedded server
	Namespace    string
	SMTPURL      string // "" means keep mail in the outbox
	MailFrom     string
	PolicyFile   string
	Policy       policy.Policy // the file's, or the built-in policy
	OIDC         *OIDC
	// PayloadKey seals what the service hands to Temporal (package payload). nil in the
	// embedded default without SAFEGUARD_PAYLOAD_KEY: the key then lives in the data dir.
	PayloadKey []byte
	// AuditCheckpointInterval is how often serve and api sign the audit chain's head.
	AuditCheckpointInterval time.Duration
}

// OIDC is single sign-on, set only when all three variables are.
type OIDC struct{ Issuer, ClientID, ClientSecret string }

// Embedded reports whether this process runs its own Temporal server.
func (c *Config) Embedded() bool { return c.TemporalAddr == "" }

// Error names the variable that is wrong and says why, in one line.
type Error struct{ Variable, Problem string }

func (e *Error) Error() string { return fmt.Sprintf("configuration: %s %s", e.Variable, e.Problem) }

var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$`)

// Load reads and checks the configuration. getenv is os.Getenv outside tests.
func Load(getenv func(string) string) (*Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := &Config{
		Addr:         get("SAFEGUARD_ADDR", "127.0.0.1:8080"),
		DataDir:      get("SAFEGUARD_DATA_DIR", "./data"),
		TemporalAddr: get("TEMPORAL_ADDRESS", ""),
		Namespace:    get("TEMPORAL_NAMESPACE", "default"),
		SMTPURL:      get("SMTP_URL", ""),
		MailFrom:     get("MAIL_FROM", "safeguarding@localhost"),
		PolicyFile:   get("SAFEGUARD_POLICY_FILE", ""),
	}
	host, port, err := splitHostPort(c.Addr)
	if err != nil {
		return nil, &Error{"SAFEGUARD_ADDR", fmt.Sprintf("must be host:port with a port from 0 to 65535, e.g. 127.0.0.1:8080 (got %q)", c.Addr)}
	}
	// Links in mail must reach the service from elsewhere: a wildcard listen address is no
	// address to link to, so the default names localhost instead.
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	c.BaseURL = strings.TrimRight(get("SAFEGUARD_BASE_URL", "http://"+net.JoinHostPort(host, port)), "/")
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, &Error{"SAFEGUARD_BASE_URL", "must be an absolute http:// or https:// URL without credentials, query or fragment, e.g. https://safeguarding.example.gov.uk"}
	}
	dataDir, err := filepath.Abs(c.DataDir)
	if err != nil {
		return nil, &Error{"SAFEGUARD_DATA_DIR", "is not a usable path"}
	}
	c.DataDir = dataDir
	c.DatabaseURL = get("DATABASE_URL", "sqlite://"+filepath.ToSlash(filepath.Join(c.DataDir, "safeguard.db")))
	if u, err := url.Parse(c.DatabaseURL); err != nil || !(u.Scheme == "postgres" || u.Scheme == "postgresql" || u.Scheme == "sqlite") {
		return nil, &Error{"DATABASE_URL", "must start with postgres:// or sqlite:/// (e.g. sqlite:///var/lib/safeguard/safeguard.db)"}
	} else if u.Scheme == "sqlite" && u.Path == "" && u.Host == "" {
		return nil, &Error{"DATABASE_URL", "sqlite:/// needs a file path"}
	} else if u.Scheme != "sqlite" && u.Host == "" {
		return nil, &Error{"DATABASE_URL", "postgres:// needs a host, e.g. postgres://user:pass@db:5432/safeguard"}
	}
	if c.TemporalAddr != "" {
		if host, _, err := splitHostPort(c.TemporalAddr); err != nil || host == "" {
			return nil, &Error{"TEMPORAL_ADDRESS", fmt.Sprintf("must be host:port, e.g. temporal:7233 (got %q)", c.TemporalAddr)}
		}
	}
	if v := get("SAFEGUARD_PAYLOAD_KEY", ""); v != "" {
		k, err := payload.ParseKey(v)
		if err != nil {
			return nil, &Error{"SAFEGUARD_PAYLOAD_KEY", err.Error()}
		}
		c.PayloadKey = k
	} else if c.TemporalAddr != "" {
		return nil, &Error{"SAFEGUARD_PAYLOAD_KEY", "is required with TEMPORAL_ADDRESS: every api and worker process must seal and open Temporal payloads with the same key (e.g. `openssl rand -base64 32`)"}
	}
	if !namespacePattern.MatchString(c.Namespace) {
		return nil, &Error{"TEMPORAL_NAMESPACE", "must be letters, digits, '.', '_' or '-'"}
	}
	if c.SMTPURL != "" {
		if _, err := mail.ParseURL(c.SMTPURL); err != nil {
			return nil, &Error{"SMTP_URL", err.Error()}
		}
	}
	if a, err := netmail.ParseAddress(c.MailFrom); err != nil || a.Address != c.MailFrom {
		return nil, &Error{"MAIL_FROM", "must be a plain email address, e.g. safeguarding@example.gov.uk"}
	}
	c.AuditCheckpointInterval = 5 * time.Minute
	if v := get("SAFEGUARD_AUDIT_CHECKPOINT_INTERVAL", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return nil, &Error{"SAFEGUARD_AUDIT_CHECKPOINT_INTERVAL", fmt.Sprintf("must be a Go duration of at least 1s, e.g. 5m (got %q)", v)}
		}
		c.AuditCheckpointInterval = d
	}
	c.Policy = policy.Default()
	if c.PolicyFile != "" {
		if st, err := os.Stat(c.PolicyFile); err != nil || st.IsDir() {
			return nil, &Error{"SAFEGUARD_POLICY_FILE", fmt.Sprintf("names no readable file (%q)", c.PolicyFile)}
		}
		if c.Policy, err = policy.Load(c.PolicyFile); err != nil {
			return nil, &Error{"SAFEGUARD_POLICY_FILE", "is not a valid policy: " + err.Error()}
		}
	}
	issuer, id, secret := get("OIDC_ISSUER", ""), get("OIDC_CLIENT_ID", ""), get("OIDC_CLIENT_SECRET", "")
	switch {
	case issuer == "" && id == "" && secret == "":
	case issuer == "":
		return nil, &Error{"OIDC_ISSUER", "must be set when OIDC_CLIENT_ID or OIDC_CLIENT_SECRET is"}
	case id == "":
		return nil, &Error{"OIDC_CLIENT_ID", "must be set when OIDC_ISSUER is"}
	case secret == "":
		return nil, &Error{"OIDC_CLIENT_SECRET", "must be set when OIDC_ISSUER is"}
	default:
		if u, err := url.Parse(issuer); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
			return nil, &Error{"OIDC_ISSUER", "must be an https:// URL (http:// only for localhost)"}
		}
		c.OIDC = &OIDC{issuer, id, secret}
	}
	return c, nil
}

// splitHostPort splits an address and checks that its port is a number from 0 to 65535.
func splitHostPort(addr string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", "", fmt.Errorf("bad port %q", port)
	}
	return host, port, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
