package proxy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/advisory"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/proxy/cache"
	"github.com/vigil-sec/vigil/internal/registry"
	"github.com/vigil-sec/vigil/internal/store"
)

// testNow is the clock of every stack: the day after debug 4.4.3 (a
// fixture published 2025-09-13T15:00Z), so a 3-day cooldown holds 4.4.3
// and nothing older.
var testNow = time.Date(2025, 9, 14, 12, 0, 0, 0, time.UTC)

// testDecider is a small policy for the proxy's tests: malware records of
// the embedded advisory snapshot (MAL-2025-46974 is debug@4.4.2) block,
// versions younger than cooldown block, quarantine entries block, warn
// entries warn. Dist-tags on a removed version move to the newest kept
// stable version not above it; other tags on removed versions are dropped.
// The real engine (internal/policy) is wired through EngineDecider and
// tested by its own package; this one keeps the proxy's tests independent
// of its rules.
type testDecider struct {
	db         advisory.Matcher
	now        func() time.Time
	cooldown   time.Duration
	quarantine []policy.QuarantineEntry
	warn       map[string]string // name@version → message
	dryRun     bool
}

func (d *testDecider) Evaluate(pk *registry.Packument) Evaluation {
	ev := Evaluation{Decisions: map[string]policy.Decision{}, Removed: map[string]bool{}, DistTags: map[string]string{}}
	now := d.now()
	for v := range pk.Versions {
		dec := policy.Decision{Name: pk.Name, Version: v, Action: policy.Allow, DryRun: d.dryRun}
		add := func(r policy.Reason) {
			dec.Reasons = append(dec.Reasons, r)
			if r.Action.Rank() > dec.Action.Rank() {
				dec.Action = r.Action
			}
		}
		if d.db != nil {
			ms, _ := d.db.Match(pk.Name, v)
			for _, m := range ms {
				if m.Malicious {
					add(policy.Reason{Rule: policy.RuleAdvisory, Action: policy.Block, ID: m.Record.ID, Message: m.Record.Summary})
				}
			}
		}
		if t, ok := pk.Time[v]; ok && d.cooldown > 0 && now.Sub(t) < d.cooldown {
			until := t.Add(d.cooldown)
			add(policy.Reason{Rule: policy.RuleReleaseAge, Action: policy.Block, Message: "published " + t.Format(time.RFC3339) + ", younger than the cooldown", Until: until})
			if ev.ValidUntil.IsZero() || until.Before(ev.ValidUntil) {
				ev.ValidUntil = until
			}
		}
		for _, q := range d.quarantine {
			if q.Package != pk.Name {
				continue
			}
			if q.Versions != "" {
				rg, err := npm.ParseRange(q.Versions)
				if err != nil || !rg.Contains(v) {
					continue
				}
			}
			add(policy.Reason{Rule: policy.RuleQuarantine, Action: policy.Block, ID: q.Package, Message: "quarantined: " + q.Reason})
		}
		if msg, ok := d.warn[pk.Name+"@"+v]; ok {
			add(policy.Reason{Rule: policy.RuleAnalysis, Action: policy.Warn, Message: msg})
		}
		ev.Decisions[v] = dec
		if dec.Action == policy.Block && !dec.DryRun {
			ev.Removed[v] = true
		}
	}
	for tag, target := range pk.DistTags {
		if _, listed := pk.Versions[target]; listed && !ev.Removed[target] {
			ev.DistTags[tag] = target
			continue
		}
		if tag != "latest" {
			continue
		}
		tv, err := npm.ParseVersion(target)
		if err != nil {
			continue
		}
		var best *npm.Version
		for v := range pk.Versions {
			pv, err := npm.ParseVersion(v)
			if err != nil || ev.Removed[v] || pv.IsPrerelease() || pv.Compare(tv) > 0 {
				continue
			}
			if best == nil || pv.Compare(*best) > 0 {
				best = &pv
			}
		}
		if best != nil {
			ev.DistTags[tag] = best.String()
		}
	}
	return ev
}

// memRecorder keeps download records in memory.
type memRecorder struct {
	mu      sync.Mutex
	records []store.Download
}

func (m *memRecorder) RecordDownload(_ context.Context, d store.Download) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, d)
	return nil
}

func (m *memRecorder) all() []store.Download {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.Download(nil), m.records...)
}

// stackOptions vary a test stack.
type stackOptions struct {
	cooldown    time.Duration
	quarantine  []policy.QuarantineEntry
	warn        map[string]string
	dryRun      bool
	failOpen    bool
	ttl         time.Duration
	timeout     time.Duration // upstream timeout
	privateAuth string        // token the private registry requires
	privateTok  string        // token the proxy sends to it (Upstream.Token)
	decider     Decider       // replaces the testDecider
	cacheBytes  int64
	clock       *testClock // shared with a decider built outside; default testNow
	// noPublicMetrics leaves Options.PublicMetrics at its default (off);
	// the stack serves /-/vigil/metrics otherwise, for the metrics tests.
	noPublicMetrics bool
	// publicForwardAuth forwards client credentials to the default
	// upstream (forward_auth: true).
	publicForwardAuth bool
	// trustedProxies is Options.TrustedProxies.
	trustedProxies []netip.Prefix
}

// stack is a running proxy in front of fake registries: "upstream" serves
// the public fixtures (debug, ms, and an impostor @acme/internal), and
// "private" serves @acme/internal, routed by scope.
type stack struct {
	upstream, private *fakeRegistry
	server            *Server
	proxy             *httptest.Server
	cache             *cache.Cache
	records           *memRecorder
	decider           *testDecider
	clock             *testClock
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startStack starts fake registries and a proxy in front of them. Other
// clients' end-to-end tests (pnpm, yarn, bun) reuse it.
func startStack(t testing.TB, o stackOptions) *stack {
	t.Helper()
	st := &stack{
		upstream: newFakeRegistry(t, "debug", "ms", "acme-internal.public"),
		private:  newFakeRegistry(t, "acme-internal"),
		records:  &memRecorder{},
		clock:    o.clock,
	}
	if st.clock == nil {
		st.clock = &testClock{now: testNow}
	}
	st.private.token = o.privateAuth
	db, err := advisory.OpenEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	st.decider = &testDecider{db: db, now: st.clock.Now, cooldown: o.cooldown, quarantine: o.quarantine, warn: o.warn, dryRun: o.dryRun}
	var decider Decider = st.decider
	if o.decider != nil {
		decider = o.decider
	}
	c, err := cache.Open(context.Background(), cache.Options{Dir: t.TempDir(), MaxBytes: o.cacheBytes, Logger: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	st.cache = c
	// The proxy's own listener first: its URL is the public URL.
	st.proxy = httptest.NewUnstartedServer(nil)
	public := "http://" + st.proxy.Listener.Addr().String() + "/"
	var fwd *bool // the default: not forwarded to the default upstream
	if o.publicForwardAuth {
		fwd = &o.publicForwardAuth
	}
	srv, err := New(Options{
		Upstreams: []Upstream{
			{URL: st.upstream.URL(), ForwardAuth: fwd},
			{URL: st.private.URL(), Scopes: []string{"@acme"}, Token: o.privateTok},
		},
		PublicMetrics:   !o.noPublicMetrics,
		PublicURL:       public,
		Cache:           c,
		Decider:         decider,
		Recorder:        st.records,
		Logger:          testLog(t),
		PackumentTTL:    o.ttl,
		FailOpen:        o.failOpen,
		UpstreamTimeout: o.timeout,
		TarballTimeout:  o.timeout,
		HeaderTimeout:   o.timeout,
		Now:             st.clock.Now,
		TrustedProxies:  o.trustedProxies,
	})
	if err != nil {
		t.Fatal(err)
	}
	st.server = srv
	st.proxy.Config.Handler = srv.Handler()
	st.proxy.Start()
	t.Cleanup(st.proxy.Close)
	return st
}

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		if tt, ok := t.(*testing.T); ok {
			return slog.New(slog.NewTextHandler(tt.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	return slog.New(slog.DiscardHandler)
}

// get sends a request to the proxy and returns the response with its
// body read. hdr are header name/value pairs.
func (st *stack) get(t testing.TB, method, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, st.proxy.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	// A transport of its own, without transparent gzip, so tests see
	// exactly what was sent.
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// publicURL is the proxy's base URL as it rewrites tarball URLs.
func (st *stack) publicURL() string { return strings.TrimSuffix(st.proxy.URL, "/") + "/" }
