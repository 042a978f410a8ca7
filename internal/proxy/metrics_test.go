package proxy

import (
	"bytes"
	"compress/gzip"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches the proxy's metrics route the way a Prometheus server
// does and parses the text exposition; a malformed exposition fails the
// test.
func scrape(t *testing.T, st *stack) map[string]*dto.MetricFamily {
	t.Helper()
	resp, body := st.get(t, "GET", "/-/vigil/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: status %d\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("metrics Content-Type %q, want the text format 0.0.4", ct)
	}
	return parseExposition(t, body)
}

func parseExposition(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the exposition: %v\n%s", err, body)
	}
	return fams
}

// sample returns the value of series name{labels} — labels as name/value
// pairs, all of the series' labels — for a counter or gauge, or the
// observation count for a histogram. ok is false when there is no such
// series.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		match := true
		for _, lp := range m.GetLabel() {
			if w, ok := want[lp.GetName()]; !ok || w != lp.GetValue() {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount()), true
		default:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// TestMetricsScrape sends a known mix of requests through a running
// stack and checks, in what a scraper reads, that each counter moved by
// exactly what those requests imply.
func TestMetricsScrape(t *testing.T) {
	st := startStack(t, stackOptions{})
	const tampered = "/ms/-/ms-2.1.3.tgz"
	st.upstream.set(func(f *fakeRegistry) { f.tamper[tampered] = true })
	for _, r := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/debug", 200},                   // packument and rendered miss; debug@4.4.2 (malware) removed
		{"GET", "/debug", 200},                   // rendered hit
		{"GET", "/debug/-/debug-4.4.1.tgz", 200}, // tarball miss, downloaded
		{"GET", "/debug/-/debug-4.4.1.tgz", 200}, // tarball hit
		{"GET", "/debug/-/debug-4.4.2.tgz", 403}, // blocked by the advisory
		{"GET", tampered, 502},                   // packument miss, tarball miss, integrity failure
		{"PUT", "/debug", 405},
		{"GET", "/-/vigil/healthz", 200},
	} {
		if resp, body := st.get(t, r.method, r.path); resp.StatusCode != r.status {
			t.Fatalf("%s %s: %d %s; want %d", r.method, r.path, resp.StatusCode, body, r.status)
		}
	}

	fams := scrape(t, st)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"vigil_proxy_requests_total", []string{"route", "packument", "status", "200"}, 2},
		{"vigil_proxy_requests_total", []string{"route", "tarball", "status", "200"}, 2},
		{"vigil_proxy_requests_total", []string{"route", "tarball", "status", "403"}, 1},
		{"vigil_proxy_requests_total", []string{"route", "tarball", "status", "502"}, 1},
		{"vigil_proxy_requests_total", []string{"route", "write", "status", "405"}, 1},
		// The scrape itself is counted once it has been answered.
		{"vigil_proxy_requests_total", []string{"route", "special", "status", "200"}, 1},
		{"vigil_proxy_cache_lookups_total", []string{"kind", "rendered", "result", "miss"}, 1},
		{"vigil_proxy_cache_lookups_total", []string{"kind", "rendered", "result", "hit"}, 1},
		{"vigil_proxy_cache_lookups_total", []string{"kind", "packument", "result", "miss"}, 2},
		{"vigil_proxy_cache_lookups_total", []string{"kind", "tarball", "result", "miss"}, 2},
		{"vigil_proxy_cache_lookups_total", []string{"kind", "tarball", "result", "hit"}, 1},
		{"vigil_proxy_policy_decisions_total", []string{"action", "block", "rule", "advisory", "route", "packument"}, 1},
		{"vigil_proxy_policy_decisions_total", []string{"action", "block", "rule", "advisory", "route", "tarball"}, 1},
		{"vigil_proxy_integrity_failures_total", nil, 1},
		{"vigil_proxy_stale_served_total", nil, 0},
		{"vigil_proxy_download_record_errors_total", nil, 0},
		{"vigil_proxy_upstream_request_duration_seconds", []string{"kind", "packument"}, 2},
		{"vigil_proxy_upstream_request_duration_seconds", []string{"kind", "tarball"}, 2},
		{"vigil_proxy_policy_generation", nil, 1},
		{"vigil_proxy_cache_entries", nil, float64(st.cache.Stats().Entries)},
		{"vigil_proxy_cache_bytes", nil, float64(st.cache.Stats().Bytes)},
	} {
		got, ok := sample(fams, tc.name, tc.labels...)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	if got, _ := sample(fams, "vigil_proxy_cache_entries"); got < 3 {
		t.Errorf("cache entries %v: want the two documents and the tarball", got)
	}
	if got, _ := sample(fams, "vigil_proxy_rendered_bytes"); got <= 0 {
		t.Errorf("rendered bytes %v: the filtered debug document is held", got)
	}

	for name, typ := range map[string]dto.MetricType{
		"vigil_proxy_requests_total":                    dto.MetricType_COUNTER,
		"vigil_proxy_upstream_request_duration_seconds": dto.MetricType_HISTOGRAM,
		"vigil_proxy_cache_bytes":                       dto.MetricType_GAUGE,
		"go_goroutines":                                 dto.MetricType_GAUGE,   // Go runtime collector
		"process_cpu_seconds_total":                     dto.MetricType_COUNTER, // process collector
		"process_open_fds":                              dto.MetricType_GAUGE,
		"promhttp_metric_handler_errors_total":          dto.MetricType_COUNTER, // at 0 until a scrape fails
	} {
		if f := fams[name]; f == nil || f.GetType() != typ {
			t.Errorf("%s: family %v, want type %v", name, f, typ)
		}
	}
	if f := fams["vigil_proxy_upstream_request_duration_seconds"]; f != nil {
		var bounds []float64
		for _, b := range f.GetMetric()[0].GetHistogram().GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		want := append(slices.Clone(upstreamLatencyBuckets), math.Inf(1))
		if !slices.Equal(bounds, want) {
			t.Errorf("latency buckets %v, want %v", bounds, want)
		}
	}

	// Gauges are read when scraped: a new policy shows at once.
	st.server.SetDecider(st.decider)
	fams = scrape(t, st)
	if got, _ := sample(fams, "vigil_proxy_policy_generation"); got != 2 {
		t.Errorf("policy generation after SetDecider %v, want 2", got)
	}
	if got, _ := sample(fams, "vigil_proxy_requests_total", "route", "special", "status", "200"); got != 2 {
		t.Errorf("special requests after a second scrape %v, want 2", got)
	}
}

// TestMetricsHandler checks the promhttp handler: it negotiates the
// format, compresses, and serves the series writeTo writes.
func TestMetricsHandler(t *testing.T) {
	st := startStack(t, stackOptions{})
	if resp, _ := st.get(t, "GET", "/debug"); resp.StatusCode != 200 {
		t.Fatalf("GET /debug: %d", resp.StatusCode)
	}
	for _, tc := range []struct {
		name, accept, encoding string
		wantType               string
		wantEOF                bool // OpenMetrics ends with "# EOF"
	}{
		{"text by default", "", "", "text/plain; version=0.0.4", false},
		{"text gzipped", "text/plain", "gzip", "text/plain; version=0.0.4", false},
		{"openmetrics", "application/openmetrics-text; version=1.0.0", "", "application/openmetrics-text; version=1.0.0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/-/vigil/metrics", nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			if tc.encoding != "" {
				req.Header.Set("Accept-Encoding", tc.encoding)
			}
			w := httptest.NewRecorder()
			st.server.metrics.handler.ServeHTTP(w, req)
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Errorf("Content-Type %q, want %q", ct, tc.wantType)
			}
			body := w.Body.Bytes()
			if got := w.Header().Get("Content-Encoding"); got != tc.encoding {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.encoding)
			}
			if tc.encoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if got := bytes.HasSuffix(body, []byte("# EOF\n")); got != tc.wantEOF {
				t.Errorf("ends with # EOF: %v, want %v", got, tc.wantEOF)
			}
			want := `vigil_proxy_requests_total{route="packument",status="200"} 1`
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("missing %s in\n%s", want, body)
			}
			if !tc.wantEOF {
				fams := parseExposition(t, body)
				if _, ok := sample(fams, "go_goroutines"); !ok {
					t.Error("no go_goroutines")
				}
			}
		})
	}
}

// TestMetricsRegistryPerServer: two servers in one process keep apart
// counters; on the global registry the second would panic on
// registration or both would count together.
func TestMetricsRegistryPerServer(t *testing.T) {
	a, b := newMetrics(), newMetrics()
	a.addGauge("vigil_test_gauge", "A gauge both registries hold.", func() float64 { return 7 })
	b.addGauge("vigil_test_gauge", "A gauge both registries hold.", func() float64 { return 9 })
	a.requests.inc("packument", "200")
	a.requests.inc("packument", "200")
	a.upstreamLatency.observe(0.2, "tarball")

	var ab, bb bytes.Buffer
	if err := a.writeTo(&ab); err != nil {
		t.Fatal(err)
	}
	if err := b.writeTo(&bb); err != nil {
		t.Fatal(err)
	}
	fa, fb := parseExposition(t, ab.Bytes()), parseExposition(t, bb.Bytes())
	for _, tc := range []struct {
		fams   map[string]*dto.MetricFamily
		name   string
		labels []string
		want   float64
		ok     bool
	}{
		{fa, "vigil_proxy_requests_total", []string{"route", "packument", "status", "200"}, 2, true},
		{fb, "vigil_proxy_requests_total", []string{"route", "packument", "status", "200"}, 0, false},
		{fa, "vigil_proxy_upstream_request_duration_seconds", []string{"kind", "tarball"}, 1, true},
		{fb, "vigil_proxy_upstream_request_duration_seconds", []string{"kind", "tarball"}, 0, false},
		{fa, "vigil_test_gauge", nil, 7, true},
		{fb, "vigil_test_gauge", nil, 9, true},
		// Unlabelled counters are exported at 0 before anything happens,
		// so an alert on them can fire from the first increment.
		{fb, "vigil_proxy_integrity_failures_total", nil, 0, true},
	} {
		got, ok := sample(tc.fams, tc.name, tc.labels...)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s%v = %v (present %v), want %v (present %v)", tc.name, tc.labels, got, ok, tc.want, tc.ok)
		}
	}
	if got := a.requests.value("packument", "200"); got != 2 {
		t.Errorf("value() = %v, want 2", got)
	}
}

// TestMetricsWriteError: a client that hangs up mid-scrape surfaces as an
// error naming the family being written.
func TestMetricsWriteError(t *testing.T) {
	m := newMetrics()
	err := m.writeTo(failingWriter{})
	if err == nil || !strings.Contains(err.Error(), "metrics: writing ") || !errors.Is(err, errHungUp) {
		t.Errorf("writeTo on a failing writer: %v", err)
	}
}

var errHungUp = errors.New("client hung up")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errHungUp }

// TestMetricsCallSitesMatchLabels reads every call of
// s.metrics.<series>.inc/observe in the package's code and checks that it
// passes one value per label: client_golang panics on a mismatch, and
// some call sites (upstream failures) are hard to reach in a test.
func TestMetricsCallSitesMatchLabels(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	m := newMetrics()
	// Every series a call site may name; a new one must be added here.
	byField := map[string]any{
		"requests":          m.requests,
		"upstreamLatency":   m.upstreamLatency,
		"upstreamErrors":    m.upstreamErrors,
		"cacheLookups":      m.cacheLookups,
		"decisions":         m.decisions,
		"integrityFailures": m.integrityFailures,
		"coalesced":         m.coalesced,
		"staleServed":       m.staleServed,
		"recordErrors":      m.recordErrors,
		"analyses":          m.analyses,
		"analysisFailures":  m.analysisFailures,
		"tagWait":           m.tagWait,
	}
	fset := token.NewFileSet()
	sites := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			method, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (method.Sel.Name != "inc" && method.Sel.Name != "observe") {
				return true
			}
			series, ok := method.X.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if owner, ok := series.X.(*ast.SelectorExpr); !ok || owner.Sel.Name != "metrics" {
				return true
			}
			sites++
			pos := fset.Position(call.Pos())
			if call.Ellipsis.IsValid() {
				t.Errorf("%s: label values passed with ...: cannot be checked", pos)
				return true
			}
			field, known := byField[series.Sel.Name]
			if !known {
				t.Errorf("%s: metrics has no series %q (or the test's list lacks it)", pos, series.Sel.Name)
				return true
			}
			values := make([]string, len(call.Args))
			var err error
			switch s := field.(type) {
			case *counterVec:
				if method.Sel.Name != "inc" {
					t.Errorf("%s: %s is a counter", pos, series.Sel.Name)
					return true
				}
				_, err = s.vec.GetMetricWithLabelValues(values...)
			case *histogramVec:
				if method.Sel.Name != "observe" || len(values) == 0 {
					t.Errorf("%s: %s is a histogram: observe(v, labels...)", pos, series.Sel.Name)
					return true
				}
				_, err = s.vec.GetMetricWithLabelValues(values[1:]...)
			default:
				t.Errorf("%s: %s is a %T", pos, series.Sel.Name, s)
				return true
			}
			if err != nil {
				t.Errorf("%s: %s: %v", pos, series.Sel.Name, err)
			}
			return true
		})
	}
	// The proxy counts in about 25 places; finding few means this
	// test stopped looking, not that all is well.
	if sites < 10 {
		t.Errorf("found %d call sites; the pattern no longer matches the code", sites)
	}
}

// BenchmarkMetricsInc is the per-request cost of the counters on the hot
// path: a cached packument counts its route/status and a rendered hit.
func BenchmarkMetricsInc(b *testing.B) {
	m := newMetrics()
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			m.requests.inc("packument", "200")
			m.cacheLookups.inc("rendered", "hit")
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.requests.inc("packument", "200")
				m.cacheLookups.inc("rendered", "hit")
			}
		})
	})
}
