package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/advisory"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/proxy"
	"github.com/vigil-sec/vigil/internal/proxy/cache"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/verdictcache"
)

type proxyFlags struct {
	configPath  string
	upstream    string
	scopes      []string
	listen      string
	adminListen string
	publicURL   string
	cacheDir    string
	dryRun      bool
	store       storeFlags
	db          dbFlags
}

func newProxyCmd(e *env) *cobra.Command {
	var f proxyFlags
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Run the npm registry firewall: npm, pnpm, yarn and bun install through it",
		Long: `Proxy serves an npm-compatible registry in front of the upstream registries. Versions the policy
blocks (malware records, quarantine, releases younger than the cooldown, …) are removed from every
package document it serves, and their tarballs are refused with a message the client prints. Every
tarball is verified against its dist.integrity before a byte is served, cached, and recorded in the
store ('vigil downloads'). Point a client at it: npm config set registry http://127.0.0.1:4873/

The admin API (--admin-listen, bearer token from $VIGIL_ADMIN_TOKEN) edits the quarantine, reloads
the policy, explains decisions and lists what is held back. See docs/proxy.md.`,
		Example: `  vigil proxy
  vigil proxy --upstream https://registry.npmjs.org/ --scope @acme=https://npm.acme.internal/ --listen 0.0.0.0:4873 --public-url http://npm-proxy.acme.internal:4873/
  VIGIL_ADMIN_TOKEN=… vigil proxy --config vigil.yaml --admin-listen 127.0.0.1:4874`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runProxy(cmd.Context(), e, f, cmd)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.configPath, "config", "", "vigil.yaml with the policy and proxy sections (default: vigil.yaml in the current folder, if any)")
	fl.StringVar(&f.upstream, "upstream", "", "the default upstream registry URL (default: proxy.upstreams in vigil.yaml, else https://registry.npmjs.org/)")
	fl.StringArrayVar(&f.scopes, "scope", nil, "route a scope to its own registry, never to the default: @org=URL (repeatable)")
	fl.StringVar(&f.listen, "listen", "", "address the registry listens on (default: proxy.listen, else 127.0.0.1:4873)")
	fl.StringVar(&f.adminListen, "admin-listen", "", "address of the admin API (needs $VIGIL_ADMIN_TOKEN; default: proxy.admin_listen, else off)")
	fl.StringVar(&f.publicURL, "public-url", "", "base URL clients reach the proxy at, for tarball URLs (default: http://<listen>/)")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "cache folder (default: proxy.cache.dir, else <user cache dir>/vigil/proxy)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "decide and log, but serve everything (policy.dry_run)")
	f.store.register(fl)
	f.db.register(fl)
	return cmd
}

// proxyConfig loads vigil.yaml and applies the flags over it.
func proxyConfig(e *env, f proxyFlags, changed func(string) bool) (*config.Config, error) {
	var cfg *config.Config
	var err error
	switch {
	case f.configPath != "":
		cfg, err = config.Load(f.configPath)
	default:
		cfg, err = config.Find(".")
	}
	if err != nil {
		return nil, usageError{err}
	}
	p := &cfg.Proxy
	if changed("listen") {
		wasDefault := p.PublicURL == defaultPublicURL(p.Listen)
		p.Listen = f.listen
		if wasDefault {
			p.PublicURL = defaultPublicURL(p.Listen)
		}
	}
	if changed("admin-listen") {
		p.AdminListen = f.adminListen
	}
	if changed("public-url") {
		if _, err := url2base(f.publicURL); err != nil {
			return nil, usagef("--public-url: %v", err)
		}
		p.PublicURL = f.publicURL
	}
	if changed("cache-dir") {
		p.Cache.Dir = f.cacheDir
	}
	if changed("upstream") {
		if _, err := url2base(f.upstream); err != nil {
			return nil, usagef("--upstream: %v", err)
		}
		if i := p.DefaultUpstreamIndex(); i >= 0 {
			p.Upstreams[i] = config.Upstream{URL: f.upstream}
		} else {
			p.Upstreams = append(p.Upstreams, config.Upstream{URL: f.upstream})
		}
	}
	for _, s := range f.scopes {
		scope, u, ok := strings.Cut(s, "=")
		scope = strings.ToLower(strings.TrimSpace(scope))
		if !ok || !strings.HasPrefix(scope, "@") || strings.Contains(scope, "/") {
			return nil, usagef("--scope %q: want @org=URL", s)
		}
		if _, err := url2base(u); err != nil {
			return nil, usagef("--scope %q: %v", s, err)
		}
		// The flag's route replaces any the config file has for that scope.
		for i := range p.Upstreams {
			p.Upstreams[i].Scopes = slicesDelete(p.Upstreams[i].Scopes, scope)
		}
		p.Upstreams = append(p.Upstreams, config.Upstream{URL: u, Scopes: []string{scope}})
	}
	if f.dryRun {
		cfg.Policy.DryRun = true
	}
	if p.Cache.Dir == "" {
		return nil, usagef("no cache folder: set --cache-dir or proxy.cache.dir")
	}
	return cfg, nil
}

func slicesDelete(list []string, v string) []string {
	out := list[:0:0]
	for _, s := range list {
		if !strings.EqualFold(s, v) {
			out = append(out, s)
		}
	}
	return out
}

// defaultPublicURL is the URL clients reach a listen address at, as
// vigil.yaml's default for public_url computes it.
func defaultPublicURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

func url2base(raw string) (string, error) {
	if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
		return "", fmt.Errorf("%q is not an http(s) URL", raw)
	}
	if !strings.HasSuffix(raw, "/") {
		raw += "/"
	}
	return raw, nil
}

// upstreamsFrom maps vigil.yaml's upstreams to the proxy's, reading each
// token from its environment variable.
func upstreamsFrom(e *env, cfg config.Proxy) ([]proxy.Upstream, error) {
	out := make([]proxy.Upstream, 0, len(cfg.Upstreams))
	for _, u := range cfg.Upstreams {
		forward := u.ForwardsAuth()
		pu := proxy.Upstream{URL: u.URL, Scopes: u.Scopes, ForwardAuth: &forward}
		if u.TokenEnv != "" {
			pu.Token = e.getenv(u.TokenEnv)
			if pu.Token == "" {
				return nil, usagef("upstream %s: token_env %s is empty or unset", u.URL, u.TokenEnv)
			}
		}
		out = append(out, pu)
	}
	return out, nil
}

// proxyPolicy builds the policy engine from the config, the quarantine in
// the store, vigil.yaml's blocklist and the analysis verdicts.
func proxyPolicy(ctx context.Context, cfg *config.Config, db advisory.Matcher, st store.Store, verdicts *proxy.Verdicts) (proxy.Decider, int, error) {
	entries, err := st.Quarantine(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("reading the quarantine: %w", err)
	}
	entries = append(entries, policy.BlocklistEntries(cfg)...)
	d, err := proxy.NewVerdictDecider(cfg.Policy, policy.Inputs{Advisories: db, Quarantine: entries}, verdicts)
	if err != nil {
		return nil, 0, usageError{err}
	}
	return d, len(entries), nil
}

// proxyVerdicts opens the verdict cache 'vigil analyze' shares
// ($VIGIL_CACHE_DIR, else <user cache dir>/vigil/analyze), with the same
// engine fingerprint, so verdicts computed by either are used by both. A
// folder that cannot be opened leaves the verdicts in memory.
func proxyVerdicts(e *env) *proxy.Verdicts {
	dir, err := verdictcache.DefaultDir(e.getenv)
	if err == nil {
		var c *verdictcache.Cache
		if c, err = verdictcache.Open(dir, verdictcache.Fingerprint(rules.All(), Version), verdictcache.Options{Logger: e.logger}); err == nil {
			return proxy.NewVerdicts(c, e.logger)
		}
	}
	e.logger.Warn("verdict cache unavailable: analysis verdicts are kept in memory only", "err", err)
	return proxy.NewVerdicts(nil, e.logger)
}

func runProxy(ctx context.Context, e *env, f proxyFlags, cmd *cobra.Command) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := proxyConfig(e, f, cmd.Flags().Changed)
	if err != nil {
		return err
	}
	ups, err := upstreamsFrom(e, cfg.Proxy)
	if err != nil {
		return err
	}
	adminToken := ""
	if cfg.Proxy.AdminListen != "" {
		if adminToken = e.getenv("VIGIL_ADMIN_TOKEN"); adminToken == "" {
			return usagef("refusing to start the admin API on %s without a bearer token: set $VIGIL_ADMIN_TOKEN", cfg.Proxy.AdminListen)
		}
	}
	db, err := f.db.open(e)
	if err != nil {
		return err
	}
	if f.store.dsn == "" && cfg.Proxy.Store != "" {
		f.store.dsn = cfg.Proxy.Store
	}
	st, err := f.store.open(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	verdicts := proxyVerdicts(e)
	decider, nq, err := proxyPolicy(ctx, cfg, db, st, verdicts)
	if err != nil {
		return err
	}
	c, err := cache.Open(ctx, cache.Options{Dir: cfg.Proxy.Cache.Dir, MaxBytes: int64(cfg.Proxy.Cache.MaxSize), Logger: e.logger})
	if err != nil {
		return fmt.Errorf("opening the proxy cache: %w", err)
	}
	defer c.Close()
	recorder := store.NewBatchRecorder(st, store.BatchOptions{Logger: e.logger})
	recorderClosed := false
	defer func() {
		if !recorderClosed {
			recorder.Close()
		}
	}()

	ln, err := net.Listen("tcp", cfg.Proxy.Listen)
	if err != nil {
		return usagef("--listen %s: %v", cfg.Proxy.Listen, err)
	}
	public := cfg.Proxy.PublicURL
	if public == defaultPublicURL(cfg.Proxy.Listen) {
		// A port chosen by the system (":0") is known only now.
		public = defaultPublicURL(ln.Addr().String())
	}
	srv, err := proxy.New(proxy.Options{
		Upstreams:      ups,
		PublicURL:      public,
		Cache:          c,
		Decider:        decider,
		Recorder:       recorder,
		Logger:         e.logger,
		PackumentTTL:   cfg.Proxy.Cache.PackumentTTL.Std(),
		FailOpen:       cfg.Proxy.FailOpen,
		PublicMetrics:  cfg.Proxy.PublicMetrics,
		TrustedProxies: cfg.Proxy.TrustedPrefixes(),
		UserAgent:      "vigil-proxy/" + Version,
	})
	if err != nil {
		ln.Close()
		return usageError{err}
	}
	servers := []*http.Server{newHTTPServer(srv.Handler())}
	listeners := []net.Listener{ln}
	if cfg.Proxy.AdminListen != "" {
		h, err := srv.AdminHandler(proxy.AdminOptions{
			Token:      adminToken,
			Quarantine: st,
			Reload: func(ctx context.Context) (proxy.Decider, error) {
				fresh := cfg
				if cfg.Path != "" {
					loaded, err := config.Load(cfg.Path)
					if err != nil {
						return nil, err
					}
					fresh = loaded
					if f.dryRun {
						fresh.Policy.DryRun = true
					}
				}
				d, _, err := proxyPolicy(ctx, fresh, db, st, verdicts)
				return d, err
			},
		})
		if err != nil {
			ln.Close()
			return err
		}
		aln, err := net.Listen("tcp", cfg.Proxy.AdminListen)
		if err != nil {
			ln.Close()
			return usagef("--admin-listen %s: %v", cfg.Proxy.AdminListen, err)
		}
		servers = append(servers, newHTTPServer(h))
		listeners = append(listeners, aln)
		fmt.Fprintf(e.stdout, "vigil proxy: admin API on http://%s/\n", aln.Addr())
	}
	fmt.Fprintf(e.stdout, "vigil proxy: serving %s (listening on %s), default upstream %s, %d scoped, %d quarantine entries, analysis on first request %v, dry run %v\n",
		public, ln.Addr(), defaultUpstreamURL(ups), len(ups)-1, nq, cfg.Policy.Analysis.OnFirstRequest, cfg.Policy.DryRun)

	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() { errc <- s.Serve(listeners[i]) }()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	// Drain: stop accepting, let requests in flight finish (a tarball
	// download may take a while), then flush the download records.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil {
			e.logger.Warn("proxy shutdown", "err", err)
		}
	}
	recorderClosed = true
	if err := recorder.Close(); err != nil {
		return fmt.Errorf("flushing download records: %w", err)
	}
	fmt.Fprintln(e.stdout, "vigil proxy: stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", serveErr)
	}
	return nil
}

func defaultUpstreamURL(ups []proxy.Upstream) string {
	for _, u := range ups {
		if len(u.Scopes) == 0 {
			return u.URL
		}
	}
	return ""
}

// newHTTPServer bounds what a client can hold open. There is no write
// timeout: a large tarball to a slow client is legitimate.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
