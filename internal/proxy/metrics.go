package proxy

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The proxy's metrics, in the Prometheus text exposition format (0.0.4).
//
// github.com/prometheus/client_golang is in go.mod, but go.sum lacks the
// entries of its own dependencies (client_model, common, procfs, protobuf,
// xxhash, perks), and adding them is not this package's call; these few
// counters and one histogram are written out directly instead. The names
// and labels follow Prometheus conventions, so moving to client_golang
// later changes no dashboard.

// metrics holds every series the proxy exports.
type metrics struct {
	requests          *counterVec   // route, status
	upstreamLatency   *histogramVec // kind
	upstreamErrors    *counterVec   // kind, reason
	cacheLookups      *counterVec   // kind, result
	decisions         *counterVec   // action, rule
	integrityFailures *counterVec
	coalesced         *counterVec // kind
	staleServed       *counterVec
	recordErrors      *counterVec
	gauges            []gaugeFunc
}

func newMetrics() *metrics {
	return &metrics{
		requests:          newCounterVec("vigil_proxy_requests_total", "Requests answered, by route and HTTP status.", "route", "status"),
		upstreamLatency:   newHistogramVec("vigil_proxy_upstream_request_duration_seconds", "Time to the upstream's response headers, by request kind.", []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}, "kind"),
		upstreamErrors:    newCounterVec("vigil_proxy_upstream_errors_total", "Upstream requests that failed, by kind and reason (status code, network, timeout, truncated).", "kind", "reason"),
		cacheLookups:      newCounterVec("vigil_proxy_cache_lookups_total", "Cache lookups by kind (packument, rendered, tarball) and result (hit, miss, stale, revalidated).", "kind", "result"),
		decisions:         newCounterVec("vigil_proxy_policy_decisions_total", "Versions held back or warned about, by action, rule and route: route=tarball counts refused or warned tarball requests, route=packument the versions removed each time a document is filtered.", "action", "rule", "route"),
		integrityFailures: newCounterVec("vigil_proxy_integrity_failures_total", "Tarballs refused because their bytes did not match dist.integrity."),
		coalesced:         newCounterVec("vigil_proxy_coalesced_requests_total", "Requests that waited for an identical request already in flight instead of asking the upstream, by kind.", "kind"),
		staleServed:       newCounterVec("vigil_proxy_stale_served_total", "Packuments served from the cache because the upstream failed (stale-if-error)."),
		recordErrors:      newCounterVec("vigil_proxy_download_record_errors_total", "Download records the store did not accept."),
	}
}

// gaugeFunc is a gauge read when scraped.
type gaugeFunc struct {
	name, help string
	fn         func() float64
}

func (m *metrics) addGauge(name, help string, fn func() float64) {
	m.gauges = append(m.gauges, gaugeFunc{name, help, fn})
}

// writeTo writes every series in the text exposition format.
func (m *metrics) writeTo(w io.Writer) error {
	var b strings.Builder
	for _, c := range []*counterVec{m.requests, m.upstreamErrors, m.cacheLookups, m.decisions, m.integrityFailures, m.coalesced, m.staleServed, m.recordErrors} {
		c.write(&b)
	}
	m.upstreamLatency.write(&b)
	for _, g := range m.gauges {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", g.name, g.help, g.name, g.name, formatFloat(g.fn()))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// counterVec is a counter with labels.
type counterVec struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	values     map[string]float64 // by encoded label values
}

func newCounterVec(name, help string, labels ...string) *counterVec {
	return &counterVec{name: name, help: help, labels: labels, values: map[string]float64{}}
}

// inc adds one to the series with these label values (one per label).
func (c *counterVec) inc(values ...string) { c.add(1, values...) }

func (c *counterVec) add(n float64, values ...string) {
	k := labelString(c.labels, values)
	c.mu.Lock()
	c.values[k] += n
	c.mu.Unlock()
}

// value returns a series' current value (tests read it).
func (c *counterVec) value(values ...string) float64 {
	k := labelString(c.labels, values)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.values[k]
}

func (c *counterVec) write(b *strings.Builder) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s counter\n", c.name, c.help, c.name)
	c.mu.Lock()
	keys := make([]string, 0, len(c.values))
	for k := range c.values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "%s%s %s\n", c.name, k, formatFloat(c.values[k]))
	}
	c.mu.Unlock()
}

// histogramVec is a histogram with labels.
type histogramVec struct {
	name, help string
	labels     []string
	bounds     []float64
	mu         sync.Mutex
	series     map[string]*histogram
}

type histogram struct {
	counts []uint64 // per bound, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

func newHistogramVec(name, help string, bounds []float64, labels ...string) *histogramVec {
	return &histogramVec{name: name, help: help, labels: labels, bounds: bounds, series: map[string]*histogram{}}
}

func (h *histogramVec) observe(v float64, values ...string) {
	k := labelString(h.labels, values)
	i, _ := slices.BinarySearch(h.bounds, v)
	h.mu.Lock()
	s := h.series[k]
	if s == nil {
		s = &histogram{counts: make([]uint64, len(h.bounds)+1)}
		h.series[k] = s
	}
	s.counts[i]++
	s.sum += v
	s.n++
	h.mu.Unlock()
}

func (h *histogramVec) write(b *strings.Builder) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s histogram\n", h.name, h.help, h.name)
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := make([]string, 0, len(h.series))
	for k := range h.series {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s := h.series[k]
		inner := strings.TrimSuffix(strings.TrimPrefix(k, "{"), "}")
		if inner != "" {
			inner += ","
		}
		var cum uint64
		for i, bound := range h.bounds {
			cum += s.counts[i]
			fmt.Fprintf(b, "%s_bucket{%sle=%q} %d\n", h.name, inner, formatFloat(bound), cum)
		}
		cum += s.counts[len(h.bounds)]
		fmt.Fprintf(b, "%s_bucket{%sle=\"+Inf\"} %d\n", h.name, inner, cum)
		fmt.Fprintf(b, "%s_sum%s %s\n%s_count%s %d\n", h.name, k, formatFloat(s.sum), h.name, k, s.n)
	}
}

// labelString renders {a="x",b="y"}, or "" without labels.
func labelString(names, values []string) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		v := ""
		if i < len(values) {
			v = values[i]
		}
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(escapeLabel(v))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(v string) string { return labelEscaper.Replace(v) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
