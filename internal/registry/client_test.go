package registry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const widgetPath = "/@vigil-test%2fwidget"

func TestPackumentFullAndAbbreviated(t *testing.T) {
	reg := newFakeRegistry(t).loadFixtures()
	c := reg.client(t, Options{UserAgent: "vigil-test/1"})
	ctx := t.Context()

	full, err := c.Packument(ctx, "@vigil-test/widget")
	if err != nil {
		t.Fatal(err)
	}
	r := reg.last()
	if r.URL.EscapedPath() != widgetPath || r.Header.Get("Accept") != MediaTypeJSON || r.Header.Get("User-Agent") != "vigil-test/1" {
		t.Errorf("request %s Accept %q UA %q", r.URL.EscapedPath(), r.Header.Get("Accept"), r.Header.Get("User-Agent"))
	}
	if full.Abbreviated || len(full.Versions) != 7 || full.Publisher("2.1.0") == nil || len(full.Time) == 0 {
		t.Errorf("full: abbreviated %v versions %d", full.Abbreviated, len(full.Versions))
	}

	abbr, err := c.AbbreviatedPackument(ctx, "@vigil-test/widget")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(reg.last().Header.Get("Accept"), MediaTypeAbbreviated) {
		t.Errorf("Accept %q", reg.last().Header.Get("Accept"))
	}
	if !abbr.Abbreviated || abbr.Publisher("2.1.0") != nil || !abbr.Versions["2.1.0"].HasInstallScript {
		t.Errorf("abbreviated: %v", abbr.Abbreviated)
	}

	// A registry that ignores the corgi Accept header (the development
	// mirror does) answers with the full document, and says so.
	mirror, err := c.AbbreviatedPackument(ctx, "is-number")
	if err != nil {
		t.Fatal(err)
	}
	if mirror.Abbreviated || len(mirror.Versions) != 15 {
		t.Errorf("mirror: abbreviated %v versions %d", mirror.Abbreviated, len(mirror.Versions))
	}
}

func TestPackumentEncodingAndPaths(t *testing.T) {
	// Registries behind Artifactory or Nexus live under a path.
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.EscapedPath())
		_, _ = io.WriteString(w, `{"name":"@types/node","versions":{}}`)
	}))
	t.Cleanup(srv.Close)
	for _, base := range []string{srv.URL + "/api/npm/npm-remote", srv.URL + "/api/npm/npm-remote/"} {
		c, err := New(base, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Packument(t.Context(), "@types/node"); err != nil {
			t.Fatal(err)
		}
		if c.conventionalTarballURL("@types/node", "1.2.3") != srv.URL+"/api/npm/npm-remote/@types/node/-/node-1.2.3.tgz" ||
			c.conventionalTarballURL("is-number", "7.0.0") != srv.URL+"/api/npm/npm-remote/is-number/-/is-number-7.0.0.tgz" {
			t.Errorf("conventional URLs %s %s", c.conventionalTarballURL("@types/node", "1.2.3"), c.conventionalTarballURL("is-number", "7.0.0"))
		}
	}
	for _, p := range got {
		if p != "/api/npm/npm-remote/@types%2fnode" {
			t.Errorf("requested %s", p)
		}
	}

	c, _ := New("", Options{})
	for _, name := range []string{"", "../../etc/passwd", "@scope/", "a b", "@x/y/z"} {
		if _, err := c.Packument(t.Context(), name); err == nil {
			t.Errorf("%q: accepted", name)
		}
	}
	for _, bad := range []string{"ftp://registry.example/", "registry.example", "http://"} {
		if _, err := New(bad, Options{}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}

func TestConditionalRequests(t *testing.T) {
	reg := newFakeRegistry(t).loadFixtures()
	c := reg.client(t, Options{})
	ctx := t.Context()

	first, err := c.PackumentIfChanged(ctx, "@vigil-test/widget", Conditional{})
	if err != nil {
		t.Fatal(err)
	}
	if first.NotModified || first.Packument == nil || first.ETag == "" || first.LastModified == "" {
		t.Fatalf("first: %+v", first)
	}
	again, err := c.PackumentIfChanged(ctx, "@vigil-test/widget", Conditional{ETag: first.ETag})
	if err != nil {
		t.Fatal(err)
	}
	if !again.NotModified || again.Packument != nil || again.ETag != first.ETag {
		t.Fatalf("with ETag: %+v", again)
	}
	if reg.last().Header.Get("If-None-Match") != first.ETag {
		t.Error("If-None-Match not sent")
	}
	since, err := c.PackumentIfChanged(ctx, "@vigil-test/widget", Conditional{LastModified: first.LastModified})
	if err != nil || !since.NotModified || since.LastModified != first.LastModified {
		t.Fatalf("with Last-Modified: %+v %v", since, err)
	}
	// A stale validator gets the document.
	stale, err := c.PackumentIfChanged(ctx, "@vigil-test/widget", Conditional{ETag: `"0000"`})
	if err != nil || stale.NotModified || stale.Packument == nil {
		t.Fatalf("stale ETag: %+v %v", stale, err)
	}
	// The abbreviated form has its own validator.
	abbr, err := c.PackumentIfChanged(ctx, "@vigil-test/widget", Conditional{ETag: first.ETag, Abbreviated: true})
	if err != nil || abbr.NotModified || !abbr.Packument.Abbreviated || abbr.ETag == first.ETag {
		t.Fatalf("abbreviated with the full ETag: %+v %v", abbr, err)
	}
}

func TestNotFound(t *testing.T) {
	reg := newFakeRegistry(t).loadFixtures()
	c := reg.client(t, Options{})
	_, err := c.Packument(t.Context(), "no-such-package")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v", err)
	}
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 404 || se.Body != `{"error":"Not found"}` {
		t.Errorf("status error %+v", se)
	}
	if n := reg.count("/no-such-package"); n != 1 {
		t.Errorf("a 404 was retried: %d requests", n)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		faults   []fault
		retries  int
		wantErr  error // nil: success
		wantReqs int
		minWait  time.Duration
	}{
		{"500 then 502 then success", []fault{{status: 500}, {status: 502}}, 0, nil, 3, 0},
		{"503 past the retry budget", []fault{{status: 503}, {status: 503}}, 1, nil, 2, 0},
		{"429 with Retry-After seconds", []fault{{status: 429, retryAfter: "1"}}, 0, nil, 2, time.Second},
		{"429 with a Retry-After beyond the cap", []fault{{status: 429, retryAfter: "3600"}}, 0, nil, 1, 0},
		{"408 is retried", []fault{{status: 408}}, 0, nil, 2, 0},
		{"501 is not retried", []fault{{status: 501}}, 0, nil, 1, 0},
		{"403 is not retried", []fault{{status: 403}}, 0, nil, 1, 0},
		{"retries disabled", []fault{{status: 500}}, -1, nil, 1, 0},
		{"truncated body then success", []fault{{truncate: true}}, 0, nil, 2, 0},
		{"always truncated", []fault{{truncate: true}, {truncate: true}, {truncate: true}, {truncate: true}}, 0, io.ErrUnexpectedEOF, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newFakeRegistry(t).loadFixtures()
			reg.fail(widgetPath, tt.faults...)
			c := reg.client(t, Options{Retries: tt.retries, RetryMaxWait: 2 * time.Second})
			start := time.Now()
			p, err := c.Packument(t.Context(), "@vigil-test/widget")
			elapsed := time.Since(start)
			if n := reg.count(widgetPath); n != tt.wantReqs {
				t.Errorf("%d requests, want %d", n, tt.wantReqs)
			}
			if elapsed < tt.minWait {
				t.Errorf("retried after %v, before the server's Retry-After %v", elapsed, tt.minWait)
			}
			succeeded := tt.wantReqs > len(tt.faults)
			switch {
			case succeeded && err != nil:
				t.Fatalf("error %v", err)
			case succeeded && (p == nil || len(p.Versions) != 7):
				t.Fatalf("packument %+v", p)
			case !succeeded && err == nil:
				t.Fatal("no error")
			case !succeeded && tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			var se *StatusError
			if tt.faults[0].retryAfter == "3600" && (!errors.As(err, &se) || se.RetryAfter != time.Hour) {
				t.Errorf("Retry-After not reported: %v", err)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	t.Run("slow registry, client timeout, retries bounded", func(t *testing.T) {
		reg := newFakeRegistry(t).loadFixtures()
		reg.fail(widgetPath, fault{delay: 5 * time.Second}, fault{delay: 5 * time.Second})
		c := reg.client(t, Options{HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}, Retries: 1})
		start := time.Now()
		_, err := c.Packument(t.Context(), "@vigil-test/widget")
		if err == nil || time.Since(start) > 2*time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
		if n := reg.count(widgetPath); n != 2 {
			t.Errorf("%d attempts, want 2", n)
		}
	})
	t.Run("slow once, then served", func(t *testing.T) {
		reg := newFakeRegistry(t).loadFixtures()
		reg.fail(widgetPath, fault{delay: 5 * time.Second})
		c := reg.client(t, Options{HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})
		if _, err := c.Packument(t.Context(), "@vigil-test/widget"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("context deadline ends the request and the retries", func(t *testing.T) {
		reg := newFakeRegistry(t).loadFixtures()
		reg.fail(widgetPath, fault{delay: 5 * time.Second})
		c := reg.client(t, Options{})
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Packument(ctx, "@vigil-test/widget")
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
		if n := reg.count(widgetPath); n != 1 {
			t.Errorf("%d attempts after the deadline", n)
		}
	})
	t.Run("cancellation during a backoff wait", func(t *testing.T) {
		reg := newFakeRegistry(t).loadFixtures()
		reg.fail(widgetPath, fault{status: 503, retryAfter: "10"})
		c := reg.client(t, Options{RetryMaxWait: time.Minute})
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Packument(ctx, "@vigil-test/widget")
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
	})
	t.Run("default client has timeouts", func(t *testing.T) {
		c, err := New("", Options{})
		if err != nil {
			t.Fatal(err)
		}
		tr, ok := c.hc.Transport.(*http.Transport)
		if c.hc == http.DefaultClient || c.hc.Timeout == 0 || !ok || tr.ResponseHeaderTimeout == 0 || tr.TLSHandshakeTimeout == 0 {
			t.Errorf("default client %+v", c.hc)
		}
	})
}

func TestSizeLimits(t *testing.T) {
	reg := newFakeRegistry(t).loadFixtures()
	c := reg.client(t, Options{MaxPackumentSize: 4096, MaxTarballSize: 1000})
	ctx := t.Context()
	// The fake registry gzips packuments (no Content-Length): the limit is
	// met while reading the decompressed body.
	if _, err := c.Packument(ctx, "@vigil-test/widget"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("packument: %v", err)
	}
	// Tarballs come with a Content-Length: refused before reading.
	p, err := New(reg.srv.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := p.Packument(ctx, "@x402/express")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ManifestTarball(ctx, x.Versions["2.12.0"])
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Size != 15062 || tl.Limit != 1000 {
		t.Errorf("tarball: %v", err)
	}
	if n := reg.count("/@x402/express/-/express-2.12.0.tgz"); n != 1 {
		t.Errorf("an oversized response was retried: %d", n)
	}
}

func TestTarball(t *testing.T) {
	reg := newFakeRegistry(t).loadFixtures()
	c := reg.client(t, Options{})
	ctx := t.Context()
	x, err := c.Packument(ctx, "@x402/express")
	if err != nil {
		t.Fatal(err)
	}
	m := x.Versions["2.12.0"]

	// dist.tarball names registry.npmjs.org; like npm, the client fetches
	// it from the configured registry.
	data, err := c.ManifestTarball(ctx, m)
	if err != nil || len(data) != 15062 {
		t.Fatalf("verified download: %d bytes, %v", len(data), err)
	}
	if reg.last().URL.Path != "/@x402/express/-/express-2.12.0.tgz" {
		t.Errorf("fetched %s", reg.last().URL)
	}

	// Versions from before integrity existed are checked by shasum.
	old := *m
	old.Dist.Integrity = ""
	if _, err := c.ManifestTarball(ctx, &old); err != nil {
		t.Errorf("shasum fallback: %v", err)
	}
	old.Dist.Shasum = ""
	if _, err := c.ManifestTarball(ctx, &old); !errors.Is(err, ErrNoIntegrity) {
		t.Errorf("nothing to verify against: %v", err)
	}

	// A tampered body: no bytes, a typed error, and no retry.
	reg.fail("/@x402/express/-/express-2.12.0.tgz", fault{corrupt: true})
	before := reg.count("/@x402/express/-/express-2.12.0.tgz")
	data, err = c.ManifestTarball(ctx, m)
	var ie *IntegrityError
	if !errors.Is(err, ErrIntegrity) || !errors.As(err, &ie) || data != nil || ie.Want != m.Dist.Integrity || ie.Got == ie.Want {
		t.Fatalf("corrupt tarball: %d bytes, %v", len(data), err)
	}
	if n := reg.count("/@x402/express/-/express-2.12.0.tgz") - before; n != 1 {
		t.Errorf("%d requests for a corrupt tarball", n)
	}

	// The wrong integrity for the right bytes is a mismatch too.
	wrong := parseFixture(t, "packuments/widget.json").Versions["1.0.0"].Dist.Integrity
	if _, err := c.Tarball(ctx, m.Dist.Tarball, wrong); !errors.Is(err, ErrIntegrity) {
		t.Errorf("wrong integrity: %v", err)
	}
	// A truncated tarball is retried and then verified.
	reg.fail("/is-number/-/is-number-7.0.0.tgz", fault{truncate: true})
	n, err := c.Packument(ctx, "is-number")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ManifestTarball(ctx, n.Versions["7.0.0"]); err != nil {
		t.Errorf("truncated once: %v", err)
	}
	for _, bad := range []string{"file:///etc/passwd", "", "javascript:alert(1)"} {
		if _, err := c.Tarball(ctx, bad, m.Dist.Integrity); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
	if _, err := c.Tarball(ctx, m.Dist.Tarball, "md5-xxxx"); err == nil {
		t.Error("unknown integrity algorithm accepted")
	}
}

func TestTokenStaysWithTheRegistry(t *testing.T) {
	reg := newFakeRegistry(t).loadFixtures()
	var elsewhere http.Header
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere = r.Header.Clone()
		_, _ = w.Write(readFixture(t, "tarballs/widget-1.0.0.tgz"))
	}))
	t.Cleanup(cdn.Close)
	c := reg.client(t, Options{Token: "npm_secret"})
	ctx := t.Context()
	p, err := c.Packument(ctx, "@vigil-test/widget")
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.last().Header.Get("Authorization"); got != "Bearer npm_secret" {
		t.Errorf("registry got Authorization %q", got)
	}
	m := *p.Versions["1.0.0"]
	m.Dist.Tarball = cdn.URL + "/widget-1.0.0.tgz"
	if _, err := c.ManifestTarball(ctx, &m); err != nil {
		t.Fatal(err)
	}
	if elsewhere == nil || elsewhere.Get("Authorization") != "" {
		t.Errorf("token sent to another host: %v", elsewhere)
	}
}

func TestWrongPackumentIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(readFixture(t, "packuments/x402-express.json"))
	}))
	t.Cleanup(srv.Close)
	c, _ := New(srv.URL, Options{})
	if _, err := c.Packument(t.Context(), "express"); err == nil || !strings.Contains(err.Error(), `"@x402/express"`) {
		t.Errorf("got %v", err)
	}
}

func TestFetchVersion(t *testing.T) {
	reg := newFakeRegistry(t).loadFixtures()
	c := reg.client(t, Options{})
	ctx := t.Context()

	t.Run("listed, by dist-tag", func(t *testing.T) {
		rel, err := c.FetchVersion(ctx, "@vigil-test/widget", "v1")
		if err != nil {
			t.Fatal(err)
		}
		if rel.Version != "1.1.1" || !rel.Verified || rel.Unlisted || rel.Manifest == nil ||
			rel.Integrity != rel.Manifest.Dist.Integrity || string(rel.Tarball) != string(readFixture(t, "tarballs/widget-1.1.1.tgz")) {
			t.Errorf("%+v", rel)
		}
	})
	t.Run("unpublished version from its conventional URL", func(t *testing.T) {
		rel, err := c.FetchVersion(ctx, "@vigil-test/widget", "2.1.1")
		if err != nil {
			t.Fatal(err)
		}
		want := sha512SRI(readFixture(t, "tarballs/widget-2.1.1.tgz"))
		if rel.Verified || !rel.Unlisted || rel.Manifest != nil || rel.Packument == nil || rel.Integrity != want ||
			!strings.HasSuffix(rel.TarballURL, "/@vigil-test/widget/-/widget-2.1.1.tgz") {
			t.Errorf("%+v", rel)
		}
		if at, ok := rel.Packument.PublishTime("2.1.1"); !ok || at.IsZero() {
			t.Error("the registry's record of the publish time is lost")
		}
	})
	t.Run("a dist-tag left pointing at an unpublished version", func(t *testing.T) {
		doc := strings.Replace(string(readFixture(t, "packuments/widget.json")), `"v1":"1.1.1"`, `"v1":"2.1.1"`, 1)
		reg.mu.Lock()
		reg.full["@vigil-test/widget"] = []byte(doc)
		reg.mu.Unlock()
		defer func() {
			reg.mu.Lock()
			reg.full["@vigil-test/widget"] = readFixture(t, "packuments/widget.json")
			reg.mu.Unlock()
		}()
		rel, err := c.FetchVersion(ctx, "@vigil-test/widget", "v1")
		if err != nil || rel.Version != "2.1.1" || !rel.Unlisted || rel.Verified {
			t.Errorf("%+v %v", rel, err)
		}
	})
	t.Run("a tampered listed tarball is not returned", func(t *testing.T) {
		reg.fail("/@vigil-test/widget/-/widget-2.1.0.tgz", fault{corrupt: true})
		rel, err := c.FetchVersion(ctx, "@vigil-test/widget", "2.1.0")
		if !errors.Is(err, ErrIntegrity) || rel != nil {
			t.Errorf("%+v %v", rel, err)
		}
	})
	t.Run("whole package unpublished", func(t *testing.T) {
		reg.mu.Lock()
		reg.tarballs["/rollup-config-mbp/-/rollup-config-mbp-0.0.1-alpha.1.tgz"] = readFixture(t, "tarballs/widget-1.0.0.tgz")
		reg.mu.Unlock()
		rel, err := c.FetchVersion(ctx, "rollup-config-mbp", "0.0.1-alpha.1")
		if err != nil {
			t.Fatal(err)
		}
		if rel.Verified || !rel.Unlisted || rel.Packument == nil || rel.Packument.Unpublished == nil {
			t.Errorf("%+v", rel)
		}
	})
	t.Run("package gone, tarball still served", func(t *testing.T) {
		reg.mu.Lock()
		reg.tarballs["/gone/-/gone-1.0.0.tgz"] = readFixture(t, "tarballs/widget-1.0.0.tgz")
		reg.mu.Unlock()
		rel, err := c.FetchVersion(ctx, "gone", "1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		if rel.Verified || !rel.Unlisted || rel.Packument != nil || len(rel.Tarball) == 0 {
			t.Errorf("%+v", rel)
		}
	})
	for _, tt := range []struct{ name, version string }{
		{"@vigil-test/widget", "9.9.9"},
		{"@vigil-test/widget", "no-such-tag"},
		{"gone-for-good", "1.0.0"},
		{"gone-for-good", "latest"},
	} {
		t.Run("not found "+tt.name+"@"+tt.version, func(t *testing.T) {
			if rel, err := c.FetchVersion(ctx, tt.name, tt.version); !errors.Is(err, ErrNotFound) {
				t.Errorf("%+v %v", rel, err)
			}
		})
	}
	t.Run("the version cannot steer the URL", func(t *testing.T) {
		if _, err := c.FetchVersion(ctx, "@vigil-test/widget", "../../../x"); err == nil {
			t.Error("accepted")
		}
	})
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 10 ":                          10 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Sun, 29 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Sun, 29 Nov 2026 11:00:00 GMT": 0,
		"999999999":                     24 * time.Hour,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestCredentialsAreRedacted(t *testing.T) {
	reg := newFakeRegistry(t).loadFixtures()
	u := strings.Replace(reg.srv.URL, "http://", "http://ci:hunter2@", 1)
	c, err := New(u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	_, err1 := c.Packument(ctx, "no-such-package")
	_, err2 := c.FetchVersion(ctx, "no-such-package", "1.0.0")
	_, err3 := c.Tarball(ctx, u+"/@x402/express/-/express-2.12.0.tgz", "sha512-"+strings.Repeat("A", 86)+"==")
	for _, err := range []error{err1, err2, err3} {
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %v", err)
		}
	}
	if reg.last().Header.Get("Authorization") == "" {
		t.Error("the URL's credentials were not used")
	}
}
