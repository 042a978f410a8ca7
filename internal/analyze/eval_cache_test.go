package analyze

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/tarball"
)

// TestNPMCacheVerdicts evaluates the engine on every package tarball in an
// npm cache — real, popular, benign packages — when
// VIGIL_EVAL_NPM_CACHE points at one (e.g. ~/.npm/_cacache after
// installing ../shared/corpus/benign). Tarballs are read as data through
// package tarball; nothing is extracted or run. It fails when more than
// 0.5% are malicious or 5% suspicious (issue 3's false-positive budget)
// and logs every non-clean package with its reasons.
func TestNPMCacheVerdicts(t *testing.T) {
	dir := os.Getenv("VIGIL_EVAL_NPM_CACHE")
	if dir == "" {
		t.Skip("set VIGIL_EVAL_NPM_CACHE to an npm cache directory (~/.npm/_cacache) to evaluate false positives")
	}
	type entry struct{ name, integrity string }
	var entries []entry
	err := filepath.Walk(filepath.Join(dir, "index-v5"), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			_, js, ok := strings.Cut(sc.Text(), "\t")
			var e struct{ Key, Integrity string }
			if !ok || json.Unmarshal([]byte(js), &e) != nil || !strings.HasSuffix(e.Key, ".tgz") {
				continue
			}
			entries = append(entries, entry{e.Key[strings.LastIndex(e.Key, "/")+1:], e.Integrity})
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	// The same tarball is often indexed under several keys (registry and
	// proxy URLs, repeated installs): count each content once.
	seen := map[string]bool{}
	counts := map[Verdict]int{}
	fired := map[string]int{} // "rule severity" → packages where that was the rule's worst finding
	var bytesJS int
	var elapsed time.Duration
	for _, e := range entries {
		if seen[e.integrity] {
			continue
		}
		seen[e.integrity] = true
		algo, b64, _ := strings.Cut(e.integrity, "-")
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) < 3 {
			continue
		}
		h := hex.EncodeToString(raw)
		data, err := os.ReadFile(filepath.Join(dir, "content-v2", algo, h[:2], h[2:4], h[4:]))
		if err != nil {
			continue // evicted from the cache
		}
		a, err := tarball.Read(context.Background(), bytes.NewReader(data), tarball.DefaultLimits())
		if err != nil {
			t.Logf("%s: not read: %v", e.name, err)
			continue
		}
		start := time.Now()
		r, err := Analyze(context.Background(), FromArchive(a, "", "", e.integrity), Options{})
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		elapsed += time.Since(start)
		bytesJS += r.Stats.JSBytes
		counts[r.Verdict]++
		worst := map[string]Severity{}
		for _, f := range r.Findings {
			if f.Severity.Rank() > worst[f.Rule].Rank() || worst[f.Rule] == "" {
				worst[f.Rule] = f.Severity
			}
		}
		for rule, sev := range worst {
			fired[rule+" "+string(sev)]++
		}
		if r.Verdict != Clean {
			t.Logf("%s: %s (%d)", e.name, r.Verdict, r.Score)
			for _, reason := range r.Reasons {
				t.Logf("    +%d %s %s %s", reason.Points, reason.Source, reason.File, reason.Why)
			}
		}
	}
	keys := make([]string, 0, len(fired))
	for k := range fired {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("fired: %s in %d packages", k, fired[k])
	}
	n := counts[Clean] + counts[Suspicious] + counts[Malicious]
	t.Logf("%d packages: %v; %.1f MB of JavaScript in %v (%.1f MB/s)", n, counts, float64(bytesJS)/1e6, elapsed.Round(time.Millisecond), float64(bytesJS)/elapsed.Seconds()/1e6)
	if n > 0 && (counts[Malicious]*1000 > 5*n || counts[Suspicious]*100 > 5*n) {
		t.Errorf("false positives over budget: %v of %d", counts, n)
	}
}
