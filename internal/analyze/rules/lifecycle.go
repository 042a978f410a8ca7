package rules

import (
	"context"
	"path"
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// Shared knowledge about lifecycle scripts, used by the install rules.

// benignCommands are tools whose install-time use is common and
// understood. A script made only of these stays low.
var benignCommands = []*regexp.Regexp{
	regexp.MustCompile(`^(npx\s+)?husky(\s+(install|init)(\s+\S+)?)?$`),
	regexp.MustCompile(`^(npx\s+)?is-ci$`),
	regexp.MustCompile(`^(npx\s+)?patch-package(\s+--\S+)*$`),
	regexp.MustCompile(`^(npx\s+)?node-gyp(\s+(rebuild|build|configure|clean))+(\s+--\S+)*$`),
	regexp.MustCompile(`^(npx\s+)?node-gyp-build(-optional-packages)?(-test)?(\s+\S+)*$`),
	regexp.MustCompile(`^(npx\s+)?prebuild-install(\s+\S+)*$`),
	regexp.MustCompile(`^(npx\s+)?(@mapbox/)?node-pre-gyp\s+(install|rebuild|build)(\s+\S+)*$`),
	regexp.MustCompile(`^(npx\s+)?cmake-js\s+(compile|rebuild|build)(\s+\S+)*$`),
	regexp.MustCompile(`^(npx\s+)?prisma\s+generate(\s+\S+)*$`),
	regexp.MustCompile(`^(npx\s+)?opencollective(-postinstall|\s+postinstall)(\s+\S+)*$`),
	regexp.MustCompile(`^(npx\s+)?only-allow\s+(npm|pnpm|yarn|bun)$`),
	regexp.MustCompile(`^(npx\s+)?napi-postinstall(\s+\S+)*$`),
	regexp.MustCompile(`^(npx\s+)?electron-builder\s+install-app-deps$`),
	regexp.MustCompile(`^(npx\s+)?ngcc(\s+\S+)*$`),
	regexp.MustCompile(`^(echo|printf)(\s.*)?$`),
	regexp.MustCompile(`^(exit\s+0|true|:)$`),
}

// knownInstallers are packages whose own install script (node install.js
// and the like) is widely used and reviewed: fetching a prebuilt binary,
// printing a notice. The file they run is still analysed like any other.
var knownInstallers = map[string]bool{
	"esbuild": true, "electron": true, "puppeteer": true, "playwright": true, "playwright-core": true,
	"sharp": true, "@swc/core": true, "cypress": true, "core-js": true, "core-js-pure": true,
	"es5-ext": true, "nodemon": true, "protobufjs": true, "bcrypt": true, "sqlite3": true,
	"canvas": true, "node-sass": true, "fsevents": true, "re2": true, "better-sqlite3": true,
	"@parcel/watcher": true, "msgpackr-extract": true, "lmdb": true, "deasync": true,
	"utf-8-validate": true, "bufferutil": true, "leveldown": true, "@sentry/cli": true,
	"@prisma/engines": true, "prisma": true, "@prisma/client": true, "@biomejs/biome": true,
	"turbo": true, "nx": true, "vue-demi": true, "unrs-resolver": true, "@ast-grep/cli": true,
	"workerd": true, "dprint": true, "husky": true, "yarn": true, "@vscode/ripgrep": true,
	"chromedriver": true, "geckodriver": true, "edgedriver": true, "iltorb": true, "grpc": true,
	"@tensorflow/tfjs-node": true, "onnxruntime-node": true, "ffmpeg-static": true,
	"@sentry/profiling-node": true, "bun": true, "@esbuild/linux-x64": true,
}

// knownInstaller reports whether the package (or its @esbuild/… family)
// is a known installer.
func knownInstaller(name string) bool {
	return knownInstallers[name] || strings.HasPrefix(name, "@esbuild/")
}

// benign reports whether every command of a script is a benign tool.
func benign(cmd string) bool {
	parts := facts.SplitCommands(cmd)
	n := 0
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n++
		ok := false
		for _, re := range benignCommands {
			if re.MatchString(p) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return n > 0
}

var (
	// A download piped into, or substituted into, an interpreter.
	pipeToShell = regexp.MustCompile(`(?i)\b(curl|wget|fetch|iwr|invoke-webrequest|irm|invoke-restmethod)\b[^|;&]*\|\s*(sudo\s+)?(sh|bash|zsh|dash|ksh|node|bun|python[0-9.]*|perl|ruby|php|iex|invoke-expression|pwsh|powershell)\b`)
	substShell  = regexp.MustCompile(`(?i)(\$\(|<\(|` + "`" + `)\s*(curl|wget)\b`)
	encodedPS   = regexp.MustCompile(`(?i)\b(powershell|pwsh)(\.exe)?\b.*\s-(e|ec|en|enc|encodedcommand)\s`)
	psDownload  = regexp.MustCompile(`(?i)(downloadstring|downloadfile|invoke-expression|\biex\s*\(|frombase64string)`)
	lolbins     = regexp.MustCompile(`(?i)\b(certutil(\.exe)?\s.*-urlcache|bitsadmin(\.exe)?\s+/transfer|mshta(\.exe)?\s+https?:|regsvr32(\.exe)?\s.*/i:https?:)`)
	bunInstall  = regexp.MustCompile(`(?i)bun\.sh/install`)
	download    = regexp.MustCompile(`(?i)\b(curl|wget|iwr|invoke-webrequest|aria2c)\b.*\b(https?|ftp)://`)
	urlInScript = regexp.MustCompile(`(?i)\b(https?|ftp)://[^\s'"]+`)
)

// inlineCode returns the JavaScript a command runs inline (node -e "…",
// node --eval, node -p, bun -e, deno eval), if any.
func inlineCode(cmd string) []string {
	var out []string
	for _, part := range facts.SplitCommands(cmd) {
		f := facts.ShellFields(part)
		for i := 0; i < len(f); i++ {
			w := path.Base(f[i])
			if w != "node" && w != "node.exe" && w != "bun" && w != "deno" && w != "nodejs" {
				continue
			}
			for j := i + 1; j < len(f)-1; j++ {
				switch f[j] {
				case "-e", "--eval", "-p", "--print", "eval":
					out = append(out, f[j+1])
					j = len(f)
				}
			}
		}
	}
	return out
}

// inlineFacts parses inline code with the package's own extractor.
func inlineFacts(code string) *js.Facts {
	f, _ := js.Extract(context.Background(), []byte(code), js.Options{})
	return f
}

// trivialWrapper reports whether inline code only loads local files
// (node -e "try{require('./postinstall')}catch(e){}"), which makes it
// the same as running that file.
func trivialWrapper(f *js.Facts) bool {
	if f.ParseError != nil || len(f.Assigns) > 0 {
		return false
	}
	loads := 0
	for _, imp := range f.Imports {
		if imp.Computed || !(strings.HasPrefix(imp.Module, "./") || strings.HasPrefix(imp.Module, "../")) {
			return false
		}
		loads++
	}
	for _, c := range f.Calls {
		switch c.Callee {
		case "require", "console.log", "console.warn", "console.error", "process.exit":
		default:
			return false
		}
	}
	return loads > 0
}

// dangerousModules are what inline install code has no business loading.
var dangerousModules = map[string]bool{
	"child_process": true, "http": true, "https": true, "net": true, "dns": true, "tls": true,
	"dgram": true, "vm": true, "http2": true, "worker_threads": true, "cluster": true,
}

// inlineDanger lists what makes inline code dangerous, or nil.
func inlineDanger(f *js.Facts) []string {
	var why []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			why = append(why, s)
		}
	}
	for _, imp := range f.Imports {
		if imp.Computed {
			add("a computed require")
		} else if dangerousModules[imp.Module] {
			add("loads " + imp.Module)
		}
	}
	for _, c := range f.Calls {
		switch c.Callee {
		case "eval", "Function":
			add("evaluates code (" + c.Callee + ")")
		case "fetch", "XMLHttpRequest", "WebSocket":
			add("uses the network (" + c.Callee + ")")
		case "atob", "Buffer.from":
			add("decodes data (" + c.Callee + ")")
		}
	}
	if f.Idents.HexNamed >= 3 || len(f.StringArrays) > 0 || f.Numbers.HexArith >= 3 {
		add("is obfuscated")
	}
	if f.ParseError != nil {
		add("does not parse")
	}
	return why
}

// packageName is the manifest's name, for messages and known-installer
// checks.
func packageName(p *facts.Package) string { return p.Manifest.Name }
