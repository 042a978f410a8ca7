package proxy

import (
	"fmt"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// The proxy's metrics, kept by github.com/prometheus/client_golang.
//
// Each Server has a registry of its own rather than the global default:
// tests run several servers in one process, and each must expose only its
// own counters (and registering the same names twice on one registry
// panics). The names, labels and buckets are the ones docs/proxy.md lists;
// dashboards built on them keep working.

// upstreamLatencyBuckets span a loopback mirror (milliseconds) to a slow
// upstream near the tarball timeout (tens of seconds).
var upstreamLatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// tagWaitBuckets span an analysis answered at once to the wait's bound
// (DefaultTagWait is 2 s; an operator may raise it).
var tagWaitBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10}

// metrics holds every series the proxy exports.
type metrics struct {
	registry *prometheus.Registry
	// handler serves the registry with content negotiation (text,
	// OpenMetrics, protobuf) and gzip; serveMetrics (special.go) uses it.
	handler http.Handler

	requests          *counterVec   // route, status
	upstreamLatency   *histogramVec // kind
	upstreamErrors    *counterVec   // kind, reason
	cacheLookups      *counterVec   // kind, result
	decisions         *counterVec   // action, rule, route
	integrityFailures *counterVec
	coalesced         *counterVec // kind
	staleServed       *counterVec
	recordErrors      *counterVec
	analyses          *counterVec // trigger, verdict
	analysisFailures  *counterVec // trigger
	tagWait           *histogramVec
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry:          reg,
		requests:          newCounterVec(reg, "vigil_proxy_requests_total", "Requests answered, by route and HTTP status.", "route", "status"),
		upstreamLatency:   newHistogramVec(reg, "vigil_proxy_upstream_request_duration_seconds", "Time to the upstream's response headers, by request kind.", upstreamLatencyBuckets, "kind"),
		upstreamErrors:    newCounterVec(reg, "vigil_proxy_upstream_errors_total", "Upstream requests that failed, by kind and reason (status code, network, timeout, truncated).", "kind", "reason"),
		cacheLookups:      newCounterVec(reg, "vigil_proxy_cache_lookups_total", "Cache lookups by kind (packument, rendered, tarball) and result (hit, miss, stale, revalidated).", "kind", "result"),
		decisions:         newCounterVec(reg, "vigil_proxy_policy_decisions_total", "Versions held back or warned about, by action, rule and route: route=tarball counts refused or warned tarball requests, route=packument the versions removed each time a document is filtered.", "action", "rule", "route"),
		integrityFailures: newCounterVec(reg, "vigil_proxy_integrity_failures_total", "Tarballs refused because their bytes did not match dist.integrity."),
		coalesced:         newCounterVec(reg, "vigil_proxy_coalesced_requests_total", "Requests that waited for an identical request already in flight instead of asking the upstream, by kind.", "kind"),
		staleServed:       newCounterVec(reg, "vigil_proxy_stale_served_total", "Packuments served from the cache because the upstream failed (stale-if-error)."),
		recordErrors:      newCounterVec(reg, "vigil_proxy_download_record_errors_total", "Download records the store did not accept."),
		analyses:          newCounterVec(reg, "vigil_proxy_analyses_total", "Tarballs the proxy analysed itself (not answered from a verdict cache), by trigger (first_request: a tarball request; pre_analysis: a dist-tag target) and verdict (clean, suspicious, malicious).", "trigger", "verdict"),
		analysisFailures:  newCounterVec(reg, "vigil_proxy_analysis_failures_total", "Analyses that could not finish (timeout, no worker free in time, a tarball the reader refuses), by trigger.", "trigger"),
		tagWait:           newHistogramVec(reg, "vigil_proxy_tag_analysis_wait_seconds", "Time a packument response was held for the analysis of a young dist-tag target (policy.analysis.pre_analyse_tags), by outcome (done: every analysis landed; timeout: the bound passed; canceled: the client left).", tagWaitBuckets, "outcome"),
	}
	// Memory, goroutines, GC pauses, open file descriptors and CPU: what an
	// operator looks at first when the proxy slows down.
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// A collector that fails (say, /proc unreadable) costs its own
		// series, not the whole scrape; the failures are counted in
		// promhttp_metric_handler_errors_total on this registry.
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
		// Offered to scrapers that ask for it (Prometheus does by default).
		EnableOpenMetrics: true,
	})
	return m
}

// addGauge registers a gauge whose value fn computes at scrape time, so
// sizes read from the cache or the LRUs cost nothing per request. fn may
// be called concurrently with requests and with other gauges. A name
// registered twice panics: gauge names are constants, so that is a
// programming error every test that builds a Server would catch.
func (m *metrics) addGauge(name, help string, fn func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// writeTo writes every series in the Prometheus text exposition format
// (0.0.4), the bytes promhttp sends a scraper that asks for text. When a
// collector fails, the series gathered are still written and the error is
// returned after them.
func (m *metrics) writeTo(w io.Writer) error {
	families, gatherErr := m.registry.Gather()
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("metrics: writing %s: %w", f.GetName(), err)
		}
	}
	if gatherErr != nil {
		return fmt.Errorf("metrics: gathering: %w", gatherErr)
	}
	return nil
}

// counterVec is a counter with labels (or without: then it has one series,
// exported as 0 until first counted).
type counterVec struct {
	vec *prometheus.CounterVec
}

func newCounterVec(reg prometheus.Registerer, name, help string, labels ...string) *counterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	reg.MustRegister(v)
	if len(labels) == 0 {
		// Export 0 from the start: a failure counter that is absent until
		// the first failure makes alert rules on it silently never fire.
		v.WithLabelValues()
	}
	return &counterVec{vec: v}
}

// inc adds one to the series with these label values, one per label in
// the order given to newCounterVec. A wrong number of values is a
// programming error and panics (TestMetricsCallSitesMatchLabels checks
// every call site).
func (c *counterVec) inc(values ...string) { c.vec.WithLabelValues(values...).Inc() }

// value returns a series' current value; tests read it. Reading a series
// never counted creates it at 0.
func (c *counterVec) value(values ...string) float64 {
	var m dto.Metric
	if err := c.vec.WithLabelValues(values...).Write(&m); err != nil {
		return 0 // a counter's Write never fails
	}
	return m.GetCounter().GetValue()
}

// histogramVec is a histogram with labels.
type histogramVec struct {
	vec *prometheus.HistogramVec
}

func newHistogramVec(reg prometheus.Registerer, name, help string, buckets []float64, labels ...string) *histogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	reg.MustRegister(v)
	return &histogramVec{vec: v}
}

// observe records v (seconds) in the series with these label values.
func (h *histogramVec) observe(v float64, values ...string) {
	h.vec.WithLabelValues(values...).Observe(v)
}
