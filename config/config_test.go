package config

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// env turns a map into a getenv for Load.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadWithNoConfigurationUsesTheDocumentedDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load with an empty environment failed: %v", err)
	}
	wantDataDir, _ := filepath.Abs("./data")
	checks := []struct {
		what      string
		got, want any
	}{
		{"Addr (SAFEGUARD_ADDR)", c.Addr, "127.0.0.1:8080"},
		{"BaseURL (SAFEGUARD_BASE_URL)", c.BaseURL, "http://127.0.0.1:8080"},
		{"DataDir (SAFEGUARD_DATA_DIR)", c.DataDir, wantDataDir},
		{"TemporalAddr (TEMPORAL_ADDRESS)", c.TemporalAddr, ""},
		{"Embedded()", c.Embedded(), true},
		{"Namespace (TEMPORAL_NAMESPACE)", c.Namespace, "default"},
		{"SMTPURL (SMTP_URL)", c.SMTPURL, ""},
		{"MailFrom (MAIL_FROM)", c.MailFrom, "safeguarding@localhost"},
		{"PolicyFile (SAFEGUARD_POLICY_FILE)", c.PolicyFile, ""},
		{"OIDC set", c.OIDC != nil, false},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("default %s = %#v, want %#v", ch.what, ch.got, ch.want)
		}
	}
	if !filepath.IsAbs(c.DataDir) {
		t.Errorf("default DataDir %q is not absolute", c.DataDir)
	}
	u, err := url.Parse(c.DatabaseURL)
	if err != nil || u.Scheme != "sqlite" {
		t.Fatalf("default DatabaseURL %q is not a sqlite:// URL", c.DatabaseURL)
	}
	if dbPath := filepath.FromSlash(u.Path); !strings.HasPrefix(dbPath, c.DataDir+string(filepath.Separator)) {
		t.Errorf("default DatabaseURL %q names %q, which is not under the data dir %q", c.DatabaseURL, dbPath, c.DataDir)
	}
}

func TestLoadAcceptsGoodConfiguration(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("timezone: Europe/London\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	tests := []struct {
		name  string
		vars  map[string]string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "the scaled stack of docker-compose.yml",
			vars: map[string]string{
				"DATABASE_URL":          "postgres://safeguard:safeguard@postgres:5432/safeguard?sslmode=disable",
				"TEMPORAL_ADDRESS":      "temporal:7233",
				"TEMPORAL_NAMESPACE":    "safeguarding-prod",
				"SMTP_URL":              "smtp://user:pass@mailpit:1025?tls=none",
				"MAIL_FROM":             "safeguarding@example.gov.uk",
				"SAFEGUARD_ADDR":        "0.0.0.0:8080",
				"SAFEGUARD_BASE_URL":    "https://safeguarding.example.gov.uk/",
				"SAFEGUARD_PAYLOAD_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
			},
			check: func(t *testing.T, c *Config) {
				if string(c.PayloadKey) != "0123456789abcdef0123456789abcdef" {
					t.Errorf("PayloadKey = %q, want the key decoded", c.PayloadKey)
				}
				if c.Embedded() {
					t.Error("Embedded() is true with TEMPORAL_ADDRESS set")
				}
				if c.TemporalAddr != "temporal:7233" || c.Namespace != "safeguarding-prod" {
					t.Errorf("Temporal = %q/%q, want temporal:7233/safeguarding-prod", c.TemporalAddr, c.Namespace)
				}
				if c.BaseURL != "https://safeguarding.example.gov.uk" {
					t.Errorf("BaseURL = %q, want the trailing slash trimmed", c.BaseURL)
				}
				if c.DatabaseURL != "postgres://safeguard:safeguard@postgres:5432/safeguard?sslmode=disable" {
					t.Errorf("DatabaseURL = %q, want DATABASE_URL unchanged", c.DatabaseURL)
				}
				if c.SMTPURL != "smtp://user:pass@mailpit:1025?tls=none" || c.MailFrom != "safeguarding@example.gov.uk" {
					t.Errorf("SMTPURL/MailFrom = %q/%q, want SMTP_URL/MAIL_FROM unchanged", c.SMTPURL, c.MailFrom)
				}
			},
		},
		{
			name: "base URL defaults to http:// + SAFEGUARD_ADDR",
			vars: map[string]string{"SAFEGUARD_ADDR": "localhost:9090"},
			check: func(t *testing.T, c *Config) {
				if c.BaseURL != "http://localhost:9090" {
					t.Errorf("BaseURL = %q, want http://localhost:9090", c.BaseURL)
				}
			},
		},
		{
			name: "a wildcard listen address gives links to localhost, not to 0.0.0.0",
			vars: map[string]string{"SAFEGUARD_ADDR": "0.0.0.0:8080"},
			check: func(t *testing.T, c *Config) {
				if c.BaseURL != "http://localhost:8080" {
					t.Errorf("BaseURL = %q, want http://localhost:8080", c.BaseURL)
				}
			},
		},
		{
			name: "data dir holds the default SQLite database",
			vars: map[string]string{"SAFEGUARD_DATA_DIR": dataDir},
			check: func(t *testing.T, c *Config) {
				if c.DataDir != dataDir {
					t.Errorf("DataDir = %q, want %q", c.DataDir, dataDir)
				}
				if want := "sqlite://" + filepath.ToSlash(filepath.Join(dataDir, "safeguard.db")); c.DatabaseURL != want {
					t.Errorf("DatabaseURL = %q, want %q", c.DatabaseURL, want)
				}
			},
		},
		{
			name: "sqlite:/// database URL",
			vars: map[string]string{"DATABASE_URL": "sqlite:///var/lib/safeguard/safeguard.db"},
			check: func(t *testing.T, c *Config) {
				if c.DatabaseURL != "sqlite:///var/lib/safeguard/safeguard.db" {
					t.Errorf("DatabaseURL = %q", c.DatabaseURL)
				}
			},
		},
		{
			name: "SMTP_URL with each tls mode",
			vars: map[string]string{"SMTP_URL": "smtp://relay.example.gov.uk:465?tls=tls"},
			check: func(t *testing.T, c *Config) {
				if c.SMTPURL == "" {
					t.Error("SMTPURL is empty")
				}
			},
		},
		{
			name: "policy file that exists",
			vars: map[string]string{"SAFEGUARD_POLICY_FILE": policy},
			check: func(t *testing.T, c *Config) {
				if c.PolicyFile != policy {
					t.Errorf("PolicyFile = %q, want %q", c.PolicyFile, policy)
				}
			},
		},
		{
			name: "full OIDC set with an https issuer",
			vars: map[string]string{"OIDC_ISSUER": "https://login.example.gov.uk/realms/safeguard", "OIDC_CLIENT_ID": "safeguard", "OIDC_CLIENT_SECRET": "s3cret"},
			check: func(t *testing.T, c *Config) {
				want := OIDC{"https://login.example.gov.uk/realms/safeguard", "safeguard", "s3cret"}
				if c.OIDC == nil || *c.OIDC != want {
					t.Errorf("OIDC = %+v, want %+v", c.OIDC, want)
				}
			},
		},
		{
			name: "OIDC issuer may be http:// on loopback",
			vars: map[string]string{"OIDC_ISSUER": "http://127.0.0.1:5556/dex", "OIDC_CLIENT_ID": "safeguard", "OIDC_CLIENT_SECRET": "s3cret"},
			check: func(t *testing.T, c *Config) {
				if c.OIDC == nil {
					t.Error("OIDC is nil")
				}
			},
		},
		{
			name: "blank values count as unset",
			vars: map[string]string{"SAFEGUARD_ADDR": "  ", "TEMPORAL_ADDRESS": " ", "MAIL_FROM": "\t"},
			check: func(t *testing.T, c *Config) {
				if c.Addr != "127.0.0.1:8080" || !c.Embedded() || c.MailFrom != "safeguarding@localhost" {
					t.Errorf("blank values were not treated as unset: %+v", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.vars))
			if err != nil {
				t.Fatalf("Load(%v) failed: %v", tt.vars, err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadRejectsBadConfigurationNamingTheVariable(t *testing.T) {
	oidc := func(issuer, id, secret string) map[string]string {
		return map[string]string{"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": id, "OIDC_CLIENT_SECRET": secret}
	}
	tests := []struct {
		name    string
		vars    map[string]string
		wantVar string
	}{
		{"listen address without a port", map[string]string{"SAFEGUARD_ADDR": "nonsense"}, "SAFEGUARD_ADDR"},
		{"listen address with an empty port", map[string]string{"SAFEGUARD_ADDR": "localhost:"}, "SAFEGUARD_ADDR"},
		{"listen address with a port that is not a number is blamed on SAFEGUARD_ADDR, not the base URL", map[string]string{"SAFEGUARD_ADDR": "x:abc"}, "SAFEGUARD_ADDR"},
		{"listen address with a port out of range", map[string]string{"SAFEGUARD_ADDR": ":99999"}, "SAFEGUARD_ADDR"},
		{"Temporal address with a port that is not a number", map[string]string{"TEMPORAL_ADDRESS": "t:abc"}, "TEMPORAL_ADDRESS"},
		{"a postgres URL without a host", map[string]string{"DATABASE_URL": "postgres://"}, "DATABASE_URL"},
		{"a base URL with credentials", map[string]string{"SAFEGUARD_BASE_URL": "https://user:pw@example.org"}, "SAFEGUARD_BASE_URL"},
		{"base URL with a scheme other than http(s)", map[string]string{"SAFEGUARD_BASE_URL": "ftp://x"}, "SAFEGUARD_BASE_URL"},
		{"relative base URL", map[string]string{"SAFEGUARD_BASE_URL": "/relative"}, "SAFEGUARD_BASE_URL"},
		{"base URL with a query", map[string]string{"SAFEGUARD_BASE_URL": "https://x.example?a=b"}, "SAFEGUARD_BASE_URL"},
		{"database other than postgres or sqlite", map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL"},
		{"sqlite database URL without a path", map[string]string{"DATABASE_URL": "sqlite://"}, "DATABASE_URL"},
		{"Temporal address without a port", map[string]string{"TEMPORAL_ADDRESS": "no-port"}, "TEMPORAL_ADDRESS"},
		{"external Temporal without a payload key", map[string]string{"TEMPORAL_ADDRESS": "temporal:7233"}, "SAFEGUARD_PAYLOAD_KEY"},
		{"a payload key that is too short", map[string]string{"SAFEGUARD_PAYLOAD_KEY": "c2hvcnQ="}, "SAFEGUARD_PAYLOAD_KEY"},
		{"a payload key that is not base64", map[string]string{"SAFEGUARD_PAYLOAD_KEY": "not a key!"}, "SAFEGUARD_PAYLOAD_KEY"},
		{"Temporal namespace with spaces and punctuation", map[string]string{"TEMPORAL_NAMESPACE": "bad ns!"}, "TEMPORAL_NAMESPACE"},
		{"SMTP URL with an http scheme", map[string]string{"SMTP_URL": "http://x"}, "SMTP_URL"},
		{"SMTP URL with a port out of range", map[string]string{"SMTP_URL": "smtp://host:99999"}, "SMTP_URL"},
		{"SMTP URL with an unknown tls mode", map[string]string{"SMTP_URL": "smtp://h:25?tls=maybe"}, "SMTP_URL"},
		{"SMTP URL without a host", map[string]string{"SMTP_URL": "smtp://"}, "SMTP_URL"},
		{"sender that is not an address", map[string]string{"MAIL_FROM": "not an address"}, "MAIL_FROM"},
		{"sender with a display name", map[string]string{"MAIL_FROM": "Safeguarding <safeguarding@example.gov.uk>"}, "MAIL_FROM"},
		{"policy file that does not exist", map[string]string{"SAFEGUARD_POLICY_FILE": "/does/not/exist"}, "SAFEGUARD_POLICY_FILE"},
		{"policy file that is a directory", map[string]string{"SAFEGUARD_POLICY_FILE": os.TempDir()}, "SAFEGUARD_POLICY_FILE"},
		{"OIDC with only the issuer", oidc("https://login.example.gov.uk", "", ""), "OIDC_CLIENT_ID"},
		{"OIDC with only the client id", oidc("", "safeguard", ""), "OIDC_ISSUER"},
		{"OIDC with only the client secret", oidc("", "", "s3cret"), "OIDC_ISSUER"},
		{"OIDC without the client secret", oidc("https://login.example.gov.uk", "safeguard", ""), "OIDC_CLIENT_SECRET"},
		{"OIDC issuer over http:// to a remote host", oidc("http://example.com", "safeguard", "s3cret"), "OIDC_ISSUER"},
		{"OIDC issuer that is not a URL", oidc("login.example.gov.uk", "safeguard", "s3cret"), "OIDC_ISSUER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.vars))
			if err == nil {
				t.Fatalf("Load(%v) = %+v, want an error naming %s", tt.vars, c, tt.wantVar)
			}
			if c != nil {
				t.Errorf("Load(%v) returned a config alongside its error", tt.vars)
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load(%v) error is a %T (%v), want a *config.Error", tt.vars, err, err)
			}
			if cerr.Variable != tt.wantVar {
				t.Errorf("Load(%v) blames %s, want %s (error: %v)", tt.vars, cerr.Variable, tt.wantVar, err)
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("error message is not a single line: %q", msg)
			}
			if !strings.Contains(msg, tt.wantVar) {
				t.Errorf("error message %q does not name %s", msg, tt.wantVar)
			}
			if cerr.Problem == "" {
				t.Errorf("error for %s says nothing about what is wrong: %q", tt.wantVar, msg)
			}
		})
	}
}

func TestLoadErrorsNeverEchoSecrets(t *testing.T) {
	for _, vars := range []map[string]string{
		{"DATABASE_URL": "mysql://admin:hunter2@db/x"},
		{"SMTP_URL": "smtps://user:hunter2@relay:465"},
		{"OIDC_ISSUER": "http://example.com", "OIDC_CLIENT_ID": "id", "OIDC_CLIENT_SECRET": "hunter2"},
	} {
		_, err := Load(env(vars))
		if err == nil {
			t.Fatalf("Load(%v) succeeded, want an error", vars)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %q repeats a password from the environment", err)
		}
	}
}

func TestKnownIsExactlyTheVariables(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range append(Variables[:len(Variables):len(Variables)], Extensions...) {
		if seen[v.Name] {
			t.Errorf("Variables lists %s twice", v.Name)
		}
		seen[v.Name] = true
		if !Known(v.Name) {
			t.Errorf("Known(%q) = false for a listed variable", v.Name)
		}
		if v.Meaning == "" || v.Default == "" {
			t.Errorf("Variables: %s has no meaning or default to document", v.Name)
		}
	}
	for _, name := range []string{"", "PORT", "safeguard_addr", "SAFEGUARD_ADDR ", "DATABASE"} {
		if Known(name) {
			t.Errorf("Known(%q) = true for a name outside the contract", name)
		}
	}
}

// designPath is DESIGN.md as seen from this package directory (/work/shared/DESIGN.md from
// /work/main/config).
const designPath = "../../shared/DESIGN.md"

var backticked = regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")

// designVariables returns the variable names in the first column of DESIGN.md's
// "Configuration (environment)" table.
func designVariables(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(designPath)
	if errors.Is(err, os.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found: CI must check the configuration contract against DESIGN.md", designPath)
		}
		t.Skipf("%s not found (the shared design is not checked out next to this module); skipping the contract check", designPath)
	}
	if err != nil {
		t.Fatalf("cannot read %s: %v", designPath, err)
	}
	var names []string
	inSection := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			inSection = strings.HasPrefix(line, "## Configuration")
			continue
		}
		if !inSection || !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			names = append(names, m[1])
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s: found no variables in the table under \"## Configuration\"; has its format changed?", designPath)
	}
	return names
}

func TestEveryDesignConfigurationVariableIsInVariables(t *testing.T) {
	for _, name := range designVariables(t) {
		if !Known(name) {
			t.Errorf("DESIGN.md's configuration table lists %s, but config.Variables does not", name)
		}
	}
}

// Extensions stay apart from the contract: named for this service, never one of DESIGN.md's.
func TestExtensionsAreOursAndOutsideTheContract(t *testing.T) {
	design := map[string]bool{}
	for _, name := range designVariables(t) {
		design[name] = true
	}
	for _, v := range Extensions {
		if design[v.Name] {
			t.Errorf("%s is in DESIGN.md's table: list it in Variables, not Extensions", v.Name)
		}
		if !strings.HasPrefix(v.Name, "SAFEGUARD_") {
			t.Errorf("extension %s must be named SAFEGUARD_…", v.Name)
		}
	}
}

func TestEveryVariableIsInTheDesignConfigurationTable(t *testing.T) {
	design := map[string]bool{}
	for _, name := range designVariables(t) {
		design[name] = true
	}
	for _, v := range Variables {
		if !design[v.Name] {
			t.Errorf("config.Variables lists %s, which DESIGN.md's configuration table does not: it is not part of the contract", v.Name)
		}
	}
}
