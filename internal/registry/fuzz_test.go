package registry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParsePackument: decoding never panics, and whatever it accepts is
// self-consistent: every version's Raw is valid JSON that re-parses, and the
// history helpers answer without panicking.
func FuzzParsePackument(f *testing.F) {
	for _, dir := range []string{"testdata/packuments", "testdata/mirror"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"name":"a","versions":{"1.0.0":{"_npmUser":"x <y>","maintainers":[1,"a"],"bin":"x","bundleDependencies":true}}}`,
		`{"time":{"unpublished":{"time":"2020-01-01T00:00:00Z","versions":["1.0.0"]},"1.0.0":"2020-01-01T00:00:00Z"}}`,
		`{"versions":{"1.0.0":null,"2.0.0":{"dist":{"attestations":{"provenance":{}}}}}}`,
		`{"versions":{"1.0.0":"not an object"}}`,
		`{"dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"version":"9.9.9"}},"modified":"2020-01-01T00:00:00Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePackument(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		for v, m := range p.Versions {
			if m == nil {
				t.Fatalf("version %q: nil manifest", v)
			}
			if !json.Valid(m.Raw) {
				t.Fatalf("version %q: Raw %q is not JSON", v, m.Raw)
			}
			if _, err := ParseManifest(m.Raw); err != nil {
				t.Fatalf("version %q: Raw does not re-parse: %v", v, err)
			}
			if prev := p.PreviousVersion(v); prev != "" && prev == v {
				t.Fatalf("PreviousVersion(%q) is itself", v)
			}
			_ = m.InstallScripts()
			_ = p.Trust(v)
			_, _ = p.PublishTime(v)
		}
		for k := range p.Time {
			if k == "unpublished" {
				t.Fatal("the unpublished object is not a time")
			}
		}
	})
}
