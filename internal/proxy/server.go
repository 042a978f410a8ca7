// Package proxy is Vigil's npm registry firewall: an npm-registry-compatible
// server that npm, pnpm, yarn and bun use unchanged. It fetches packuments
// and tarballs from one or more upstream registries (routed by scope, so a
// private scope never falls through to the public registry), removes the
// versions the policy holds back from every packument it serves, refuses
// their tarballs with a message the client prints, serves only tarballs
// whose bytes match their dist.integrity, caches both, and records every
// tarball download. See docs/proxy.md.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/proxy/cache"
	"github.com/vigil-sec/vigil/internal/store"
)

// Defaults for Options fields left zero.
const (
	DefaultPackumentTTL     = 5 * time.Minute
	DefaultUpstreamTimeout  = 2 * time.Minute
	DefaultTarballTimeout   = 10 * time.Minute
	DefaultHeaderTimeout    = 30 * time.Second
	DefaultRenderCacheBytes = 256 << 20
	DefaultMaxPackumentSize = 128 << 20
	DefaultMaxTarballSize   = 512 << 20
	DefaultStaleRetry       = 30 * time.Second
)

// Recorder receives one record per tarball request (store.Store and
// store's batching recorder satisfy it).
type Recorder interface {
	RecordDownload(ctx context.Context, d store.Download) error
}

// Options configure a Server.
type Options struct {
	// Upstreams: exactly one without scopes (the default).
	Upstreams []Upstream
	// PublicURL is the base URL clients reach the proxy at; tarball URLs
	// in served packuments point under it. Required.
	PublicURL string
	// Cache holds packuments and tarballs. Required.
	Cache *cache.Cache
	// Decider is the policy in force. Required.
	Decider Decider
	// Recorder receives download records; nil drops them.
	Recorder Recorder
	Logger   *slog.Logger

	// PackumentTTL is how long a cached packument is served before it is
	// revalidated upstream.
	PackumentTTL time.Duration
	// FailOpen changes what an upstream failure means when nothing is
	// cached: the upstream's own answer (status, Retry-After, body) is
	// passed through instead of the proxy's 502/503. A document the proxy
	// cannot read, or another package's, is still refused (never served
	// raw, with the upstream's tarball URLs), and integrity is never
	// relaxed: a tarball is served only verified. See docs/proxy.md.
	FailOpen bool
	// PublicMetrics serves the metrics on the registry listener too, at
	// /-/vigil/metrics, without authentication. Off by default: the admin
	// API's /metrics serves them behind its token.
	PublicMetrics bool
	// TrustedProxies are the peers (load balancers, ingresses) whose
	// X-Forwarded-For and Forwarded headers name the client recorded for
	// a download; from any other peer both are ignored. Empty: the peer
	// is the client. See clientaddr.go.
	TrustedProxies []netip.Prefix

	// HTTPClient sends upstream requests; nil builds one with connection
	// and header timeouts.
	HTTPClient *http.Client
	// UpstreamTimeout bounds one packument fetch, TarballTimeout one
	// tarball download, HeaderTimeout the wait for response headers (when
	// HTTPClient is nil).
	UpstreamTimeout time.Duration
	TarballTimeout  time.Duration
	HeaderTimeout   time.Duration
	// StaleRetry is how long a stale copy is served after an upstream
	// failure before the upstream is asked again.
	StaleRetry time.Duration

	// RenderCacheBytes bounds the memory kept for filtered documents
	// (plain and gzip) and evaluations.
	RenderCacheBytes int64
	MaxPackumentSize int64
	MaxTarballSize   int64

	// Analysis bounds the analyses run when the policy analyses versions
	// on first request (VerdictDecider; analysis.go).
	Analysis AnalysisOptions

	// UserAgent is sent upstream; default "vigil-proxy".
	UserAgent string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is the registry firewall. Its Handler serves the registry API;
// AdminHandler the admin API.
type Server struct {
	epochs       packageEpochs
	log          *slog.Logger
	ups          *upstreams
	publicURL    string
	cache        *cache.Cache
	recorder     Recorder
	hc           *http.Client
	userAgent    string
	now          func() time.Time
	failOpen     bool
	pubMetrics   bool
	trusted      trustedProxies
	ttl          time.Duration
	staleRetry   time.Duration
	maxPackument int64
	maxTarball   int64

	upstreamTimeout, tarballTimeout time.Duration

	policy  atomic.Pointer[policyState]
	metas   *docMetas
	evals   *lru[*evaluation]
	renders *lru[*rendered]
	held    *heldRegistry
	flight  singleflight.Group
	metrics *metrics

	analysis *analyser // first-request analyses (analysis.go)
}

// New validates opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Cache == nil {
		return nil, errors.New("proxy: no cache")
	}
	if opts.Decider == nil {
		return nil, errors.New("proxy: no policy")
	}
	ups, err := newUpstreams(opts.Upstreams)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	public := opts.PublicURL
	if public == "" {
		return nil, errors.New("proxy: no public URL")
	}
	if !strings.HasPrefix(public, "http://") && !strings.HasPrefix(public, "https://") {
		return nil, fmt.Errorf("proxy: public URL %q: want http(s)://host/", public)
	}
	if !strings.HasSuffix(public, "/") {
		public += "/"
	}
	s := &Server{
		log:             opts.Logger,
		ups:             ups,
		publicURL:       public,
		cache:           opts.Cache,
		recorder:        opts.Recorder,
		hc:              opts.HTTPClient,
		userAgent:       opts.UserAgent,
		now:             opts.Now,
		failOpen:        opts.FailOpen,
		pubMetrics:      opts.PublicMetrics,
		trusted:         newTrustedProxies(opts.TrustedProxies),
		ttl:             orDefault(opts.PackumentTTL, DefaultPackumentTTL),
		staleRetry:      orDefault(opts.StaleRetry, DefaultStaleRetry),
		maxPackument:    orDefault(opts.MaxPackumentSize, DefaultMaxPackumentSize),
		maxTarball:      orDefault(opts.MaxTarballSize, DefaultMaxTarballSize),
		upstreamTimeout: orDefault(opts.UpstreamTimeout, DefaultUpstreamTimeout),
		tarballTimeout:  orDefault(opts.TarballTimeout, DefaultTarballTimeout),
		metas:           &docMetas{max: 1 << 20, m: map[string]docMeta{}},
		held:            newHeldRegistry(100_000),
		metrics:         newMetrics(),
		analysis:        newAnalyser(opts.Analysis),
	}
	renderBytes := orDefault(opts.RenderCacheBytes, DefaultRenderCacheBytes)
	s.renders = newLRU[*rendered](renderBytes)
	s.evals = newLRU[*evaluation](renderBytes / 4)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.hc == nil {
		s.hc = newUpstreamClient(orDefault(opts.HeaderTimeout, DefaultHeaderTimeout))
	}
	if s.userAgent == "" {
		s.userAgent = "vigil-proxy"
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.policy.Store(&policyState{decider: opts.Decider, gen: 1})
	s.registerGauges()
	return s, nil
}

func orDefault[T int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// SetDecider puts a new policy in force (after a reload or a quarantine
// change). Everything derived from the previous one — evaluations,
// filtered documents — is recomputed on next use.
func (s *Server) SetDecider(d Decider) {
	for {
		old := s.policy.Load()
		if s.policy.CompareAndSwap(old, &policyState{decider: d, gen: old.gen + 1}) {
			return
		}
	}
}

// PolicyGeneration is the number of policies put in force so far.
func (s *Server) PolicyGeneration() uint64 { return s.policy.Load().gen }

func (s *Server) registerGauges() {
	s.metrics.addGauge("vigil_proxy_cache_bytes", "Bytes the on-disk cache holds (documents and tarballs).", func() float64 { return float64(s.cache.Stats().Bytes) })
	s.metrics.addGauge("vigil_proxy_cache_entries", "Entries in the on-disk cache.", func() float64 { return float64(s.cache.Stats().Entries) })
	s.metrics.addGauge("vigil_proxy_cache_evictions", "Entries evicted from the on-disk cache since start.", func() float64 { return float64(s.cache.Stats().Evictions) })
	s.metrics.addGauge("vigil_proxy_rendered_bytes", "Memory held by filtered packuments (plain and gzip).", func() float64 { return float64(s.renders.size()) })
	s.metrics.addGauge("vigil_proxy_policy_generation", "Policies put in force since start (reloads + 1).", func() float64 { return float64(s.PolicyGeneration()) })
	s.metrics.addGauge("vigil_proxy_held_packages", "Packages with versions currently held back.", func() float64 { return float64(len(s.held.list(s.now()))) })
}

// Handler serves the registry API.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveRegistry)
}

// serveRegistry routes one registry request.
func (s *Server) serveRegistry(w http.ResponseWriter, r *http.Request) {
	rw := &statusRecorder{ResponseWriter: w}
	routeName := "other"
	defer func() {
		s.metrics.requests.inc(routeName, strconv.Itoa(rw.statusOr200()))
	}()
	rt, err := parseRoute(r.URL.EscapedPath())
	if err != nil {
		routeName = "invalid"
		writeError(rw, http.StatusNotFound, "vigil: "+err.Error())
		return
	}
	switch rt.kind {
	case routeSpecial:
		routeName = "special"
		s.serveSpecial(rw, r, rt)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPut, http.MethodDelete, http.MethodPost, http.MethodPatch:
		routeName = "write"
		rw.Header().Set("Allow", "GET, HEAD")
		writeError(rw, http.StatusMethodNotAllowed, "vigil: the registry firewall is read-only: "+
			"publish, unpublish, deprecate and dist-tag changes go to the upstream registry directly (npm publish --registry <upstream>)")
		return
	default:
		routeName = "write"
		rw.Header().Set("Allow", "GET, HEAD")
		writeError(rw, http.StatusMethodNotAllowed, "vigil: method "+r.Method+" is not served")
		return
	}
	switch rt.kind {
	case routePackument:
		routeName = "packument"
		s.servePackument(rw, r, rt)
	case routeVersion:
		routeName = "version"
		s.serveVersion(rw, r, rt)
	case routeTarball:
		routeName = "tarball"
		s.serveTarball(rw, r, rt)
	}
}

// statusRecorder remembers the status sent, for metrics and records.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusRecorder) statusOr200() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// currentDecision returns the decision for name@version under the policy
// in force, fetching and evaluating the document as a request would (the
// admin API's explain).
func (s *Server) currentDecision(ctx context.Context, name, version string) (policy.Decision, bool, error) {
	up := s.ups.forName(name)
	doc, err := s.document(ctx, up, name, "")
	if err != nil {
		return policy.Decision{}, false, err
	}
	e, err := s.evaluate(doc)
	if err != nil {
		return policy.Decision{}, false, err
	}
	d, ok := e.Decisions[version]
	return d, ok, nil
}
