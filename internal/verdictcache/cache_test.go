package verdictcache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

func sampleEntry(verdict analyze.Verdict) *Entry {
	return &Entry{
		Report: &analyze.Report{
			Package: "left-pad", Version: "1.3.0", Integrity: "sha512-abc", Verdict: verdict, Score: 12,
			Findings: []analyze.Finding{{Rule: "VGL-A001", Name: "install-script", Severity: rules.High, File: "package.json", Line: 3, Message: "runs curl | sh"}},
			Reasons:  []analyze.Reason{{Source: "VGL-A001 install-script", Points: 12, Why: "install script"}},
			Stats:    analyze.Stats{Files: 2, Bytes: 120},
		},
		Warnings:  []string{"link: \"x\": a symlink"},
		NotLoaded: []string{"bin/big"},
	}
}

func openTemp(t *testing.T, engine string, opt Options) *Cache {
	t.Helper()
	c, err := Open(t.TempDir(), engine, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPutGet(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t, "engine-a", Options{})
	if _, ok := c.Get(ctx, "sha512-abc"); ok {
		t.Fatal("hit in an empty cache")
	}
	want := sampleEntry(analyze.Suspicious)
	if err := c.Put(ctx, "sha512-abc", want); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(ctx, "sha512-abc")
	if !ok {
		t.Fatal("miss after Put")
	}
	if got.Report.Verdict != analyze.Suspicious || got.Report.Score != 12 || len(got.Report.Findings) != 1 ||
		got.Report.Findings[0].Line != 3 || got.Warnings[0] != want.Warnings[0] || got.NotLoaded[0] != "bin/big" {
		t.Errorf("round trip: %+v", got)
	}
	if _, ok := c.Get(ctx, "sha512-other"); ok {
		t.Error("hit for another key")
	}
	if s := c.Stats(); s.Hits != 1 || s.Misses != 2 || s.Writes != 1 || s.Corrupt != 0 {
		t.Errorf("stats %+v", s)
	}

	// The same folder under another engine fingerprint shares nothing: a
	// new rule must not be hidden by an old verdict.
	other, err := Open(c.Dir(), "engine-b", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := other.Get(ctx, "sha512-abc"); ok {
		t.Error("another engine's verdict was served")
	}
}

func TestCorruptEntriesAreIgnoredAndRewritten(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t, "engine-a", Options{})
	key := "sha512-abc"
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(func() string {
		if err := c.Put(ctx, key, sampleEntry(analyze.Clean)); err != nil {
			t.Fatal(err)
		}
		return p
	}())
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"empty":          "",
		"truncated":      string(good[:len(good)/2]),
		"not json":       "\x00\x01garbage",
		"other key":      strings.Replace(string(good), `"key":"sha512-abc"`, `"key":"sha512-xyz"`, 1),
		"other engine":   strings.Replace(string(good), `"engine":"engine-a"`, `"engine":"engine-b"`, 1),
		"other format":   strings.Replace(string(good), `"format":1`, `"format":9`, 1),
		"bad verdict":    strings.Replace(string(good), `"verdict":"clean"`, `"verdict":"fine"`, 1),
		"no report":      `{"format":1,"engine":"engine-a","key":"sha512-abc","created":"2026-01-01T00:00:00Z","entry":{}}`,
		"null findings":  strings.Replace(string(good), `"findings":[`, `"findings":null,"x":[`, 1),
		"unknown field":  strings.Replace(string(good), `"format":1`, `"format":1,"extra":true`, 1),
		"trailing value": string(good) + "{}",
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			if content == string(good) {
				t.Fatal("the mutation did not apply")
			}
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			before := c.Stats().Corrupt
			if _, ok := c.Get(ctx, key); ok {
				t.Fatal("corrupt entry served")
			}
			if c.Stats().Corrupt != before+1 {
				t.Error("not counted as corrupt")
			}
			if err := c.Put(ctx, key, sampleEntry(analyze.Malicious)); err != nil {
				t.Fatal(err)
			}
			if e, ok := c.Get(ctx, key); !ok || e.Report.Verdict != analyze.Malicious {
				t.Errorf("not rewritten: %v %+v", ok, e)
			}
		})
	}
}

func TestPutRejectsNothing(t *testing.T) {
	c := openTemp(t, "e", Options{})
	ctx := context.Background()
	if err := c.Put(ctx, "", sampleEntry(analyze.Clean)); err == nil {
		t.Error("empty key accepted")
	}
	if err := c.Put(ctx, "k", &Entry{}); err == nil {
		t.Error("entry without a report accepted")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Put(cancelled, "k", sampleEntry(analyze.Clean)); err == nil {
		t.Error("Put ran with a cancelled context")
	}
	if _, err := Open("", "e", Options{}); err == nil {
		t.Error("Open without a folder")
	}
	if _, err := Open(t.TempDir(), "", Options{}); err == nil {
		t.Error("Open without an engine")
	}
}

func TestTrimRemovesLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t, "e", Options{MaxBytes: 1})
	size := func() int64 {
		var n int64
		_ = filepath.Walk(c.Dir(), func(_ string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				n += info.Size()
			}
			return nil
		})
		return n
	}
	old := time.Now().Add(-time.Hour)
	for i := range 10 {
		key := fmt.Sprintf("k%d", i)
		if err := c.Put(ctx, key, sampleEntry(analyze.Clean)); err != nil {
			t.Fatal(err)
		}
		at := old.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(c.path(key), at, at); err != nil {
			t.Fatal(err)
		}
	}
	one := size() / 10
	c.maxBytes = one*4 + one/2 // room for four entries after trimming to 90 %
	// Reading k0 makes it the most recently used.
	if _, ok := c.Get(ctx, "k0"); !ok {
		t.Fatal("k0 missing")
	}
	// A temporary file a killed process left behind.
	tmp := filepath.Join(filepath.Dir(c.path("k1")), ".tmp-123")
	if err := os.WriteFile(tmp, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, old.Add(-time.Hour), old.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	removed, err := c.Trim(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if size() > c.maxBytes {
		t.Errorf("after Trim the folder holds %d bytes, over %d", size(), c.maxBytes)
	}
	if removed < 6 {
		t.Errorf("removed %d files, want at least 6 entries and the temporary file", removed)
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("stale temporary file kept")
	}
	for _, k := range []string{"k0", "k9", "k8"} {
		if _, ok := c.Get(ctx, k); !ok {
			t.Errorf("%s (recently used) was trimmed", k)
		}
	}
	for _, k := range []string{"k1", "k2", "k3"} {
		if _, ok := c.Get(ctx, k); ok {
			t.Errorf("%s (least recently used) was kept", k)
		}
	}
}

// Concurrent writers and readers of the same key never see a partial
// entry (run with -race to check the counters too).
func TestConcurrentPutGet(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t, "e", Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				if (i+j)%2 == 0 {
					if err := c.Put(ctx, "shared", sampleEntry(analyze.Clean)); err != nil {
						t.Error(err)
						return
					}
				} else if e, ok := c.Get(ctx, "shared"); ok && e.Report.Package != "left-pad" {
					t.Errorf("partial entry: %+v", e)
				}
			}
		}()
	}
	wg.Wait()
	if s := c.Stats(); s.Corrupt != 0 {
		t.Errorf("a reader saw a partial entry: %+v", s)
	}
}

func TestFingerprint(t *testing.T) {
	base := rules.All()
	fp := Fingerprint(base, "v1.0.0")
	if fp != Fingerprint(rules.All(), "v1.0.0") {
		t.Fatal("fingerprint is not deterministic")
	}
	if !strings.HasPrefix(fp, "vgl-engine-") {
		t.Errorf("fingerprint %q", fp)
	}
	// Order of the rule list does not matter; content does.
	reversed := make([]*rules.Rule, len(base))
	for i, r := range base {
		reversed[len(base)-1-i] = r
	}
	if Fingerprint(reversed, "v1.0.0") != fp {
		t.Error("rule order changed the fingerprint")
	}
	reweighted := make([]*rules.Rule, len(base))
	for i, r := range base {
		cp := *r
		reweighted[i] = &cp
	}
	reweighted[0].Severity = rules.Info
	added := append(append([]*rules.Rule{}, base...), &rules.Rule{ID: "VGL-A999", Name: "new-rule", Severity: rules.High, Category: rules.CatExec})
	for name, other := range map[string]string{
		"new rule":      Fingerprint(added, "v1.0.0"),
		"new severity":  Fingerprint(reweighted, "v1.0.0"),
		"new version":   Fingerprint(base, "v1.0.1"),
		"removed rule":  Fingerprint(base[1:], "v1.0.0"),
		"no extra text": Fingerprint(base),
	} {
		if other == fp {
			t.Errorf("%s: fingerprint unchanged", name)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	env := map[string]string{"VIGIL_CACHE_DIR": "/scratch/verdicts"}
	if d, err := DefaultDir(func(k string) string { return env[k] }); err != nil || d != "/scratch/verdicts" {
		t.Errorf("VIGIL_CACHE_DIR: %q %v", d, err)
	}
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	d, err := DefaultDir(func(string) string { return "" })
	if err != nil || d != filepath.Join("/xdg", "vigil", "analyze") {
		t.Errorf("default: %q %v", d, err)
	}
}
