package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPolicyAndProxyFull(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantPolicy := Policy{
		DryRun:     true,
		Advisories: AdvisoryPolicy{Malware: "warn", Action: "block", MinSeverity: "critical"},
		MinReleaseAge: ReleaseAgePolicy{
			Duration:   Duration(72 * time.Hour),
			Action:     "warn",
			Exclude:    []string{"typescript", "@myorg/*", "@types/*"},
			AllowFixes: true,
		},
		Analysis:       AnalysisPolicy{OnFirstRequest: true, PreAnalyseTags: true, Malicious: "warn", Suspicious: "allow"},
		TrustDowngrade: ActionPolicy{Action: "block"},
		InstallScripts: InstallScriptsPolicy{Action: "block", Allow: []string{"esbuild", "@swc/*", "node-gyp-*"}},
	}
	if !reflect.DeepEqual(c.Policy, wantPolicy) {
		t.Errorf("policy\n got %+v\nwant %+v", c.Policy, wantPolicy)
	}
	noForward := false
	wantProxy := Proxy{
		Listen:      "0.0.0.0:8080",
		AdminListen: "127.0.0.1:8081",
		PublicURL:   "https://npm.example.com/vigil/",
		Upstreams: []Upstream{
			{URL: "https://npm.example.com/private/", Scopes: []string{"@myorg", "@myorg-internal"}, TokenEnv: "MYORG_NPM_TOKEN"},
			{URL: "https://registry.npmjs.org/", ForwardAuth: &noForward},
		},
		Cache:          ProxyCache{Dir: "/var/cache/vigil", MaxSize: 512 * MiB, PackumentTTL: Duration(90 * time.Second)},
		FailOpen:       true,
		Store:          "postgres://vigil@db.example.com/vigil",
		PublicMetrics:  true,
		TrustedProxies: []string{"10.0.0.0/8", "2001:db8::1"},
	}
	if !reflect.DeepEqual(c.Proxy, wantProxy) {
		t.Errorf("proxy\n got %+v\nwant %+v", c.Proxy, wantProxy)
	}
	if c.Proxy.DefaultUpstreamIndex() != 1 {
		t.Errorf("default upstream index %d, want 1", c.Proxy.DefaultUpstreamIndex())
	}
}

func TestDefaults(t *testing.T) {
	for name, c := range map[string]*Config{"Default()": Default(), "empty file": mustParse(t, ""), "empty sections": mustParse(t, "policy: {}\nproxy: {}\n")} {
		t.Run(name, func(t *testing.T) {
			p := c.Policy
			if p.DryRun || p.Advisories.Malware != "block" || p.Advisories.Action != "warn" || p.Advisories.MinSeverity != "high" ||
				p.MinReleaseAge.Duration != 0 || p.MinReleaseAge.Action != "block" || p.MinReleaseAge.AllowFixes ||
				p.Analysis.OnFirstRequest || p.Analysis.PreAnalyseTags || p.Analysis.Malicious != "block" || p.Analysis.Suspicious != "warn" ||
				p.TrustDowngrade.Action != "warn" || p.InstallScripts.Action != "allow" {
				t.Errorf("policy defaults wrong: %+v", p)
			}
			x := c.Proxy
			if x.Listen != "127.0.0.1:4873" || x.AdminListen != "" || x.PublicURL != "http://127.0.0.1:4873/" ||
				len(x.Upstreams) != 1 || x.Upstreams[0].URL != "https://registry.npmjs.org/" || x.Upstreams[0].Scopes != nil ||
				x.Cache.MaxSize != 10*GiB || x.Cache.PackumentTTL != Duration(5*time.Minute) || x.FailOpen || x.Store != "" {
				t.Errorf("proxy defaults wrong: %+v", x)
			}
			if dir, err := os.UserCacheDir(); err == nil && x.Cache.Dir != filepath.Join(dir, "vigil", "proxy") {
				t.Errorf("cache dir %q", x.Cache.Dir)
			}
		})
	}
}

func TestProxyDerivedDefaults(t *testing.T) {
	tests := []struct{ yaml, publicURL, firstUpstream, defaultUpstream string }{
		{"proxy:\n  listen: ':9000'\n", "http://localhost:9000/", "https://registry.npmjs.org/", "https://registry.npmjs.org/"},
		{"proxy:\n  listen: '0.0.0.0:9000'\n", "http://localhost:9000/", "https://registry.npmjs.org/", "https://registry.npmjs.org/"},
		{"proxy:\n  listen: '[::1]:9000'\n", "http://[::1]:9000/", "https://registry.npmjs.org/", "https://registry.npmjs.org/"},
		// Only scoped upstreams listed: the public registry becomes the default.
		{"proxy:\n  upstreams:\n    - url: https://npm.corp.example\n      scopes: ['@corp']\n", "http://127.0.0.1:4873/", "https://npm.corp.example/", "https://registry.npmjs.org/"},
		// A default listed: nothing is added.
		{"proxy:\n  upstreams:\n    - url: http://mirror.example/npm/\n", "http://127.0.0.1:4873/", "http://mirror.example/npm/", "http://mirror.example/npm/"},
	}
	for _, tt := range tests {
		c := mustParse(t, tt.yaml)
		if c.Proxy.PublicURL != tt.publicURL {
			t.Errorf("%q: public_url %q, want %q", tt.yaml, c.Proxy.PublicURL, tt.publicURL)
		}
		if got := c.Proxy.Upstreams[0].URL; got != tt.firstUpstream {
			t.Errorf("%q: first upstream %q, want %q", tt.yaml, got, tt.firstUpstream)
		}
		if got := c.Proxy.Upstreams[c.Proxy.DefaultUpstreamIndex()].URL; got != tt.defaultUpstream {
			t.Errorf("%q: default upstream %q, want %q", tt.yaml, got, tt.defaultUpstream)
		}
	}
}

func TestSectionsReject(t *testing.T) {
	tests := []struct {
		name, yaml string
		line       int    // the line the error must name
		field      string // the setting it must name
		want       string // and a piece of its message
	}{
		{"malware allow", "policy:\n  advisories:\n    malware: allow\n", 3, "policy.advisories.malware", "not allowed"},
		{"bad action name", "policy:\n  advisories:\n    action: deny\n", 3, "policy.advisories.action", `"deny" is not an action`},
		{"bad cooldown action", "policy:\n  min_release_age:\n    duration: 1d\n    action: Block\n", 4, "policy.min_release_age.action", "allow, warn or block"},
		{"bad analysis action", "policy:\n  analysis:\n    suspicious: quarantine\n", 3, "policy.analysis.suspicious", "not an action"},
		{"pre-analysis without first-request analysis", "policy:\n  analysis:\n    pre_analyse_tags: true\n", 3, "policy.analysis.pre_analyse_tags", "needs policy.analysis.on_first_request"},
		{"bad trust action", "policy:\n  trust_downgrade:\n    action: true\n", 3, "policy.trust_downgrade.action", "not an action"},
		{"bad scripts action", "policy:\n\n  install_scripts:\n    action: warning\n", 4, "policy.install_scripts.action", "not an action"},
		{"bad severity", "policy:\n  advisories:\n    min_severity: severe\n", 3, "policy.advisories.min_severity", "not a severity"},
		{"bad duration", "policy:\n  min_release_age:\n    duration: 3 days\n", 3, "policy.min_release_age.duration", "duration"},
		{"duration without unit", "policy:\n  min_release_age:\n    duration: 72\n", 3, "policy.min_release_age.duration", "no unit"},
		{"negative duration", "policy:\n  min_release_age:\n    duration: -1h\n", 3, "policy.min_release_age.duration", "negative"},
		{"duration as list", "policy:\n  min_release_age:\n    duration: [1h]\n", 3, "policy.min_release_age.duration", "want a duration"},
		{"bad glob", "policy:\n  min_release_age:\n    exclude:\n      - typescript\n      - '@myorg/[a-'\n", 5, "policy.min_release_age.exclude[1]", "syntax error in pattern"},
		{"bad allow name", "policy:\n  install_scripts:\n    allow: [esbuild, 'Has Space']\n", 3, "policy.install_scripts.allow[1]", "not allowed"},
		{"empty pattern", "policy:\n  install_scripts:\n    allow: ['']\n", 3, "policy.install_scripts.allow[0]", "empty"},
		{"unknown policy key", "policy:\n  min_release_age:\n    durration: 3d\n", 3, "", "unknown field"},
		{"two default upstreams", "proxy:\n  upstreams:\n    - url: https://a.example\n    - url: https://b.example\n", 4, "proxy.upstreams[1]", "second default upstream"},
		{"scope on two upstreams", "proxy:\n  upstreams:\n    - url: https://a.example\n      scopes: ['@x']\n    - url: https://b.example\n      scopes: ['@y', '@x']\n", 6, "proxy.upstreams[1].scopes[1]", "already routed to proxy.upstreams[0]"},
		{"scope without @", "proxy:\n  upstreams:\n    - url: https://a.example\n      scopes: [myorg]\n", 4, "proxy.upstreams[0].scopes[0]", "not a scope"},
		{"upstream not http", "proxy:\n  upstreams:\n    - url: ftp://a.example\n", 3, "proxy.upstreams[0].url", "not an http(s) URL"},
		{"upstream missing url", "proxy:\n  upstreams:\n    - scopes: ['@a']\n", 3, "proxy.upstreams[0].url", "not an http(s) URL"},
		{"upstream with credentials", "proxy:\n  upstreams:\n    - url: https://u:p@a.example\n", 3, "proxy.upstreams[0].url", "credentials"},
		{"token pasted as env", "proxy:\n  upstreams:\n    - url: https://a.example\n      token_env: npm_abc-123\n", 4, "proxy.upstreams[0].token_env", "environment variable"},
		{"bad listen", "proxy:\n  listen: 4873\n", 2, "proxy.listen", "host:port"},
		{"bad port", "proxy:\n  listen: 'localhost:http'\n", 2, "proxy.listen", "port"},
		{"admin on same address", "proxy:\n  listen: 127.0.0.1:1\n  admin_listen: 127.0.0.1:1\n", 3, "proxy.admin_listen", "its own address"},
		{"bad public url", "proxy:\n  public_url: npm.example.com\n", 2, "proxy.public_url", "not an http(s) URL"},
		{"bad size", "proxy:\n  cache:\n    max_size: 10 gigs\n", 3, "proxy.cache.max_size", "unknown unit"},
		{"fractional bytes", "proxy:\n  cache:\n    max_size: 1.5\n", 3, "proxy.cache.max_size", "whole number"},
		{"bad ttl", "proxy:\n  cache:\n    packument_ttl: soon\n", 3, "proxy.cache.packument_ttl", "duration"},
		{"bad store", "proxy:\n  store: mysql://x\n", 2, "proxy.store", "sqlite://"},
		{"tag without value (a decoder panic)", "a: 1\nignore: !x\n", 2, "", "tag !x has no value"},
		{"unknown proxy key", "proxy:\n  listen: 127.0.0.1:1\n  upstream: https://x\n", 3, "", "unknown field"},
		// The older sections now name lines too.
		{"blocklist without reason", "registries: [https://r.example/]\nblocklist:\n  - package: x\n", 3, "blocklist[0].reason", "reason is required"},
		{"ignore bad until", "ignore:\n  - id: X\n    reason: r\n    until: next week\n", 4, "ignore[0].until", "neither a date"},
		{"blocklist bad scope", "blocklist:\n  - package: 'evil/*'\n    reason: r\n", 2, "blocklist[0].package", "not a scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T), want a *ParseError", err, err)
			}
			if pe.Line != tt.line || pe.Field != tt.field || !strings.Contains(pe.Msg, tt.want) {
				t.Errorf("got line %d field %q msg %q\nwant line %d field %q msg containing %q", pe.Line, pe.Field, pe.Msg, tt.line, tt.field, tt.want)
			}
		})
	}
}

func TestLoadErrorNamesFileAndLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte("policy:\n  advisories:\n    malware: allow\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := path + `:3:14: policy.advisories.malware: "allow" is not allowed`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v\nwant prefix %s", err, want)
	}
	if err := os.WriteFile(path, []byte("policy:\n  advisories:\n    malwar: block\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	if want := path + ":3:5: unknown field \"malwar\""; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestDurationAndByteSize(t *testing.T) {
	durations := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"72h", 72 * time.Hour, true},
		{"3d", 72 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"2d12h", 60 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"0", 0, true},
		{"0s", 0, true},
		{"0d", 0, true},
		{"", 0, false},
		{"d", 0, false},
		{"3", 0, false},
		{"-3d", 0, false},
		{"3d-1h", 0, false},
		{"1e3d", 0, false},
		{"Infd", 0, false},
		{"3dd", 0, false},
		{"3 days", 0, false},
		{"300000000d", 0, false},
	}
	for _, tt := range durations {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got.Std() != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", tt.in, got.Std(), err, tt.want, tt.ok)
		}
		if err == nil {
			back, err := ParseDuration(got.String())
			if err != nil || back != got {
				t.Errorf("ParseDuration(%q).String() = %q does not read back: %v %v", tt.in, got.String(), back, err)
			}
		}
	}
	sizes := []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"1048576", MiB, true},
		{"512MiB", 512 * MiB, true},
		{"10GiB", 10 * GiB, true},
		{"10 GiB", 10 * GiB, true},
		{"10gb", 10_000_000_000, true},
		{"1.5KiB", 1536, true},
		{"2TB", 2_000_000_000_000, true},
		{"0", 0, true},
		{"", 0, false},
		{"GiB", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"10 gigs", 0, false},
		{"9999999999TiB", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range sizes {
		got, err := ParseByteSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %v, %v; want %v ok=%v", tt.in, int64(got), err, int64(tt.want), tt.ok)
		}
		if err == nil {
			back, err := ParseByteSize(got.String())
			if err != nil || back != got {
				t.Errorf("ParseByteSize(%q).String() = %q does not read back: %v %v", tt.in, got.String(), back, err)
			}
		}
	}
}

func TestValidateNamePattern(t *testing.T) {
	for p, ok := range map[string]bool{
		"typescript": true, "@myorg/*": true, "@types/*": true, "eslint-plugin-*": true, "@babel/plugin-?": true,
		"": false, "  ": false, "Has Space": false, "@myorg/[": false, "a[b": false, "* foo": false, "@/x": false,
	} {
		if err := ValidateNamePattern(p); (err == nil) != ok {
			t.Errorf("ValidateNamePattern(%q) = %v, want ok=%v", p, err, ok)
		}
	}
}

func mustParse(t *testing.T, s string) *Config {
	t.Helper()
	c, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return c
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"72h", "3d", "1.5d", "2d12h", "0", "-1h", "1e3d", "300000000d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v: negative", s, d.Std())
		}
		if back, err := ParseDuration(d.String()); err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; String %q reads back as %v, %v", s, d.Std(), d.String(), back.Std(), err)
		}
	})
}

func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"512MiB", "10GB", "1048576", "1.5KiB", "10 gigs", "9999999999TiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseByteSize(s)
		if err != nil {
			return
		}
		if b < 0 {
			t.Fatalf("ParseByteSize(%q) = %d: negative", s, b)
		}
		if back, err := ParseByteSize(b.String()); err != nil || back != b {
			t.Fatalf("ParseByteSize(%q) = %d; String %q reads back as %d, %v", s, b, b.String(), back, err)
		}
	})
}

func TestAnalysisPreAnalyseTags(t *testing.T) {
	tests := []struct {
		name, yaml          string
		onFirst, preAnalyse bool
	}{
		{"off by default", "policy:\n  analysis:\n    on_first_request: true\n", true, false},
		{"on with first-request analysis", "policy:\n  analysis:\n    on_first_request: true\n    pre_analyse_tags: true\n", true, true},
		{"explicitly off", "policy:\n  analysis:\n    pre_analyse_tags: false\n", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustParse(t, tt.yaml).Policy.Analysis
			if a.OnFirstRequest != tt.onFirst || a.PreAnalyseTags != tt.preAnalyse {
				t.Errorf("on_first_request %v, pre_analyse_tags %v; want %v, %v", a.OnFirstRequest, a.PreAnalyseTags, tt.onFirst, tt.preAnalyse)
			}
		})
	}
}
