package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// These tests hold docker-compose.yml, the Dockerfile and .dockerignore (at the module root) to
// the external contract: DESIGN.md's "Shape" (which services the scaled stack has) and
// "Configuration" (config.Variables: the only variables safeguard reads).

const (
	composePath      = "../docker-compose.yml"
	dockerfilePath   = "../Dockerfile"
	dockerignorePath = "../.dockerignore"
	moduleRoot       = ".."
)

// designServices are the services DESIGN.md ("Shape") says docker-compose.yml brings up, plus the
// one-shot jobs this stack uses for Temporal's schema and namespace and for safeguard's migrations.
var designServices = []string{
	"postgres",
	"temporal-schema",    // Temporal's databases and schema (DESIGN.md: "temporal (+ schema setup + namespace)")
	"temporal",           // the external Temporal cluster
	"temporal-namespace", // the `default` namespace
	"temporal-ui",
	"mailpit",
	"safeguard-migrate", // `safeguard migrate` before api and workers start
	"safeguard-api",
	"safeguard-worker",
}

// safeguardCommands is the CLI command (DESIGN.md, "CLI") each safeguard service must run.
var safeguardCommands = map[string]string{
	"safeguard-migrate": "migrate",
	"safeguard-api":     "api",
	"safeguard-worker":  "worker",
}

// longRunningSafeguard are the safeguard services that talk to Temporal, not just to the database.
var longRunningSafeguard = []string{"safeguard-api", "safeguard-worker"}

type composeFile struct {
	Services map[string]map[string]any
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatalf("cannot read %s: %v", composePath, err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s is not valid YAML: %v", composePath, err)
	}
	raw, ok := doc["services"].(map[string]any)
	if !ok || len(raw) == 0 {
		t.Fatalf("%s has no `services:` mapping", composePath)
	}
	cf := composeFile{Services: map[string]map[string]any{}}
	for name, v := range raw {
		svc, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: service %q is a %T, want a mapping", composePath, name, v)
		}
		cf.Services[name] = svc
	}
	return cf
}

func (cf composeFile) service(t *testing.T, name string) map[string]any {
	t.Helper()
	svc, ok := cf.Services[name]
	if !ok {
		t.Fatalf("%s has no service %q (services: %s)", composePath, name, strings.Join(cf.names(), ", "))
	}
	return svc
}

func (cf composeFile) names() []string {
	names := make([]string, 0, len(cf.Services))
	for n := range cf.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// safeguardServices are the services whose name starts with "safeguard-".
func (cf composeFile) safeguardServices() []string {
	var names []string
	for _, n := range cf.names() {
		if strings.HasPrefix(n, "safeguard-") {
			names = append(names, n)
		}
	}
	return names
}

var interpolation = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?]([^}]*))?\}`)

// interpolate resolves compose variable references the way `docker compose` does when none of the
// referenced variables is set in the host environment: ${X:-default} and ${X-default} give
// default, ${X} gives "", and $$ is a literal $.
func interpolate(s string) string {
	return interpolation.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := interpolation.FindStringSubmatch(m)
		if strings.Contains(m, "-") {
			return sub[2]
		}
		return ""
	})
}

// environment returns a service's environment, in either compose form (mapping or "K=V" list).
func environment(t *testing.T, service string, svc map[string]any) map[string]string {
	t.Helper()
	env := map[string]string{}
	switch e := svc["environment"].(type) {
	case nil:
	case map[string]any:
		for k, v := range e {
			if v == nil {
				env[k] = ""
				continue
			}
			env[k] = interpolate(fmt.Sprint(v))
		}
	case []any:
		for _, item := range e {
			s := fmt.Sprint(item)
			k, v, _ := strings.Cut(s, "=")
			env[k] = interpolate(v)
		}
	default:
		t.Fatalf("%s: service %q: environment is a %T, want a mapping or a list of KEY=value", composePath, service, e)
	}
	return env
}

// command returns a service's command as arguments (a string command is split on spaces).
func command(svc map[string]any) []string {
	switch c := svc["command"].(type) {
	case string:
		return strings.Fields(c)
	case []any:
		args := make([]string, len(c))
		for i, a := range c {
			args[i] = fmt.Sprint(a)
		}
		return args
	}
	return nil
}

// dependsOn returns a service's dependencies and the condition each waits for.
func dependsOn(t *testing.T, service string, svc map[string]any) map[string]string {
	t.Helper()
	deps := map[string]string{}
	switch d := svc["depends_on"].(type) {
	case nil:
	case []any:
		for _, n := range d {
			deps[fmt.Sprint(n)] = "service_started"
		}
	case map[string]any:
		for n, v := range d {
			cond := "service_started"
			if m, ok := v.(map[string]any); ok && m["condition"] != nil {
				cond = fmt.Sprint(m["condition"])
			}
			deps[n] = cond
		}
	default:
		t.Fatalf("%s: service %q: depends_on is a %T, want a list or a mapping", composePath, service, d)
	}
	return deps
}

func TestComposeDefinesEveryServiceOfTheDesign(t *testing.T) {
	cf := loadCompose(t)
	for _, name := range designServices {
		if _, ok := cf.Services[name]; !ok {
			t.Errorf("%s has no service %q, which the scaled stack needs (services: %s)", composePath, name, strings.Join(cf.names(), ", "))
		}
	}
}

// The other tests rely on gopkg.in/yaml.v3 resolving `<<: *anchor` merge keys while decoding.
func TestComposeMergeKeysAreResolvedWhenParsed(t *testing.T) {
	cf := loadCompose(t)
	for _, name := range cf.names() {
		if _, ok := cf.Services[name]["<<"]; ok {
			t.Errorf("%s: service %q still has a literal `<<` key after decoding: merge keys were not resolved, so its inherited settings are invisible to these tests", composePath, name)
		}
	}
}

func TestComposeSafeguardServicesUseOnlyContractVariables(t *testing.T) {
	cf := loadCompose(t)
	for _, name := range cf.safeguardServices() {
		env := environment(t, name, cf.Services[name])
		if len(env) == 0 {
			t.Errorf("%s: service %q has no environment; it must be configured through the contract's variables (DATABASE_URL, TEMPORAL_ADDRESS, SMTP_URL, …)", composePath, name)
		}
		for k := range env {
			if !Known(k) {
				t.Errorf("%s: service %q sets %s, which is not a variable of the configuration contract (config.Variables / DESIGN.md \"Configuration\")", composePath, name, k)
			}
		}
	}
}

func TestComposeSafeguardServicesEnvironmentPassesLoad(t *testing.T) {
	cf := loadCompose(t)
	for _, name := range cf.safeguardServices() {
		t.Run(name, func(t *testing.T) {
			env := environment(t, name, cf.Services[name])
			c, err := Load(func(k string) string { return env[k] })
			if err != nil {
				t.Fatalf("%s: service %q: its environment does not pass config.Load: %v", composePath, name, err)
			}
			if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				t.Errorf("%s: service %q: DATABASE_URL is %q, want a postgres:// URL at scale", composePath, name, c.DatabaseURL)
			}
			if c.Embedded() {
				t.Errorf("%s: service %q: TEMPORAL_ADDRESS is unset, so it would run an embedded Temporal server instead of using the `temporal` service", composePath, name)
			}
			if c.SMTPURL == "" {
				t.Errorf("%s: service %q: SMTP_URL is unset, so mail would stay in the outbox instead of going to the `mailpit` service", composePath, name)
			}
		})
	}
}

func TestComposeSafeguardServicesRunTheirCommand(t *testing.T) {
	cf := loadCompose(t)
	for service, want := range safeguardCommands {
		svc := cf.service(t, service)
		got := command(svc)
		if len(got) == 0 || got[0] != want {
			t.Errorf("%s: service %q runs command %q, want `safeguard %s` (command: [%q])", composePath, service, got, want, want)
		}
	}
}

func TestComposeSafeguardServicesAreBuiltFromTheDockerfile(t *testing.T) {
	cf := loadCompose(t)
	for _, name := range cf.safeguardServices() {
		context, dockerfile := "", "Dockerfile"
		switch b := cf.Services[name]["build"].(type) {
		case string:
			context = b
		case map[string]any:
			context = fmt.Sprint(b["context"])
			if b["dockerfile"] != nil {
				dockerfile = fmt.Sprint(b["dockerfile"])
			}
		default:
			t.Errorf("%s: service %q has no `build:`; it must be built from the module's Dockerfile", composePath, name)
			continue
		}
		if path.Clean(context) != "." || path.Clean(dockerfile) != "Dockerfile" {
			t.Errorf("%s: service %q builds %s from context %q, want ./Dockerfile from context \".\"", composePath, name, dockerfile, context)
		}
	}
}

// configuredHosts returns the host each of DATABASE_URL, TEMPORAL_ADDRESS and SMTP_URL points at.
func configuredHosts(t *testing.T, env map[string]string) map[string]string {
	t.Helper()
	hosts := map[string]string{}
	if v := env["DATABASE_URL"]; v != "" {
		if u, err := url.Parse(v); err == nil {
			hosts["DATABASE_URL"] = u.Hostname()
		}
	}
	if v := env["TEMPORAL_ADDRESS"]; v != "" {
		if h, _, err := net.SplitHostPort(v); err == nil {
			hosts["TEMPORAL_ADDRESS"] = h
		}
	}
	if v := env["SMTP_URL"]; v != "" {
		if u, err := url.Parse(v); err == nil {
			hosts["SMTP_URL"] = u.Hostname()
		}
	}
	return hosts
}

func TestComposeConfiguredHostsAreServicesOfTheFile(t *testing.T) {
	cf := loadCompose(t)
	want := map[string]string{"DATABASE_URL": "postgres", "TEMPORAL_ADDRESS": "temporal", "SMTP_URL": "mailpit"}
	for _, name := range cf.safeguardServices() {
		hosts := configuredHosts(t, environment(t, name, cf.Services[name]))
		for _, variable := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "SMTP_URL"} {
			host, ok := hosts[variable]
			switch {
			case !ok:
				t.Errorf("%s: service %q: %s is unset or has no host", composePath, name, variable)
			case cf.Services[host] == nil:
				t.Errorf("%s: service %q: %s points at host %q, which is not a service of the file (want %q)", composePath, name, variable, host, want[variable])
			case host != want[variable]:
				t.Errorf("%s: service %q: %s points at service %q, want %q", composePath, name, variable, host, want[variable])
			}
		}
	}
}

func TestComposeDatabaseURLMatchesThePostgresService(t *testing.T) {
	cf := loadCompose(t)
	pg := environment(t, "postgres", cf.service(t, "postgres"))
	for _, name := range cf.safeguardServices() {
		raw := environment(t, name, cf.Services[name])["DATABASE_URL"]
		u, err := url.Parse(raw)
		if err != nil || u.User == nil {
			t.Errorf("%s: service %q: DATABASE_URL %q names no user", composePath, name, raw)
			continue
		}
		pass, _ := u.User.Password()
		if u.User.Username() != pg["POSTGRES_USER"] || pass != pg["POSTGRES_PASSWORD"] {
			t.Errorf("%s: service %q: DATABASE_URL signs in as %q with password %q, but the postgres service creates user %q with password %q", composePath, name, u.User.Username(), pass, pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"])
		}
		if db := strings.TrimPrefix(u.Path, "/"); db != pg["POSTGRES_DB"] {
			t.Errorf("%s: service %q: DATABASE_URL names database %q, but the postgres service creates %q (POSTGRES_DB)", composePath, name, db, pg["POSTGRES_DB"])
		}
		if p := u.Port(); p != "" && p != "5432" {
			t.Errorf("%s: service %q: DATABASE_URL uses port %s, but postgres listens on 5432 inside the network", composePath, name, p)
		}
	}
}

func TestComposeSafeguardServicesDependOnPostgresAndTemporal(t *testing.T) {
	cf := loadCompose(t)
	for _, name := range cf.safeguardServices() {
		deps := dependsOn(t, name, cf.Services[name])
		if deps["postgres"] != "service_healthy" {
			t.Errorf("%s: service %q must depend on postgres with condition service_healthy (got %q)", composePath, name, deps["postgres"])
		}
		if !slices.Contains(longRunningSafeguard, name) {
			continue
		}
		if _, ok := deps["temporal"]; !ok {
			t.Errorf("%s: service %q must depend on temporal", composePath, name)
		}
		if deps["temporal-namespace"] != "service_completed_successfully" {
			t.Errorf("%s: service %q must wait for temporal-namespace to complete (condition service_completed_successfully), got %q", composePath, name, deps["temporal-namespace"])
		}
		if deps["safeguard-migrate"] != "service_completed_successfully" {
			t.Errorf("%s: service %q must wait for safeguard-migrate to complete (condition service_completed_successfully), got %q", composePath, name, deps["safeguard-migrate"])
		}
	}
}

func TestComposeTemporalRunsOnPostgresAfterItsSchemaJob(t *testing.T) {
	cf := loadCompose(t)
	temporal := cf.service(t, "temporal")
	env := environment(t, "temporal", temporal)
	for k, want := range map[string]string{"DB": "postgres12", "SKIP_SCHEMA_SETUP": "true"} {
		if env[k] != want {
			t.Errorf("%s: service temporal: %s is %q, want %q", composePath, k, env[k], want)
		}
	}
	for _, k := range []string{"DB_PORT", "POSTGRES_USER", "POSTGRES_PWD", "POSTGRES_SEEDS"} {
		if env[k] == "" {
			t.Errorf("%s: service temporal: %s is not set", composePath, k)
		}
	}
	if seeds := env["POSTGRES_SEEDS"]; seeds != "" && cf.Services[seeds] == nil {
		t.Errorf("%s: service temporal: POSTGRES_SEEDS is %q, which is not a service of the file", composePath, seeds)
	}
	if c := dependsOn(t, "temporal", temporal)["temporal-schema"]; c != "service_completed_successfully" {
		t.Errorf("%s: service temporal must depend on temporal-schema with condition service_completed_successfully (got %q)", composePath, c)
	}
	schema := strings.Join(command(cf.service(t, "temporal-schema")), " ")
	for _, want := range []string{"--plugin postgres12", "setup-schema", "update-schema", "--db temporal ", "--db temporal_visibility "} {
		if !strings.Contains(schema, want) {
			t.Errorf("%s: service temporal-schema: its command does not contain %q", composePath, want)
		}
	}
	ns := strings.Join(command(cf.service(t, "temporal-namespace")), " ")
	if !strings.Contains(ns, "temporal operator namespace create") || !strings.Contains(ns, "--namespace default") {
		t.Errorf("%s: service temporal-namespace: its command does not run `temporal operator namespace create --namespace default`", composePath)
	}
}

func TestComposeDependenciesAreServicesWithTheConditionTheyNeed(t *testing.T) {
	cf := loadCompose(t)
	for _, name := range cf.names() {
		for dep, cond := range dependsOn(t, name, cf.Services[name]) {
			target, ok := cf.Services[dep]
			if !ok {
				t.Errorf("%s: service %q depends on %q, which is not a service of the file", composePath, name, dep)
				continue
			}
			switch cond {
			case "service_started":
			case "service_healthy":
				if target["healthcheck"] == nil {
					t.Errorf("%s: service %q waits for %q to be healthy, but %q has no healthcheck", composePath, name, dep, dep)
				}
			case "service_completed_successfully":
				if r, ok := target["restart"]; ok && fmt.Sprint(r) != "no" {
					t.Errorf("%s: service %q waits for %q to complete, but %q has restart: %v; a one-shot job must not restart, or compose sees it fail or never finish", composePath, name, dep, dep, r)
				}
			default:
				t.Errorf("%s: service %q depends on %q with unknown condition %q", composePath, name, dep, cond)
			}
		}
	}
}

func TestComposeAPIPublishesItsListenPort(t *testing.T) {
	cf := loadCompose(t)
	api := cf.service(t, "safeguard-api")
	_, port, err := net.SplitHostPort(environment(t, "safeguard-api", api)["SAFEGUARD_ADDR"])
	if err != nil {
		t.Fatalf("%s: service safeguard-api: SAFEGUARD_ADDR is not host:port: %v", composePath, err)
	}
	ports, _ := api["ports"].([]any)
	for _, p := range ports {
		s := strings.TrimSuffix(fmt.Sprint(p), "/tcp")
		if s == port || strings.HasSuffix(s, ":"+port) {
			return
		}
	}
	t.Errorf("%s: service safeguard-api listens on port %s (SAFEGUARD_ADDR) but publishes %v, none of which maps to it", composePath, port, ports)
}

// dockerStage is one stage of the parsed Dockerfile, with its instructions.
type dockerStage struct {
	Name, Image string
	Index       int
	Lines       []dockerLine
}

type dockerLine struct{ Instruction, Args string }

func loadDockerfile(t *testing.T) []dockerStage {
	t.Helper()
	b, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatalf("cannot read %s: %v", dockerfilePath, err)
	}
	var stages []dockerStage
	var logical strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	flush := func() {
		line := strings.TrimSpace(logical.String())
		logical.Reset()
		if line == "" {
			return
		}
		instr, args, _ := strings.Cut(line, " ")
		instr, args = strings.ToUpper(instr), strings.TrimSpace(args)
		if instr == "FROM" {
			f := strings.Fields(args)
			st := dockerStage{Index: len(stages)}
			for _, w := range f {
				if !strings.HasPrefix(w, "--") {
					st.Image = w
					break
				}
			}
			if n := len(f); n >= 3 && strings.EqualFold(f[n-2], "AS") {
				st.Name = f[n-1]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) == 0 {
			if instr != "ARG" {
				t.Fatalf("%s: %s before the first FROM", dockerfilePath, instr)
			}
			return
		}
		stages[len(stages)-1].Lines = append(stages[len(stages)-1].Lines, dockerLine{instr, args})
	}
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && logical.Len() > 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			logical.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		logical.WriteString(trimmed)
		flush()
	}
	flush()
	if len(stages) == 0 {
		t.Fatalf("%s has no FROM", dockerfilePath)
	}
	return stages
}

func (s dockerStage) all(instr string) []string {
	var out []string
	for _, l := range s.Lines {
		if l.Instruction == instr {
			out = append(out, l.Args)
		}
	}
	return out
}

func (s dockerStage) refersTo(ref string) bool {
	return ref == s.Name || ref == fmt.Sprint(s.Index)
}

// execForm parses a JSON-array (exec form) instruction argument.
func execForm(args string) ([]string, bool) {
	var out []string
	if err := json.Unmarshal([]byte(args), &out); err != nil {
		return nil, false
	}
	return out, true
}

func TestDockerfileBuildsCmdSafeguardIntoTheFinalImage(t *testing.T) {
	stages := loadDockerfile(t)
	final := stages[len(stages)-1]
	var built *dockerStage
	var out string
	for i := range stages[:len(stages)-1] {
		for _, run := range stages[i].all("RUN") {
			f := strings.Fields(run)
			if !strings.Contains(run, "go build") || !slices.Contains(f, "./cmd/safeguard") {
				continue
			}
			built = &stages[i]
			if j := slices.Index(f, "-o"); j >= 0 && j+1 < len(f) {
				out = f[j+1]
			}
		}
	}
	if built == nil {
		t.Fatalf("%s: no build stage runs `go build … ./cmd/safeguard`", dockerfilePath)
	}
	if out == "" {
		t.Fatalf("%s: `go build … ./cmd/safeguard` in stage %q has no `-o` output path", dockerfilePath, built.Name)
	}
	cgoOff := false
	for _, l := range built.Lines {
		if (l.Instruction == "ENV" || l.Instruction == "RUN" || l.Instruction == "ARG") && strings.Contains(l.Args, "CGO_ENABLED=0") {
			cgoOff = true
		}
	}
	if !cgoOff {
		t.Errorf("%s: stage %q does not set CGO_ENABLED=0, so the binary may not run on a static (distroless) final image", dockerfilePath, built.Name)
	}
	var dest string
	for _, cp := range final.all("COPY") {
		f := strings.Fields(cp)
		var from string
		var rest []string
		for _, w := range f {
			if v, ok := strings.CutPrefix(w, "--from="); ok {
				from = v
			} else if !strings.HasPrefix(w, "--") {
				rest = append(rest, w)
			}
		}
		if built.refersTo(from) && len(rest) == 2 && rest[0] == out {
			dest = rest[1]
		}
	}
	if dest == "" {
		t.Fatalf("%s: the final stage (FROM %s) does not COPY --from=%s %s, the binary built from ./cmd/safeguard", dockerfilePath, final.Image, built.Name, out)
	}
	entry := final.all("ENTRYPOINT")
	if len(entry) == 0 {
		t.Fatalf("%s: the final stage has no ENTRYPOINT", dockerfilePath)
	}
	args, ok := execForm(entry[len(entry)-1])
	if !ok || len(args) == 0 || args[0] != dest {
		t.Errorf("%s: the final stage's ENTRYPOINT is %s, want [%q] (exec form, the copied binary)", dockerfilePath, entry[len(entry)-1], dest)
	}
}

func TestDockerfileFinalStageRunsAsNonRoot(t *testing.T) {
	stages := loadDockerfile(t)
	final := stages[len(stages)-1]
	users := final.all("USER")
	if len(users) == 0 {
		if !strings.HasSuffix(final.Image, ":nonroot") && !strings.Contains(final.Image, ":nonroot-") && !strings.Contains(final.Image, ":debug-nonroot") {
			t.Errorf("%s: the final stage (FROM %s) has no USER instruction and its base image is not a :nonroot image, so it runs as root", dockerfilePath, final.Image)
		}
		return
	}
	user, _, _ := strings.Cut(users[len(users)-1], ":")
	if user == "root" || user == "0" || user == "" {
		t.Errorf("%s: the final stage (FROM %s) runs as %q; it must run as a non-root user", dockerfilePath, final.Image, users[len(users)-1])
	}
}

func TestDockerfileFinalStageUsesOnlyContractVariablesAndKeepsDataInAVolume(t *testing.T) {
	stages := loadDockerfile(t)
	final := stages[len(stages)-1]
	env := map[string]string{}
	for _, e := range final.all("ENV") {
		for _, kv := range strings.Fields(e) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Errorf("%s: use the ENV key=value form (got %q)", dockerfilePath, e)
				continue
			}
			env[k] = strings.Trim(v, `"`)
		}
	}
	for k := range env {
		if !Known(k) {
			t.Errorf("%s: the final stage sets %s, which is not a variable of the configuration contract", dockerfilePath, k)
		}
	}
	if _, err := Load(func(k string) string { return env[k] }); err != nil {
		t.Errorf("%s: the final stage's ENV does not pass config.Load: %v", dockerfilePath, err)
	}
	dataDir := env["SAFEGUARD_DATA_DIR"]
	if dataDir == "" || !filepath.IsAbs(dataDir) {
		t.Fatalf("%s: the final stage must set SAFEGUARD_DATA_DIR to an absolute path (got %q)", dockerfilePath, dataDir)
	}
	var volumes []string
	for _, v := range final.all("VOLUME") {
		if arr, ok := execForm(v); ok {
			volumes = append(volumes, arr...)
		} else {
			volumes = append(volumes, strings.Fields(v)...)
		}
	}
	if !slices.Contains(volumes, dataDir) {
		t.Errorf("%s: SAFEGUARD_DATA_DIR is %s but the final stage declares VOLUME %v; the embedded databases would be lost with the container", dockerfilePath, dataDir, volumes)
	}
}

// dockerignorePatterns reads .dockerignore: one pattern a line, "#" comments, "!" re-includes.
func dockerignorePatterns(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dockerignorePath)
	if err != nil {
		t.Fatalf("cannot read %s: %v", dockerignorePath, err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// globMatch matches a slash-separated path against a .dockerignore pattern: path.Match syntax,
// plus "**" for any number of directories.
func globMatch(pattern, name string) bool {
	if !strings.Contains(pattern, "**") {
		ok, _ := path.Match(pattern, name)
		return ok
	}
	var re strings.Builder
	re.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '*' && i+1 < len(pattern) && pattern[i+1] == '*':
			i++
			if i+1 < len(pattern) && pattern[i+1] == '/' {
				i++
				re.WriteString("(.*/)?")
			} else {
				re.WriteString(".*")
			}
		case c == '*':
			re.WriteString("[^/]*")
		case c == '?':
			re.WriteString("[^/]")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	ok, _ := regexp.MatchString(re.String(), name)
	return ok
}

// dockerignored reports whether .dockerignore leaves rel (slash-separated, relative to the build
// context) out of the build context: the last matching pattern wins, and a pattern that matches
// a parent directory matches everything under it (as moby/patternmatcher does).
func dockerignored(patterns []string, rel string) bool {
	ignored := false
	parts := strings.Split(rel, "/")
	for _, p := range patterns {
		negate := strings.HasPrefix(p, "!")
		p = path.Clean(strings.TrimPrefix(strings.TrimPrefix(p, "!"), "/"))
		for i := len(parts); i >= 1; i-- {
			if globMatch(p, strings.Join(parts[:i], "/")) {
				ignored = !negate
				break
			}
		}
	}
	return ignored
}

func TestDockerignoreMatcher(t *testing.T) {
	patterns := []string{".git", "data/*", "!data/*.csv", "**/*.tmp"}
	for rel, want := range map[string]bool{
		".git/config":       true,
		"data/safeguard.db": true,
		"data/temporal/x":   true,
		"data/prisons.csv":  false,
		"go.mod":            false,
		"a/b/c.tmp":         true,
		"cmd/safeguard/x":   false,
	} {
		if got := dockerignored(patterns, rel); got != want {
			t.Errorf("dockerignored(%q) = %v, want %v", rel, got, want)
		}
	}
}

var embedDirective = regexp.MustCompile(`^//go:embed\s+(.+)$`)

// embeddedFiles lists, relative to the module root, every file a //go:embed directive in the
// module's Go packages names.
func embeddedFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(moduleRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			n := d.Name()
			if p != moduleRoot && (strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "testdata" || n == "node_modules" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(src), "\n") {
			m := embedDirective.FindStringSubmatch(strings.TrimSpace(line))
			if m == nil {
				continue
			}
			for _, pat := range strings.Fields(m[1]) {
				pat = strings.TrimPrefix(strings.Trim(pat, "\"`"), "all:")
				matches, _ := filepath.Glob(filepath.Join(filepath.Dir(p), filepath.FromSlash(pat)))
				if len(matches) == 0 {
					t.Errorf("%s: //go:embed %s matches nothing", p, pat)
				}
				for _, match := range matches {
					_ = filepath.WalkDir(match, func(f string, d fs.DirEntry, err error) error {
						if err == nil && !d.IsDir() {
							rel, _ := filepath.Rel(moduleRoot, f)
							files = append(files, filepath.ToSlash(rel))
						}
						return err
					})
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking the module: %v", err)
	}
	return files
}

func TestDockerignoreKeepsEverythingTheBuildNeeds(t *testing.T) {
	patterns := dockerignorePatterns(t)
	for _, rel := range []string{"go.mod", "go.sum", "cmd/safeguard/main.go", "Dockerfile"} {
		if dockerignored(patterns, rel) {
			t.Errorf("%s excludes %s, which `go build ./cmd/safeguard` needs", dockerignorePath, rel)
		}
	}
	embedded := embeddedFiles(t)
	for _, rel := range embedded {
		if dockerignored(patterns, rel) {
			t.Errorf("%s excludes %s, which is embedded in the binary (//go:embed): the image build would fail", dockerignorePath, rel)
		}
	}
	t.Logf("checked %d embedded files", len(embedded))
}

func TestDockerignoreExcludesLocalState(t *testing.T) {
	patterns := dockerignorePatterns(t)
	for _, rel := range []string{".git/HEAD", "data/safeguard.db", "test-output/report.txt", "node_modules/x/package.json"} {
		if !dockerignored(patterns, rel) {
			t.Errorf("%s does not exclude %s: local state or tooling would be sent into the build context", dockerignorePath, rel)
		}
	}
}
