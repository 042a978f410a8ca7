// Package clienttest finds and runs the real package-manager clients (npm,
// pnpm, yarn 1, yarn 4, bun) that end-to-end tests drive, in an isolated
// environment: a fresh HOME, cache and config per test, so a test never
// reads or writes the machine's npm configuration or caches, and never
// reaches a registry other than the one it names.
//
// scripts/install-clients.sh installs the clients; .ci/run calls it and
// sets VIGIL_REQUIRE_CLIENTS=1, so in CI a missing client fails the test
// instead of skipping it.
package clienttest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Client names.
const (
	NPM   = "npm"
	PNPM  = "pnpm"
	Yarn1 = "yarn1"
	Yarn4 = "yarn4"
	Bun   = "bun"
)

// Dir is where scripts/install-clients.sh puts the clients.
func Dir() string {
	if d := os.Getenv("VIGIL_CLIENTS_DIR"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "vigil", "clients")
}

// Path returns the client's executable, or "" when it is not installed.
func Path(name string) string {
	if name == NPM {
		p, err := exec.LookPath("npm")
		if err != nil {
			return ""
		}
		return p
	}
	bin := map[string]string{PNPM: "pnpm", Yarn1: "yarn", Yarn4: "yarn", Bun: "bun"}[name]
	if bin == "" {
		return ""
	}
	p := filepath.Join(Dir(), name, "node_modules", ".bin", bin)
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return ""
	}
	return p
}

// Require returns the client's path, skipping the test when the client
// is not installed — or failing it when VIGIL_REQUIRE_CLIENTS is set.
func Require(t testing.TB, name string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, "node is not on PATH")
	}
	p := Path(name)
	if p == "" {
		missing(t, name+" is not installed (run scripts/install-clients.sh)")
	}
	return p
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("VIGIL_REQUIRE_CLIENTS") != "" {
		t.Fatalf("%s, and VIGIL_REQUIRE_CLIENTS is set", why)
	}
	t.Skip(why)
}

// Env is an isolated environment for running clients against one
// registry.
type Env struct {
	// Home is a fresh HOME; Cache a fresh package cache.
	Home, Cache string
	// Registry is the registry URL every client is pointed at; empty for
	// an environment from NewEnvWithoutRegistry.
	Registry string
	vars     []string
}

// deadProxy is where requests to anything but loopback go: a port nothing
// listens on, so a client that was not pointed at the test's registry
// fails at once instead of reaching (or waiting for) the internet.
const deadProxy = "http://127.0.0.1:9"

// NewEnv makes an isolated environment whose clients use registry. Every
// client's user config lives under a temporary HOME; caches are fresh.
func NewEnv(t testing.TB, registry string) *Env {
	t.Helper()
	if registry == "" {
		t.Fatal("clienttest.NewEnv: no registry (NewEnvWithoutRegistry is the environment without one)")
	}
	return newEnv(t, registry)
}

// NewEnvWithoutRegistry makes an isolated environment that names no
// registry at all — no registry variables, no registry in the user
// config, no http allowance for yarn — so the project's own .npmrc,
// .yarnrc.yml or bunfig.toml alone decides where clients go (the README
// snippets' tests). Requests that do not go to 127.0.0.1 or localhost
// fail: the environment's HTTP(S) proxy is a closed port.
func NewEnvWithoutRegistry(t testing.TB) *Env {
	t.Helper()
	return newEnv(t, "")
}

func newEnv(t testing.TB, registry string) *Env {
	t.Helper()
	root := t.TempDir()
	e := &Env{Home: filepath.Join(root, "home"), Cache: filepath.Join(root, "cache"), Registry: registry}
	for _, d := range []string{e.Home, e.Cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	npmrc := filepath.Join(e.Home, ".npmrc")
	userConfig := ""
	if registry != "" {
		userConfig = "registry=" + registry + "\n"
	}
	if err := os.WriteFile(npmrc, []byte(userConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	e.vars = []string{
		"HOME=" + e.Home,
		"USERPROFILE=" + e.Home,
		"XDG_CONFIG_HOME=" + filepath.Join(e.Home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(e.Cache, "xdg"),
		"XDG_DATA_HOME=" + filepath.Join(e.Home, ".local", "share"),
		"PATH=" + os.Getenv("PATH"),
		"TMPDIR=" + root,
		"CI=1", // no progress bars, no interactive prompts
		"NO_COLOR=1",
		"HTTP_PROXY=" + deadProxy,
		"HTTPS_PROXY=" + deadProxy,
		"http_proxy=" + deadProxy,
		"https_proxy=" + deadProxy,
		"NO_PROXY=127.0.0.1,localhost",
		"no_proxy=127.0.0.1,localhost",
		"npm_config_userconfig=" + npmrc,
		"npm_config_globalconfig=" + filepath.Join(e.Home, "npmrc-global"),
		"npm_config_cache=" + filepath.Join(e.Cache, "npm"),
		"npm_config_audit=false",
		"npm_config_fund=false",
		"npm_config_update_notifier=false",
		"npm_config_ignore_scripts=true",
		"npm_config_fetch_retries=0", // npm and pnpm: fail fast
		"npm_config_store_dir=" + filepath.Join(e.Cache, "pnpm-store"),
		"YARN_CACHE_FOLDER=" + filepath.Join(e.Cache, "yarn1"),
		"YARN_ENABLE_GLOBAL_CACHE=false",
		"YARN_GLOBAL_FOLDER=" + filepath.Join(e.Cache, "yarn4-global"),
		"YARN_ENABLE_TELEMETRY=0",
		"YARN_ENABLE_IMMUTABLE_INSTALLS=false",
		"YARN_ENABLE_PROGRESS_BARS=false",
		"YARN_ENABLE_SCRIPTS=false",
		"YARN_HTTP_RETRY=0",
		"BUN_INSTALL_CACHE_DIR=" + filepath.Join(e.Cache, "bun"),
		"BUN_CONFIG_HTTP_RETRY_COUNT=0",
		"DO_NOT_TRACK=1",
	}
	if registry != "" {
		e.vars = append(e.vars,
			"npm_config_registry="+registry,
			"NPM_CONFIG_REGISTRY="+registry,
			"YARN_REGISTRY="+registry,
			"YARN_NPM_REGISTRY_SERVER="+registry,
			"YARN_UNSAFE_HTTP_WHITELIST=127.0.0.1",
			"BUN_CONFIG_REGISTRY="+registry,
		)
	}
	return e
}

// Set adds the variable name=value to the environment, replacing an
// earlier value.
func (e *Env) Set(name, value string) {
	for i, kv := range e.vars {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			e.vars[i] = name + "=" + value
			return
		}
	}
	e.vars = append(e.vars, name+"="+value)
}

// Vars returns the environment's variables (name=value).
func (e *Env) Vars() []string { return append([]string(nil), e.vars...) }

// Result is one client run.
type Result struct {
	Output string // stdout and stderr, interleaved
	Err    error  // nil when the exit status was 0
}

// Run runs the client with args in dir, bounded by timeout.
func (e *Env) Run(t testing.TB, dir string, timeout time.Duration, client string, args ...string) Result {
	t.Helper()
	bin := Require(t, client)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = e.vars
	// A client's children (node workers) may hold the output open after
	// it is killed: stop waiting for them after a few seconds.
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	t.Logf("%s %s (in %s): %v\n%s", client, strings.Join(args, " "), dir, err, out.String())
	return Result{Output: out.String(), Err: err}
}
