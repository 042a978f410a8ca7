package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	c, err := Parse([]byte(`
registries:
  - https://npm.internal.example.com
blocklist:
  - package: event-stream
    versions: "3.3.6"
    reason: flatmap-stream payload
  - package: "@evil/*"
    reason: typosquatting scope
ignore:
  - id: GHSA-aaaa-bbbb-cccc
    package: lodash
    reason: not reachable from our code
    until: 2026-12-31
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Registries[0]; got != "https://npm.internal.example.com/" {
		t.Errorf("registry not normalised: %q", got)
	}
	if b, ok := c.Blocked("event-stream", "3.3.6"); !ok || b.Severity != "critical" {
		t.Errorf("event-stream@3.3.6 not blocked: %+v %v", b, ok)
	}
	if _, ok := c.Blocked("event-stream", "3.3.5"); ok {
		t.Error("event-stream@3.3.5 blocked")
	}
	if _, ok := c.Blocked("@evil/pkg", "0.0.1"); !ok {
		t.Error("scope entry does not block @evil/pkg")
	}
	if _, ok := c.Blocked("@evilx/pkg", "0.0.1"); ok {
		t.Error("scope entry blocks another scope")
	}
	ig := c.Ignores[0]
	if !ig.Matches("GHSA-aaaa-bbbb-cccc", nil, "lodash") || ig.Matches("GHSA-aaaa-bbbb-cccc", nil, "underscore") {
		t.Error("ignore package scoping wrong")
	}
	if !ig.Matches("CVE-1", []string{"GHSA-aaaa-bbbb-cccc"}, "lodash") {
		t.Error("ignore does not match by alias")
	}
	if ig.Expired(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)) {
		t.Error("expired during its last day")
	}
	if !ig.Expired(time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC)) {
		t.Error("not expired after its date")
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "ignores:\n  - id: X\n", "unknown field"},
		{"unknown nested key", "ignore:\n  - id: X\n    reason: r\n    expires: 2026-01-01\n", "unknown field"},
		{"ignore without reason", "ignore:\n  - id: GHSA-x\n", "reason is required"},
		{"bad until", "ignore:\n  - id: X\n    reason: r\n    until: next week\n", "until"},
		{"block without reason", "blocklist:\n  - package: x\n", "reason is required"},
		{"bad range", "blocklist:\n  - package: x\n    versions: '>>>'\n    reason: r\n", "version range"},
		{"bad name", "blocklist:\n  - package: 'has space'\n    reason: r\n", "not allowed"},
		{"bad severity", "blocklist:\n  - package: x\n    reason: r\n    severity: urgent\n", "severity"},
		{"bad registry", "registries: [ftp://x]\n", "not an http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestFindDefaultsAndErrors(t *testing.T) {
	dir := t.TempDir()
	c, err := Find(dir)
	if err != nil || len(c.Registries) != 2 || c.Path != "" {
		t.Fatalf("Find on empty dir = %+v, %v", c, err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(dir); err == nil || !strings.Contains(err.Error(), FileName) {
		t.Errorf("bad file error does not name it: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("ignore:\n  - id: X\n    reason: r\n    until: 2026-01-01\n"))
	f.Add([]byte("blocklist:\n  - package: '@a/*'\n    reason: r\n"))
	if full, err := os.ReadFile(filepath.Join("testdata", "full.yaml")); err == nil {
		f.Add(full)
	}
	f.Add([]byte("policy:\n  advisories:\n    malware: allow\n"))
	f.Add([]byte("policy:\n  min_release_age:\n    duration: 3d\n    exclude: ['@a/[']\n"))
	f.Add([]byte("proxy:\n  upstreams:\n    - url: https://a.example\n    - url: https://b.example\n"))
	f.Add([]byte("proxy:\n  cache: {max_size: 10GiB, packument_ttl: 5m}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is a %T, not a *ParseError", err, err)
			}
			_ = pe.Error()
			return
		}
		c.Blocked("x", "1.0.0")
		if c.Policy.Advisories.Malware == ActionAllow || c.Proxy.DefaultUpstreamIndex() < 0 {
			t.Fatalf("accepted config breaks an invariant: %+v", c)
		}
	})
}
