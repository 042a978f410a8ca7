package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// bigPackument builds a full packument of about size bytes in the
// registry's format: n versions of a package "big", each with the fields
// a real version carries, all pointing at one tarball.
func bigPackument(b testing.TB, registryURL string, tgz []byte, size int) []byte {
	var versions []string
	for i := range size/1400 + 1 { // a version object below is about 1.4 KB
		versions = append(versions, fmt.Sprintf("%d.%d.%d", i/400, (i/20)%20, i%20))
	}
	var buf bytes.Buffer
	buf.Grow(size + size/4)
	latest := versions[len(versions)-1]
	fmt.Fprintf(&buf, `{"_id":"big","_rev":"3012-0","name":"big","description":"a large package","dist-tags":{"latest":%q},"versions":{`, latest)
	integrity := sri(tgz)
	for i, v := range versions {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `%q:{"name":"big","version":%q,"description":"a large package","main":"index.js","scripts":{"test":"node test.js","build":"tsc -p ."},`+
			`"repository":{"type":"git","url":"git+https://github.com/example/big.git"},"keywords":["big","fixture","benchmark"],"author":"Example <dev@example.com>","license":"MIT",`+
			`"dependencies":{"ms":"^2.1.3","debug":"^4.3.0","semver":"^7.6.0"},"devDependencies":{"typescript":"^5.6.0","eslint":"^9.0.0","vitest":"^2.0.0"},`+
			`"engines":{"node":">=18"},"gitHead":"0123456789abcdef0123456789abcdef01234567","_id":"big@%s","_nodeVersion":"22.11.0","_npmVersion":"10.9.0",`+
			`"dist":{"integrity":%q,"shasum":"0123456789abcdef0123456789abcdef01234567","tarball":"%sbig/-/big-%s.tgz","fileCount":12,"unpackedSize":48213,`+
			`"signatures":[{"keyid":"SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U","sig":"MEUCIQDmZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZgIgZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"}]},`+
			`"_npmUser":{"name":"dev","email":"dev@example.com"},"directories":{},"maintainers":[{"name":"dev","email":"dev@example.com"}],`+
			`"_npmOperationalInternal":{"host":"s3://npm-registry-packages-npm-production","tmp":"tmp/big_%s_1700000000000_0.1"},"_hasShrinkwrap":false}`,
			v, v, v, integrity, registryURL, v, v)
	}
	buf.WriteString(`},"time":{"created":"2020-01-01T00:00:00.000Z"`)
	for i, v := range versions {
		fmt.Fprintf(&buf, `,%q:%q`, v, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Hour).Format("2006-01-02T15:04:05.000Z"))
	}
	buf.WriteString(`,"modified":"2025-01-01T00:00:00.000Z"},"license":"MIT","readme":"# big\n"}`)
	return buf.Bytes()
}

// BenchmarkCachedPackument serves a cached, already filtered 5 MB
// packument through the handler (no network: httptest.ResponseRecorder).
func BenchmarkCachedPackument(b *testing.B) {
	for _, tc := range []struct {
		name   string
		accept string
		gzip   bool
	}{
		{"full", "application/json", false},
		{"full-gzip", "application/json", true},
		{"abbreviated-gzip", acceptCorgi, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			st := startStack(b, stackOptions{cooldown: cooldown3d, ttl: time.Hour})
			tgz := buildTarball(b, "big", "1.0.0")
			doc := bigPackument(b, st.upstream.URL(), tgz, 5<<20)
			st.upstream.set(func(f *fakeRegistry) { f.docs["big"] = doc })
			h := st.server.Handler()
			req := httptest.NewRequest("GET", "/big", nil)
			req.Header.Set("Accept", tc.accept)
			if tc.gzip {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req) // fill the caches
			if w.Code != 200 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
			served := w.Body.Len()
			b.ResetTimer()
			for b.Loop() {
				w := &discardRecorder{header: http.Header{}}
				h.ServeHTTP(w, req)
				if w.code != 200 {
					b.Fatal(w.code)
				}
			}
			b.ReportMetric(float64(len(doc)), "upstream-bytes")
			b.ReportMetric(float64(served), "served-bytes")
		})
	}
}

// BenchmarkRenderPackument measures filtering a 5 MB document once (what a
// cache miss or a policy reload costs): parse, evaluate, render, gzip.
func BenchmarkRenderPackument(b *testing.B) {
	st := startStack(b, stackOptions{cooldown: cooldown3d})
	tgz := buildTarball(b, "big", "1.0.0")
	doc := bigPackument(b, st.upstream.URL(), tgz, 5<<20)
	for b.Loop() {
		st.server.SetDecider(st.decider) // new generation: nothing reused
		d := &docResult{key: "k", id: "id", body: doc}
		e, err := st.server.evaluate(d)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.server.render(d, e, variantFull); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(doc)))
}

// BenchmarkCachedTarball serves a cached 1 MB tarball through the handler.
func BenchmarkCachedTarball(b *testing.B) {
	st := startStack(b, stackOptions{ttl: time.Hour})
	tgz := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	doc := `{"name":"blob","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":"blob","version":"1.0.0","dist":{"integrity":"` + sri(tgz) +
		`","tarball":"` + st.upstream.URL() + `blob/-/blob-1.0.0.tgz"}}},"time":{"1.0.0":"2020-01-01T00:00:00.000Z"}}`
	st.upstream.set(func(f *fakeRegistry) {
		f.docs["blob"] = []byte(doc)
		f.tarballs["/blob/-/blob-1.0.0.tgz"] = tgz
	})
	h := st.server.Handler()
	req := httptest.NewRequest("GET", "/blob/-/blob-1.0.0.tgz", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 || w.Body.Len() != len(tgz) {
		b.Fatalf("%d", w.Code)
	}
	b.SetBytes(int64(len(tgz)))
	b.ResetTimer()
	for b.Loop() {
		w := &discardRecorder{header: http.Header{}}
		h.ServeHTTP(w, req)
		if w.code != 200 {
			b.Fatal(w.code)
		}
	}
}

// discardRecorder is a ResponseWriter that keeps nothing but the status.
type discardRecorder struct {
	header http.Header
	code   int
}

func (d *discardRecorder) Header() http.Header { return d.header }
func (d *discardRecorder) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}
func (d *discardRecorder) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = 200
	}
	return len(p), nil
}

var _ io.Writer = (*discardRecorder)(nil)

// BenchmarkUncachedTarball measures a cache miss for an 8 MiB tarball: the
// packument and the tarball fetched over loopback, the tarball written to
// the cache and verified, then served from the cache file. The time is
// what the first client waits before its first byte (the proxy never
// streams unverified bytes).
func BenchmarkUncachedTarball(b *testing.B) {
	st := startStack(b, stackOptions{ttl: time.Hour})
	h := st.server.Handler()
	blob := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	b.SetBytes(int64(len(blob)))
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		name := fmt.Sprintf("blob%d", i)
		tgz := append([]byte(name), blob...)
		doc := `{"name":"` + name + `","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":"` + name + `","version":"1.0.0","dist":{"integrity":"` + sri(tgz) +
			`","tarball":"` + st.upstream.URL() + name + `/-/` + name + `-1.0.0.tgz"}}},"time":{"1.0.0":"2020-01-01T00:00:00.000Z"}}`
		st.upstream.set(func(f *fakeRegistry) {
			f.docs[name] = []byte(doc)
			f.tarballs["/"+name+"/-/"+name+"-1.0.0.tgz"] = tgz
		})
		req := httptest.NewRequest("GET", "/"+name+"/-/"+name+"-1.0.0.tgz", nil)
		b.StartTimer()
		w := &discardRecorder{header: http.Header{}}
		h.ServeHTTP(w, req)
		if w.code != 200 {
			b.Fatal(w.code)
		}
	}
}
