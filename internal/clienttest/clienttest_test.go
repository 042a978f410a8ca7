package clienttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// registryVars are the variables that point a client at a registry.
var registryVars = []string{"npm_config_registry", "NPM_CONFIG_REGISTRY", "YARN_REGISTRY", "YARN_NPM_REGISTRY_SERVER", "YARN_UNSAFE_HTTP_WHITELIST", "BUN_CONFIG_REGISTRY"}

func lookup(e *Env, name string) (string, bool) {
	for _, kv := range e.Vars() {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	return "", false
}

func TestNewEnvPointsEveryClientAtTheRegistry(t *testing.T) {
	const reg = "http://127.0.0.1:4873/"
	e := NewEnv(t, reg)
	for _, name := range registryVars {
		if v, ok := lookup(e, name); !ok || (v != reg && name != "YARN_UNSAFE_HTTP_WHITELIST") {
			t.Errorf("%s = %q (set %v), want %s", name, v, ok, reg)
		}
	}
	rc, err := os.ReadFile(filepath.Join(e.Home, ".npmrc"))
	if err != nil || string(rc) != "registry="+reg+"\n" {
		t.Errorf("~/.npmrc %q (%v)", rc, err)
	}
}

func TestNewEnvWithoutRegistryNamesNone(t *testing.T) {
	e := NewEnvWithoutRegistry(t)
	for _, kv := range e.Vars() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.Contains(strings.ToLower(k), "registry") || k == "YARN_UNSAFE_HTTP_WHITELIST" {
			t.Errorf("%s is set", kv)
		}
	}
	if rc, err := os.ReadFile(filepath.Join(e.Home, ".npmrc")); err != nil || len(rc) != 0 {
		t.Errorf("~/.npmrc %q (%v), want empty", rc, err)
	}
	// Anything but loopback goes to a closed port.
	if v, _ := lookup(e, "HTTPS_PROXY"); v != deadProxy {
		t.Errorf("HTTPS_PROXY = %q", v)
	}
	if v, _ := lookup(e, "NO_PROXY"); v != "127.0.0.1,localhost" {
		t.Errorf("NO_PROXY = %q", v)
	}
}

func TestEnvSetReplaces(t *testing.T) {
	e := NewEnvWithoutRegistry(t)
	n := len(e.Vars())
	e.Set("YARN_NODE_LINKER", "node-modules")
	e.Set("YARN_NODE_LINKER", "pnp")
	e.Set("CI", "0")
	if v, _ := lookup(e, "YARN_NODE_LINKER"); v != "pnp" {
		t.Errorf("YARN_NODE_LINKER = %q", v)
	}
	if v, _ := lookup(e, "CI"); v != "0" {
		t.Errorf("CI = %q", v)
	}
	if len(e.Vars()) != n+1 {
		t.Errorf("%d variables, want %d", len(e.Vars()), n+1)
	}
}
