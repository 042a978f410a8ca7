package proxy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/registry"
)

// FuzzScanObject checks the scanner against encoding/json: on any input it
// must not panic, and on a document json accepts as an object it must find
// exactly the members json finds, with values json decodes the same.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a" : [1,{"b":"}"}] , "c":"\"\\"}`, `{"a":`, `{"a":1,}`, `[1]`, `{"\u0061":true}`, `{"a":"x"}}`} {
		f.Add([]byte(s))
	}
	addFixtures(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var members []member
		end, err := scanObject(data, 0, func(m member) error {
			members = append(members, m)
			return nil
		})
		var want map[string]json.RawMessage
		jerr := json.Unmarshal(data, &want)
		if jerr != nil || err != nil {
			if jerr == nil && err != nil && !bytes.Contains(data, []byte{0}) {
				// Valid JSON object the scanner refused.
				t.Fatalf("scanObject refused valid JSON: %v", err)
			}
			return
		}
		if skipSpace(data, end) != len(data) {
			t.Fatalf("scanObject stopped at %d of %d", end, len(data))
		}
		got := map[string]json.RawMessage{}
		for _, m := range members {
			k, err := m.key(data)
			if err != nil {
				t.Fatalf("key: %v", err)
			}
			got[k] = data[m.valueStart:m.valueEnd]
		}
		if len(got) != len(want) {
			t.Fatalf("%d members, json has %d", len(got), len(want))
		}
		for k, v := range want {
			var a, b any
			if json.Unmarshal(v, &a) != nil || json.Unmarshal(got[k], &b) != nil {
				t.Fatalf("member %q: %s vs %s", k, v, got[k])
			}
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if !bytes.Equal(ja, jb) {
				t.Fatalf("member %q: %s vs %s", k, v, got[k])
			}
		}
	})
}

// FuzzRender checks the renderers on arbitrary documents: no panic, and
// for a packument registry.ParsePackument accepts, both outputs are valid
// JSON that parse back as packuments without the removed versions.
func FuzzRender(f *testing.F) {
	addFixtures(f)
	f.Add([]byte(`{"name":"x","versions":{"1.0.0":{"dist":{"tarball":"u"}},"2.0.0":null},"dist-tags":{"latest":"1.0.0"},"time":{"1.0.0":"2020-01-01T00:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pk, perr := registry.ParsePackument(bytes.Clone(data))
		plan := &renderPlan{removed: map[string]bool{}, distTags: map[string]string{"latest": "1.0.0"},
			tarballURL: func(v string) string { return "http://proxy.test/x/-/x-" + v + ".tgz" }}
		if perr == nil {
			n := 0
			for v := range pk.Versions {
				if n%2 == 0 {
					plan.removed[v] = true
				}
				n++
			}
		}
		for _, render := range []func([]byte, *renderPlan, *bytes.Buffer) error{renderFull, renderAbbreviated} {
			var out bytes.Buffer
			err := render(data, plan, &out)
			if perr != nil {
				continue
			}
			if err != nil {
				t.Fatalf("rendering a valid packument: %v", err)
			}
			if !json.Valid(out.Bytes()) {
				t.Fatalf("invalid JSON out: %s", out.Bytes())
			}
			back, err := registry.ParsePackument(out.Bytes())
			if err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, out.Bytes())
			}
			for v := range plan.removed {
				if _, ok := back.Versions[v]; ok {
					t.Fatalf("removed version %q still listed", v)
				}
			}
			for v, m := range back.Versions {
				if m.Dist.Tarball != "" && !strings.HasPrefix(m.Dist.Tarball, "http://proxy.test/") {
					t.Fatalf("version %q tarball %q not rewritten", v, m.Dist.Tarball)
				}
			}
		}
	})
}

// FuzzParseRoute: no panic, and every accepted name is a valid one.
func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{"/debug", "/@a%2fb", "/@a/b/-/b-1.0.0.tgz", "/-/ping", "/x/1.0.0", "/%", "//", "/@/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		rt, err := parseRoute(path)
		if err != nil {
			return
		}
		if rt.kind != routeSpecial && rt.name == "" {
			t.Fatalf("%q: route without a name: %+v", path, rt)
		}
		if rt.kind == routeTarball && rt.version != "" {
			if got := tarballPath(rt.name, rt.version); !strings.HasSuffix(got, rt.file) && !strings.Contains(rt.file, "%") {
				t.Fatalf("%q: version %q does not round-trip (%s)", path, rt.version, got)
			}
		}
	})
}

func addFixtures(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "packuments", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}
