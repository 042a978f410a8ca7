package bunlock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/tailscale/hujson"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

var jsonSeeds = []string{
	`{"lockfileVersion": 1, "workspaces": {"": {"name": "a", "dependencies": {"b": "^1"},},}, "packages": {"b": ["b@1.0.0", "", {}, "sha512-x"],},}`,
	"// c\n{/* c */\"a\": [1, -2.5e3, true, false, null, \"\\u00e9\\ud83d\\ude00\\n\"],}",
	`{"lockfileVersion": 0, "packages": {"w": ["w@workspace:p", {"dependencies": {"x": "1"}}], "x": ["x@1.0.0", "", {"peerDependencies": {"w": "*"}, "optionalPeers": ["w"]}, ""], "w/x": ["x@2.0.0"]}}`,
	`[[[[]]]]`,
	`"\ud800"`,
}

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/bun*.lock")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	for _, s := range jsonSeeds {
		f.Add(s)
	}
}

// FuzzParse checks that no input panics, errors are ParseErrors, and
// graphs are consistent.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in string) {
		g, err := Reader{}.Parse(context.Background(), "bun.lock", []byte(in))
		if err != nil {
			var pe *lockfile.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			if pe.Line < 1 || pe.Column < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		for _, p := range g.Packages {
			for _, d := range p.Dependencies {
				if d < 0 || d >= len(g.Packages) {
					t.Fatalf("dependency index %d out of range", d)
				}
			}
		}
		for _, imp := range g.Importers {
			for _, d := range imp.Dependencies {
				if d < 0 || d >= len(g.Packages) {
					t.Fatalf("importer dependency index %d out of range", d)
				}
			}
		}
		g.ThirdParty()
	})
}

// FuzzJSONC checks the JSONC reader against hujson + encoding/json: both
// accept the same inputs and read the same values.
func FuzzJSONC(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) {
			return // encoding/json rewrites invalid UTF-8; we keep the bytes
		}
		ours, err := parseJSONC(in)
		// hujson wants a line comment to end with a line break, even at the end
		v, herr := hujson.Parse([]byte(in + "\n"))
		var ref any
		if herr == nil {
			v.Standardize()
			d := json.NewDecoder(bytes.NewReader(v.Pack()))
			d.UseNumber()
			herr = d.Decode(&ref)
		}
		if (err == nil) != (herr == nil) {
			t.Fatalf("ours: %v, hujson: %v\n%q", err, herr, in)
		}
		if err != nil {
			return
		}
		if got := toAny(ours, ours.root); !reflect.DeepEqual(got, ref) {
			t.Fatalf("ours: %#v\nhujson: %#v\n%q", got, ref, in)
		}
	})
}

// toAny converts a node the way encoding/json decodes with UseNumber: the
// last of duplicate keys wins.
func toAny(t *tree, n int32) any {
	nd := &t.nodes[n]
	switch nd.kind {
	case kNull:
		return nil
	case kBool:
		return t.src[nd.off] == 't'
	case kNumber:
		return json.Number(t.text(nd.val))
	case kString:
		return t.text(nd.val)
	case kArray:
		out := []any{}
		for c := nd.first; c >= 0; c = t.nodes[c].next {
			out = append(out, toAny(t, c))
		}
		return out
	}
	out := map[string]any{}
	for c := nd.first; c >= 0; c = t.nodes[c].next {
		out[t.key(c)] = toAny(t, c)
	}
	return out
}
