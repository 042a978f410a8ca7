package rules

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// elf is the start of an ELF header: enough for the magic-number check.
const elf = "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"

func pkgJSON(fields map[string]any) string {
	b, _ := json.MarshalIndent(fields, "", "  ")
	return string(b)
}

func TestUnexpectedBinary(t *testing.T) {
	runCases(t, UnexpectedBinary, []ruleCase{
		{"lone binary", map[string]string{"package.json": pkgJSON(map[string]any{"name": "left-pad-utils", "version": "1.0.0"}), "lib/helper": elf}, Medium, "native ELF executable"},
		{"run by install script", map[string]string{
			"package.json": pkgJSON(map[string]any{"name": "color-utils", "version": "1.0.0", "scripts": map[string]string{"postinstall": "./lib/updater"}}),
			"lib/updater":  elf,
		}, High, "postinstall script runs the native binary lib/updater"},
		{"spawned by install-time js", map[string]string{
			"package.json":   pkgJSON(map[string]any{"name": "color-utils", "version": "1.0.0", "scripts": map[string]string{"postinstall": "node setup.js"}}),
			"setup.js":       `const {spawn} = require('child_process'); spawn(require('path').join(__dirname, 'bin', 'svc-helper'), {detached: true}).unref()`,
			"bin/svc-helper": elf,
		}, High, "runs the native binary bin/svc-helper at install time"},
		// Negatives.
		{"platform package", map[string]string{"package.json": pkgJSON(map[string]any{"name": "@esbuild/linux-x64", "version": "1.0.0", "os": []string{"linux"}, "cpu": []string{"x64"}}), "bin/esbuild": elf}, "", ""},
		{"named for a platform", map[string]string{"package.json": pkgJSON(map[string]any{"name": "@swc/core-linux-x64-gnu", "version": "1.0.0"}), "swc.linux-x64-gnu.node": elf}, "", ""},
		{"prebuilds", map[string]string{"package.json": pkgJSON(map[string]any{"name": "fast-hash", "version": "1.0.0", "dependencies": map[string]string{"node-gyp-build": "^4"}}), "prebuilds/linux-x64/node.napi.node": elf}, "", ""},
		{"build release", map[string]string{"package.json": pkgJSON(map[string]any{"name": "addon", "version": "1.0.0"}), "build/Release/addon.node": elf}, "", ""},
		{"gyp", map[string]string{"package.json": pkgJSON(map[string]any{"name": "addon", "version": "1.0.0"}), "binding.gyp": "{}", "lib/addon.node": elf}, "", ""},
		{"wasm is not native", map[string]string{"package.json": pkgJSON(map[string]any{"name": "x", "version": "1.0.0"}), "x.wasm": "\x00asm\x01\x00\x00\x00"}, "", ""},
	})
}

func TestInvisibleCode(t *testing.T) {
	runCases(t, InvisibleCode, []ruleCase{
		// The CVE-2021-42574 "commenting out" shape: an RLO opens in a comment and is never closed.
		{"open override", one("a.js", "var isAdmin = false;\n/*\u202e } \u2066if (isAdmin)\u2069 \u2066 begin admins only */\nconsole.log('ok');\n"), High, "left open"},
		{"stretched string", one("a.js", "if (level != 'user\u202e \u2066// check if admin\u2069 \u2066') { deny(); }\n"), High, "Trojan Source"},
		{"hangul filler identifier", one("a.js", "app.get('/x', (req) => { const { timeout,\u3164} = req.query; exec(\u3164); });\n"), High, "Hangul filler"},
		{"zero width in a name", one("a.js", "const is\u200bAdmin = true; if (isAdmin) grant();\n"), High, "inside an identifier"},
		{"paired embedding", one("a.js", "const label = '\u202bשלום\u202c';\n"), Low, "closed on the same line"},
		// Negatives.
		{"emoji zwj", one("a.js", "const family = 'a\u200db'; const e = '👨\u200d👩\u200d👧';\n"), "", ""},
		{"zwsp in a regexp class", one("a.js", "const ws = /[ \t\u200b\ufeff]+/g;\n"), "", ""},
		{"hangul filler in a string", one("a.js", "const pad = 'x\u3164y';\n"), "", ""},
		{"markdown", one("README.md", "text \u202e here\n"), "", ""},
	})
}

func TestHomoglyphIdentifier(t *testing.T) {
	runCases(t, HomoglyphIdentifier, []ruleCase{
		{"twin", one("auth.js", "function isAdmin(u) { return u.role === 'admin' }\nfunction isАdmin(u) { return true }\nmodule.exports = { check: isАdmin };\n"), High, "look-alike of isAdmin"},
		{"lone", one("a.js", "const cοnfig = load();\n"), Medium, "mixes Latin letters"},
		// Negatives.
		{"cyrillic words", one("a.js", "const сообщение = 'привет'; const total = 1;\n"), "", ""},
		{"greek math", one("a.js", "const Δx = b - a, λ = 0.5;\n"), "", ""},
		{"strings", one("a.js", "const m = 'Рython and Сlojure';\n"), "", ""},
	})
}

func TestManifestConfusion(t *testing.T) {
	base := map[string]any{"name": "widget", "version": "1.2.3", "dependencies": map[string]string{"lodash": "^4.17.21"}, "bin": "./cli.js"}
	with := func(extra map[string]any) string {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return pkgJSON(m)
	}
	registry := map[string]any{"name": "widget", "version": "1.2.3", "_id": "widget@1.2.3", "dist": map[string]string{"shasum": "x"},
		"_npmUser": map[string]string{"name": "a"}, "gitHead": "abc", "dependencies": map[string]string{"lodash": "^4.17.21"}, "bin": map[string]string{"widget": "cli.js"}}
	withReg := func(extra map[string]any) string {
		m := map[string]any{}
		for k, v := range registry {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return pkgJSON(m)
	}
	cases := []struct {
		name     string
		tarball  map[string]string
		registry string
		sev      Severity
		msg      string
	}{
		{"hidden postinstall", map[string]string{"package.json": with(map[string]any{"scripts": map[string]string{"postinstall": "node x.js"}})}, withReg(nil), High, "postinstall script \"node x.js\" is not in the registry"},
		{"changed install", map[string]string{"package.json": with(map[string]any{"scripts": map[string]string{"install": "node evil.js"}})}, withReg(map[string]any{"scripts": map[string]string{"install": "node build.js"}}), High, "differs from the registry"},
		{"hidden dependency", map[string]string{"package.json": with(map[string]any{"dependencies": map[string]string{"lodash": "^4.17.21", "evil-helper": "1.0.0"}})}, withReg(nil), High, "evil-helper@1.0.0 only in the tarball"},
		{"renamed", map[string]string{"package.json": with(map[string]any{"name": "widget-x"})}, withReg(nil), High, "named"},
		{"bin", map[string]string{"package.json": with(map[string]any{"bin": map[string]string{"widget": "cli.js", "ls": "evil.js"}})}, withReg(nil), Medium, "ls → evil.js"},
		{"registry-only install", map[string]string{"package.json": with(nil)}, withReg(map[string]any{"scripts": map[string]string{"preinstall": "echo hi"}}), Medium, "registry's manifest declares a preinstall"},
		{"test script", map[string]string{"package.json": with(map[string]any{"scripts": map[string]string{"test": "jest"}})}, withReg(map[string]any{"scripts": map[string]string{"test": "mocha"}}), Low, "test script differs"},
		// Negatives: the registry's additions and npm's normalisation.
		{"identical", map[string]string{"package.json": with(nil)}, withReg(nil), "", ""},
		{"node-gyp", map[string]string{"package.json": with(nil), "binding.gyp": "{}"}, withReg(map[string]any{"scripts": map[string]string{"install": "node-gyp rebuild"}, "gypfile": true}), "", ""},
		{"optional deps copied", map[string]string{"package.json": with(map[string]any{"optionalDependencies": map[string]string{"fsevents": "^2"}})},
			withReg(map[string]any{"dependencies": map[string]string{"lodash": "^4.17.21", "fsevents": "^2"}, "optionalDependencies": map[string]string{"fsevents": "^2"}}), "", ""},
		{"server.js start", map[string]string{"package.json": with(nil), "server.js": "require('http')"}, withReg(map[string]any{"scripts": map[string]string{"start": "node server.js"}}), "", ""},
		{"v version", map[string]string{"package.json": with(map[string]any{"version": "v1.2.3"})}, withReg(nil), "", ""},
		{"unknown registry", map[string]string{"package.json": with(map[string]any{"scripts": map[string]string{"postinstall": "node x.js"}})}, "", "", ""},
		{"invalid registry json", map[string]string{"package.json": with(nil)}, "{", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := extractPackage(t, c.tarball)
			if c.registry != "" {
				m := facts.ParseManifest([]byte(c.registry))
				p.Registry = &m
			}
			got := ManifestConfusion.Run(p)
			var worst *Finding
			for i := range got {
				if worst == nil || got[i].Severity.Rank() > worst.Severity.Rank() {
					worst = &got[i]
				}
			}
			switch {
			case c.sev == "" && worst != nil:
				t.Fatalf("unexpected finding: %s %s", worst.Severity, worst.Message)
			case c.sev == "":
			case worst == nil:
				t.Fatalf("no finding, want %s", c.sev)
			case worst.Severity != c.sev || !strings.Contains(worst.Message, c.msg):
				t.Errorf("got %s %q, want %s containing %q", worst.Severity, worst.Message, c.sev, c.msg)
			}
		})
	}
}
