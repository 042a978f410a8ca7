package pnpmlock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// yamlSeeds are small YAML shapes beyond what the fixtures hold: what
// prettier and hand edits make of lockfiles, and odd corners of YAML.
var yamlSeeds = []string{
	"lockfileVersion: '9.0'\n",
	"---\nlockfileVersion: '9.0'\n---\nlockfileVersion: '9.0'\nimporters: {}\n...\n",
	"lockfileVersion: 5.4\nspecifiers:\n  a: ^1\ndependencies:\n  a: 1.0.0\npackages:\n  /a/1.0.0:\n    resolution: {integrity: sha512-x}\n    dev: false\n",
	"lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution:\n      {\n        integrity: sha512-x,\n      }\n",
	"lockfileVersion: \"9.0\"\nimporters:\n  .:\n    dependencies:\n      \"a\": {specifier: \"^1\", version: \"1.0.0\"}\n",
	"key:\n- a\n- 'b'\n- \"c\\u00e9\"\nother: [x, {y: z}]\n",
	"a: &x {b: 1}\nc: *x\n",
	"a: |\n  text\n",
	"a: b\n  c\n",
	"'it''s': \"tab\\there\" # comment\n",
	"a:\n  - b: c\n",
	"? complex\n: value\n",
	"a: {b: [1, 2, {c: d}], e: 'f'}\n",
	"x:\n\n  # comment\n  y: z\n",
}

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/pnpm*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	for _, s := range yamlSeeds {
		f.Add(s)
	}
}

// FuzzParse checks that no input panics, that errors are ParseErrors and
// that graphs are consistent.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in string) {
		g, err := Reader{}.Parse(context.Background(), "pnpm-lock.yaml", []byte(in))
		if err != nil {
			var pe *lockfile.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			return
		}
		keys := make(map[string]bool, len(g.Packages))
		for _, p := range g.Packages {
			if keys[p.Key] {
				t.Fatalf("duplicate key %q", p.Key)
			}
			keys[p.Key] = true
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

// FuzzYAMLTrees checks the fast YAML reader against yaml/v3: wherever the
// fast reader accepts a stream, yaml/v3 must read the same tree.
func FuzzYAMLTrees(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in string) {
		fast, err := parseFast(in)
		if err != nil {
			return
		}
		ref, err := parseV3(in)
		if err != nil {
			// Where YAML 1.2 (and js-yaml, which writes pnpm's lockfiles)
			// accepts what yaml/v3, following libyaml, does not: a "?"
			// inside a plain scalar in a flow collection ({tarball:
			// https://host/a.tgz?token=x}) and the escape "\/".
			if strings.Contains(in, "?") || strings.Contains(in, `\/`) {
				return
			}
			t.Fatalf("fast reader accepted what yaml/v3 rejects (%v):\n%q", err, in)
		}
		if len(fast.docs) != len(ref.docs) {
			t.Fatalf("%d documents, yaml/v3 reads %d:\n%q", len(fast.docs), len(ref.docs), in)
		}
		ascii := true
		for i := 0; i < len(in); i++ {
			if in[i] >= 0x80 {
				ascii = false // yaml/v3 counts columns in characters, we in bytes
				break
			}
		}
		for i := range fast.docs {
			if msg := sameTree(fast, fast.docs[i], ref, ref.docs[i], ascii); msg != "" {
				t.Fatalf("%s:\n%q", msg, in)
			}
		}
	})
}

func sameTree(a *tree, i int32, b *tree, j int32, cols bool) string {
	x, y := &a.nodes[i], &b.nodes[j]
	xk, yk := a.text(x.key), b.text(y.key)
	if x.kind != y.kind {
		return "kind " + kindName(x.kind) + " vs " + kindName(y.kind) + " at key " + xk
	}
	if xk != yk {
		return "key " + xk + " vs " + yk
	}
	if x.keyLine != y.keyLine || (cols && x.keyCol != y.keyCol) {
		return "key position of " + xk
	}
	switch x.kind {
	case kScalar:
		if xv, yv := a.text(x.val), b.text(y.val); xv != yv {
			return "value " + xv + " vs " + yv
		}
		if x.line != y.line || (cols && x.col != y.col) {
			return "position of value " + a.text(x.val)
		}
	case kMap, kSeq:
		c, d := x.first, y.first
		for c >= 0 && d >= 0 {
			if msg := sameTree(a, c, b, d, cols); msg != "" {
				return msg
			}
			c, d = a.nodes[c].next, b.nodes[d].next
		}
		if c >= 0 || d >= 0 {
			return "different number of entries under " + xk
		}
	}
	return ""
}

// TestFastReaderAgrees runs the differential check on every fixture and on
// the shared corpus when present.
func TestFastReaderAgrees(t *testing.T) {
	files, _ := filepath.Glob("testdata/pnpm*.yaml")
	files = append(files, "testdata/webapp-medium/pnpm-lock.yaml")
	more, _ := filepath.Glob(filepath.Join(corpusDir, "*", "pnpm", "pnpm-lock.yaml"))
	for _, file := range append(files, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		fast, err := parseFast(string(data))
		if err != nil {
			t.Errorf("%s: fast reader: %v", file, err)
			continue
		}
		ref, err := parseV3(string(data))
		if err != nil {
			t.Fatalf("%s: yaml/v3: %v", file, err)
		}
		if len(fast.docs) != len(ref.docs) {
			t.Fatalf("%s: %d documents vs %d", file, len(fast.docs), len(ref.docs))
		}
		for i := range fast.docs {
			if msg := sameTree(fast, fast.docs[i], ref, ref.docs[i], true); msg != "" {
				t.Errorf("%s: %s", file, msg)
			}
		}
	}
	// the fallback handles what the fast reader leaves
	for _, s := range yamlSeeds {
		_, ferr := parseFast(s)
		_, verr := parseV3(s)
		if ferr != nil && verr == nil {
			t.Logf("fallback reads %q", s)
		}
	}
}
