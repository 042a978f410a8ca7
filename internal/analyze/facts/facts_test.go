package facts

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestParseManifest(t *testing.T) {
	m := parseManifest([]byte(`{
  "name": "@scope/tool",
  "version": "2.0.0",
  "main": "lib/index.js",
  "bin": "cli.js",
  "scripts": {
    "test": "node test.js",
    "postinstall": "node scripts/post.js"
  },
  "dependencies": {"a": "^1.0.0", "b": 3}
}`))
	if m.Error != "" || m.Name != "@scope/tool" || m.Main != "lib/index.js" {
		t.Fatalf("%+v", m)
	}
	if !reflect.DeepEqual(m.Bin, map[string]string{"tool": "cli.js"}) {
		t.Errorf("bin %v", m.Bin)
	}
	s, ok := m.Script("postinstall")
	if !ok || s.Command != "node scripts/post.js" || s.Line != 8 {
		t.Errorf("postinstall %+v", s)
	}
	if !reflect.DeepEqual(m.Dependencies, map[string]string{"a": "^1.0.0"}) {
		t.Errorf("deps %v", m.Dependencies)
	}
	if bad := parseManifest([]byte(`{"name": `)); bad.Error == "" || !bad.Found {
		t.Errorf("invalid JSON not reported: %+v", bad)
	}
}

func TestScriptFiles(t *testing.T) {
	tests := map[string][]string{
		"node install.js":                            {"install.js"},
		"node ./scripts/post.js && husky install":    {"./scripts/post.js"},
		"node --max-old-space-size=4096 build/x":     {"build/x"},
		"node -r ./hook.js main.js":                  {"./hook.js", "main.js"},
		`node -e "require('./a')"`:                   nil,
		"bun run setup.ts":                           {"setup.ts"},
		"prebuild-install || node-gyp rebuild":       nil,
		`cross-env X=1 node "scripts/with space.js"`: {"scripts/with space.js"},
	}
	for cmd, want := range tests {
		if got := ScriptFiles(cmd); !reflect.DeepEqual(got, want) {
			t.Errorf("ScriptFiles(%q) = %q, want %q", cmd, got, want)
		}
	}
}

func TestMagic(t *testing.T) {
	pe := make([]byte, 128)
	copy(pe, "MZ")
	pe[60] = 64
	copy(pe[64:], "PE\x00\x00")
	tests := []struct {
		data []byte
		want string
	}{
		{[]byte("\x7fELF\x02\x01\x01"), "elf"},
		{pe, "pe"},
		{[]byte("MZ is a text file that is long enough to have a header offset but no PE......................"), ""},
		{[]byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}, "macho"},
		{[]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2}, "macho"},
		{[]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52}, "java-class"},
		{[]byte("\x00asm\x01\x00\x00\x00"), "wasm"},
		{[]byte("console.log(1)"), ""},
	}
	for _, tt := range tests {
		if got := magic(tt.data); got != tt.want {
			t.Errorf("magic(%q) = %q, want %q", tt.data[:8], got, tt.want)
		}
	}
}

func TestScanText(t *testing.T) {
	src := "a\nbb\nccc\n" + "x();" + strings.Repeat(" ", 160) + "y();\n" + "let \u202Eevil = 1;\n" + strings.Repeat("!+[]", 60) + "\n"
	txt := scanText([]byte(src))
	if txt.Lines != 6 {
		t.Errorf("lines %d", txt.Lines)
	}
	if len(txt.HiddenRuns) != 1 || txt.HiddenRuns[0].Len != 160 || txt.HiddenRuns[0].Pos.Line != 4 || txt.HiddenRuns[0].Pos.Col != 165 {
		t.Errorf("hidden runs %+v", txt.HiddenRuns)
	}
	if txt.InvisibleCount != 1 || txt.Invisible[0].Rune != 0x202E || txt.Invisible[0].Pos.Line != 5 {
		t.Errorf("invisible %+v", txt.Invisible)
	}
	if txt.EsotericRun != 240 || txt.EsotericPos.Line != 6 {
		t.Errorf("esoteric %d at %+v", txt.EsotericRun, txt.EsotericPos)
	}
	if txt.MedianLine < 2 || txt.MedianLine > 12 {
		t.Errorf("median %d", txt.MedianLine)
	}
	long := scanText([]byte("a\n" + strings.Repeat("_0x1a2b3c=-0x1+0x2*0x3;", 100) + "\n"))
	if len(long.LongLines) != 1 || long.LongLines[0].HexNames != 100 || long.LongLines[0].HexArith != 200 || long.LongLines[0].Pos.Line != 2 {
		t.Errorf("long lines %+v", long.LongLines)
	}
}

func TestInstallTimeMarking(t *testing.T) {
	files := []File{
		{Path: "package.json", Data: []byte(`{"name":"x","scripts":{"postinstall":"node scripts/post"}}`)},
		{Path: "scripts/post.js", Data: []byte(`require('../lib/a'); require('fs')`)},
		{Path: "lib/a.js", Data: []byte(`import b from './b.mjs'`)},
		{Path: "lib/b.mjs", Data: []byte(`export default 1`)},
		{Path: "lib/unused.js", Data: []byte(`module.exports = 2`)},
		{Path: "bin/run", Data: []byte("#!/usr/bin/env node\nrequire('../lib/unused')")},
	}
	p, err := Extract(context.Background(), files, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{"scripts/post.js": true, "lib/a.js": true, "lib/b.mjs": true, "lib/unused.js": false} {
		if f := p.File(path); f == nil || f.InstallTime != want {
			t.Errorf("%s install time = %v, want %v", path, f != nil && f.InstallTime, want)
		}
	}
	if f := p.File("bin/run"); f == nil || f.Kind != KindJS || f.JS == nil {
		t.Errorf("extensionless node script not read as JavaScript: %+v", f)
	}
}

func TestKinds(t *testing.T) {
	tests := map[string]Kind{"a.js": KindJS, "a.mjs": KindJS, "a.ts": KindTS, "a.d.ts": KindText, "a.json": KindJSON, "a.js.map": KindJSON, "a.sh": KindScript, "README.md": KindText}
	for p, want := range tests {
		if got := kindOf(p, nil, "", false); got != want {
			t.Errorf("kindOf(%s) = %s, want %s", p, got, want)
		}
	}
}

// A decoy "Scripts" must not hide the "scripts" npm runs.
func TestParseManifestCaseVariantKeys(t *testing.T) {
	for _, doc := range []string{
		`{"name":"a","scripts":{"postinstall":"node steal.js"},"Scripts":{"test":"x"}}`,
		`{"name":"a","Scripts":{"test":"x"},"scripts":{"postinstall":"node steal.js"},"SCRIPTS":{}}`,
	} {
		m := ParseManifest([]byte(doc))
		if s, ok := m.Script("postinstall"); !ok || s.Command != "node steal.js" || m.Error != "" {
			t.Errorf("%s: %+v", doc, m)
		}
		if _, ok := m.Script("test"); ok {
			t.Errorf("%s: the decoy was read", doc)
		}
	}
	if m := ParseManifest([]byte(`{"Scripts":{"postinstall":"x"},"Dependencies":{"a":"1"}}`)); len(m.Scripts) != 0 || m.Dependencies != nil {
		t.Errorf("keys npm ignores were read: %+v", m)
	}
}
