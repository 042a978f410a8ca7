package diff

import (
	"bytes"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

// Capabilities a release can have. A finding category without an entry in
// categoryCapability is a capability of its own name, so categories added
// to the rules later still show up.
const (
	CapNetwork       = "network"
	CapProcessExec   = "process-exec"
	CapEnvAccess     = "env-access"
	CapFSWrite       = "fs-write"
	CapDynamicCode   = "dynamic-code"
	CapObfuscation   = "obfuscation"
	CapInstallScript = "install-script"
	CapBrowserHook   = "browser-hook"
	CapSecrets       = "secrets"
)

// capabilitySummary says what each capability means, for reports.
var capabilitySummary = map[string]string{
	CapNetwork:                   "talks to the network",
	CapProcessExec:               "runs other programs",
	CapEnvAccess:                 "reads environment variables",
	CapFSWrite:                   "writes, moves or deletes files",
	CapDynamicCode:               "compiles strings into code at run time",
	CapObfuscation:               "carries obfuscated code",
	CapInstallScript:             "runs code when installed",
	CapBrowserHook:               "hooks the page's network or wallet APIs",
	CapSecrets:                   "collects secrets: environment dumps, credential files, cloud metadata",
	string(rules.CatCryptoData):  "carries crypto addresses, address patterns or token-approval selectors",
	string(rules.CatAddressSwap): "picks look-alike crypto addresses",
}

var categoryCapability = map[rules.Category]string{
	rules.CatInstall:     CapInstallScript,
	rules.CatNetworkHook: CapBrowserHook,
	rules.CatWalletHook:  CapBrowserHook,
	rules.CatObfuscation: CapObfuscation,
	rules.CatDynamicCode: CapDynamicCode,
	rules.CatDecodeExec:  CapDynamicCode,
	rules.CatExec:        CapProcessExec,
	rules.CatNetwork:     CapNetwork,
	rules.CatSecrets:     CapSecrets,
}

// Capability is a behaviour a release has, with where it shows.
type Capability struct {
	Name    string `json:"name"`
	Summary string `json:"summary,omitempty"`
	// Evidence lists the first maxPlaces places (by file and line); More
	// counts the rest.
	Evidence []Place `json:"evidence"`
	More     int     `json:"more,omitempty"`
}

// Place is where a capability shows: a call, an import, a finding.
type Place struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
	// What names the call, module or rule ("require('https').get",
	// "import child_process", "VGL-A040 network-hardcoded-host").
	What string `json:"what"`
}

// CapabilityChanges are the capabilities B gained and lost.
type CapabilityChanges struct {
	Appeared    []Capability `json:"appeared"`
	Disappeared []Capability `json:"disappeared"`
}

const maxPlaces = 5

func compareCapabilities(a, b map[string][]Place) CapabilityChanges {
	return CapabilityChanges{Appeared: onlyIn(b, a), Disappeared: onlyIn(a, b)}
}

// onlyIn lists the capabilities of x that y lacks.
func onlyIn(x, y map[string][]Place) []Capability {
	out := []Capability{}
	for name, places := range x {
		if len(y[name]) > 0 || len(places) == 0 {
			continue
		}
		c := Capability{Name: name, Summary: capabilitySummary[name], Evidence: places}
		if len(places) > maxPlaces {
			c.Evidence, c.More = places[:maxPlaces], len(places)-maxPlaces
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// capabilitiesOf finds a release's capabilities from its findings'
// categories and its JavaScript facts, with places sorted and
// deduplicated.
func capabilitiesOf(p *facts.Package, rep *analyze.Report) map[string][]Place {
	caps := map[string][]Place{}
	add := func(name string, pl Place) {
		pl.What = rules.Sanitize(pl.What, 120) // callees and script names come from the package
		caps[name] = append(caps[name], pl)
	}
	for _, f := range rep.Findings {
		name, ok := categoryCapability[f.Category]
		if !ok {
			name = string(f.Category)
		}
		if name == "" {
			continue
		}
		add(name, Place{File: f.File, Line: f.Line, Col: f.Col, What: f.Rule + " " + f.Name})
	}
	for _, s := range p.Manifest.Scripts {
		if facts.IsInstall(s.Name) {
			add(CapInstallScript, Place{File: "package.json", Line: s.Line, What: "scripts." + s.Name})
		}
	}
	for i := range p.Files {
		f := &p.Files[i]
		if f.JS == nil {
			continue
		}
		jsCapabilities(f, add)
	}
	for name, places := range caps {
		caps[name] = sortPlaces(places)
	}
	return caps
}

// jsCapabilities reads one file's imports and calls.
func jsCapabilities(f *facts.FileFacts, add func(string, Place)) {
	at := func(pos js.Pos, what string) Place {
		return Place{File: f.Path, Line: pos.Line, Col: pos.Col, What: what}
	}
	for _, imp := range f.JS.Imports {
		if imp.Computed {
			continue
		}
		if c := moduleCapability(imp.Module); c != "" {
			add(c, at(imp.Pos, "import "+imp.Module))
		}
	}
	env := false
	for i := range f.JS.Calls {
		c := &f.JS.Calls[i]
		if name := callCapability(c); name != "" {
			add(name, at(c.Pos, c.Callee))
		}
		if !env && (strings.HasPrefix(c.Callee, "process.env.") || usesEnv(c.Args)) {
			env = true
			add(CapEnvAccess, at(c.Pos, "process.env ("+c.Callee+")"))
		}
	}
	for i := range f.JS.Assigns {
		a := &f.JS.Assigns[i]
		if !env && usesEnv([]js.Value{a.Value}) {
			env = true
			add(CapEnvAccess, at(a.Pos, "process.env"))
		}
	}
	if !env {
		// A read the facts do not record (const t = process.env.X, never
		// passed on): found lexically, comments included.
		if i := bytes.Index(f.Data, []byte("process.env")); i >= 0 {
			line := bytes.Count(f.Data[:i], []byte{'\n'}) + 1
			col := i - bytes.LastIndexByte(f.Data[:i], '\n')
			add(CapEnvAccess, Place{File: f.Path, Line: line, Col: col, What: "process.env"})
		}
	}
	if len(f.JS.StringArrays) > 0 {
		add(CapObfuscation, at(f.JS.StringArrays[0].Pos, "string array"))
	}
}

func usesEnv(vals []js.Value) bool {
	for _, v := range vals {
		if v.Kind == js.KindPath && (v.Str == "process.env" || strings.HasPrefix(v.Str, "process.env.")) {
			return true
		}
	}
	return false
}

// moduleCapability is what importing a module gives a package.
func moduleCapability(mod string) string {
	mod = strings.TrimPrefix(mod, "node:")
	if i := strings.IndexByte(mod, '/'); i > 0 && !strings.HasPrefix(mod, "@") {
		mod = mod[:i] // fs/promises, dns/promises
	}
	switch mod {
	case "http", "https", "http2", "net", "tls", "dgram", "dns", "undici", "node-fetch", "cross-fetch",
		"isomorphic-fetch", "axios", "got", "request", "ws", "socket.io-client", "needle", "superagent":
		return CapNetwork
	case "child_process", "execa", "cross-spawn", "shelljs":
		return CapProcessExec
	case "vm":
		return CapDynamicCode
	}
	return ""
}

// callCapability is what a call does, by its canonical callee.
func callCapability(c *js.Call) string {
	callee := strings.ReplaceAll(strings.TrimPrefix(c.Callee, "~"), "require('node:", "require('")
	switch callee {
	case "fetch", "navigator.sendBeacon", "EventSource", "importScripts":
		return CapNetwork
	case "XMLHttpRequest", "WebSocket":
		if c.New {
			return CapNetwork
		}
	case "eval", "execScript", "Function":
		return CapDynamicCode
	case "setTimeout", "setInterval":
		if c.Arg(0).Kind == js.KindString {
			return CapDynamicCode
		}
	}
	mod, member, ok := strings.Cut(strings.TrimPrefix(callee, "require('"), "').")
	if !ok || !strings.HasPrefix(callee, "require('") {
		return ""
	}
	switch mod {
	case "child_process":
		return CapProcessExec
	case "vm":
		return CapDynamicCode
	case "fs", "fs/promises", "fs-extra", "graceful-fs":
		member = strings.TrimPrefix(member, "promises.")
		if fsWrites[strings.TrimSuffix(member, "Sync")] {
			return CapFSWrite
		}
	}
	if moduleCapability(mod) == CapNetwork {
		return CapNetwork
	}
	return ""
}

// fsWrites are the fs functions (without their Sync suffix) that change
// the filesystem.
var fsWrites = map[string]bool{
	"writeFile": true, "appendFile": true, "createWriteStream": true, "mkdir": true, "mkdtemp": true,
	"rm": true, "rmdir": true, "unlink": true, "rename": true, "copyFile": true, "cp": true, "chmod": true,
	"chown": true, "symlink": true, "link": true, "truncate": true, "utimes": true, "outputFile": true,
	"writeJson": true, "outputJson": true, "remove": true, "move": true, "copy": true, "emptyDir": true,
	"ensureDir": true, "ensureFile": true, "mkdirp": true, "mkdirs": true,
}

func sortPlaces(ps []Place) []Place {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Col < ps[j].Col
	})
	out := ps[:0]
	seen := map[Place]bool{}
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
