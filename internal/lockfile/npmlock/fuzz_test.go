package npmlock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// FuzzParse feeds mutated lockfiles to Parse: it must never panic, must
// reject what is not JSON with a *lockfile.ParseError, and every graph it
// returns must be well formed.
func FuzzParse(f *testing.F) {
	for _, file := range fixtures(f) {
		if strings.Contains(file, "webapp-medium") {
			continue // 300 KB seeds make every mutation slow
		}
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{"lockfileVersion":1,"dependencies":{"a":{"version":"npm:@s/b@1.0.0","requires":{"a":"1"},"dependencies":{"a":{"version":"1.0.0"}}}}}`,
		`{"lockfileVersion":3,"packages":{"":{"dependencies":{"w":"*"}},"node_modules/w":{"resolved":"../w","link":true},"../w":{"dependencies":{"w":"1"}}}}`,
		`{"lockfileVersion":2,"packages":{"a/node_modules/@s/b/node_modules/c":{"version":"1","dependencies":{"@s/b":"1","c":"2"}}}}`,
		"{\"lockfileVersion\":3,\"packages\":{\"node_modules/\\u0061\\ud83d\\ude00\":{\"version\":\"\\\"\"}}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Reader{}.Parse(context.Background(), "package-lock.json", data)
		valid := json.Valid(bytes.TrimPrefix(data, []byte("\ufeff")))
		if err != nil {
			var pe *lockfile.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *lockfile.ParseError: %v", err)
			}
			if pe.Line < 0 || pe.Column < 0 || pe.File != "package-lock.json" {
				t.Fatalf("bad position in %v", pe)
			}
			return
		}
		if !valid {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		keys := map[string]bool{}
		for i, p := range g.Packages {
			if keys[p.Key] {
				t.Fatalf("duplicate key %q", p.Key)
			}
			keys[p.Key] = true
			for _, d := range p.Dependencies {
				if d < 0 || d >= len(g.Packages) || d == i {
					t.Fatalf("%s: bad edge %d", p.Key, d)
				}
			}
		}
		for _, imp := range g.Importers {
			for _, d := range imp.Dependencies {
				if d < 0 || d >= len(g.Packages) || !g.Packages[d].Direct {
					t.Fatalf("importer %q: bad edge %d", imp.Path, d)
				}
			}
		}
		for i := range g.Packages {
			g.PathsTo(i, 2)
		}
		g.ThirdParty()
	})
}

// FuzzScanner checks the hand-written JSON scanner against encoding/json:
// it accepts exactly the valid JSON values, and decodes strings the same.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,-2.5e+3,true,false,null,{"b":"c"}]}`, `"plain"`, `"esc\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"`,
		`"\ud800"`, `"\udc00\ud800x"`, `0`, `-0.0e0`, `01`, `1.`, `[1,]`, `{"a" 1}`, "\"\x01\"", "\"\xff\xfe\"",
		`"12345678\"abcdefgh"`, `"aaaaaaaaaaaaaaaaaaaaaaaa\\"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.HasPrefix(data, []byte("\ufeff")) {
			return // Parse strips a BOM; encoding/json does not
		}
		s := newScanner("f.json", data)
		err := s.skip()
		if err == nil {
			err = s.end()
		}
		if valid := json.Valid(data); valid != (err == nil) {
			if err != nil && strings.Contains(err.Error(), "nested deeper") {
				return // our depth bound is lower than encoding/json's
			}
			t.Fatalf("scanner error %v, json.Valid %v, for %q", err, valid, data)
		}
		if err != nil {
			if pe := err.(*lockfile.ParseError); pe.Line < 1 || pe.Column < 1 {
				t.Fatalf("error without a position: %v", pe)
			}
		}
		var want string
		if len(data) > 0 && data[0] == '"' && json.Unmarshal(data, &want) == nil {
			s := newScanner("f.json", data)
			got, err := s.str()
			if err != nil || got != want {
				t.Fatalf("str() = %q, %v; encoding/json says %q", got, err, want)
			}
		}
	})
}
