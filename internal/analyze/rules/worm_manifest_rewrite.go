package rules

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// ManifestRewrite catches code that edits a package.json's install
// scripts or version and repacks tarballs: how a worm infects the
// packages it is about to republish.
var ManifestRewrite = &Rule{
	ID:       "VGL-A061",
	Name:     "package-json-rewrite",
	Severity: Critical,
	Category: CatWorm,
	Summary: "A file that writes files and names package.json sets an install script in an existing manifest " +
		"(pkg.scripts.postinstall = …, {...pkg.scripts, preinstall: …}) — high — or the version field — info; repacking a tarball (`npm pack`, " +
		"`tar -czf`, the tar module's create) in a file that also publishes raises it to high. Critical in a " +
		"file an install script runs.",
	Why: "Shai-Hulud downloaded each package its stolen token could publish, added its bundle.js and a " +
		"postinstall to package.json, bumped the version, repacked and published: the injected install script " +
		"is what makes the next victim run the worm.",
	FalsePositives: "Version bumping is what release tools do (npm version, changesets, lerna, standard-version): " +
		"info, no points. Scaffolders write new package.json objects (not matched); package managers set " +
		"install: node-gyp rebuild for a binding.gyp (ignored).",
	Check: checkManifestRewrite,
}

var (
	// setsInstallScript: an install script written into an existing
	// manifest — pkg.scripts.postinstall = …, pkg.scripts["preinstall"] = …,
	// scripts: {...pkg.scripts, postinstall: …}, Object.assign(pkg.scripts,
	// {install: …}). A new package.json written by a scaffolder is an
	// object literal without the spread and is not matched.
	setsInstallScript = regexp.MustCompile(`\.scripts\s*(?:\.\s*|\[\s*['"` + "`" + `])(?:pre|post)?install['"` + "`" + `]?\s*\]?\s*=[^=]|` +
		`scripts['"]?\s*:\s*\{\s*\.\.\.\s*[\w$.]+\.scripts\s*,[^}]{0,200}?\b(?:pre|post)?install['"]?\s*:|` +
		`Object\.assign\(\s*[\w$.]+\.scripts\s*,\s*\{[^}]{0,200}?\b(?:pre|post)?install['"]?\s*:`)
	setsVersion = regexp.MustCompile(`([\w$]+)\s*\.version\s*=[^=]|\[\s*['"]version['"]\s*\]\s*=[^=]`)
	repackCmd   = regexp.MustCompile(`(?i)\bnpm\s+pack\b|\btar\s+(?:-?[a-z]*c[a-z]*z[a-z]*f|-?[a-z]*z[a-z]*c[a-z]*f|--create)\b`)
)

// injectedScript finds an install script written into a manifest, other
// than the "node-gyp rebuild" package managers add for a binding.gyp.
func injectedScript(data []byte) (int, bool) {
	for _, loc := range setsInstallScript.FindAllIndex(data, 16) {
		tail := data[loc[1]:min(len(data), loc[1]+48)]
		if !bytes.Contains(tail, []byte("node-gyp rebuild")) {
			return loc[0], true
		}
	}
	return 0, false
}

// bumpedVersion finds a write to a version field that is not the
// object's own (this.version in a semver class).
func bumpedVersion(data []byte) (int, bool) {
	for _, m := range setsVersion.FindAllSubmatchIndex(data, 16) {
		if m[2] >= 0 && string(data[m[2]:m[3]]) == "this" {
			continue
		}
		return m[0], true
	}
	return 0, false
}

func namesPackageJSON(strs []js.String) bool {
	for _, s := range strs {
		if strings.HasSuffix(s.Value, "package.json") {
			return true
		}
	}
	return false
}

// repacks: the file packs a tarball, by command or with the tar module.
func repacks(f *facts.FileFacts, strs []js.String, execs bool) (js.Pos, bool) {
	if f.JS != nil {
		for _, c := range f.JS.Calls {
			switch c.Callee {
			case "require('tar').c", "require('tar').create", "require('tar-stream').pack", "require('tar-fs').pack":
				return c.Pos, true
			}
		}
	}
	if !execs {
		return js.Pos{}, false
	}
	for _, s := range strs {
		if (strings.Contains(s.Value, "pack") || strings.Contains(s.Value, "tar")) && repackCmd.MatchString(s.Value) {
			return s.Pos, true
		}
	}
	return js.Pos{}, false
}

func checkManifestRewrite(p *facts.Package) []Finding {
	var out []Finding
	textFiles(p, func(f *facts.FileFacts, strs []js.String) {
		execs := f.JS == nil || runsPrograms(f)
		found := map[string]Finding{}
		if f.JS != nil && writesFiles(f) && namesPackageJSON(strs) {
			if off, ok := injectedScript(f.Data); ok {
				found["rewrites package.json with an install script"] = at(High, f, posAt(f.Data, off), "")
			}
			if off, ok := bumpedVersion(f.Data); ok {
				found["rewrites package.json's version"] = at(Info, f, posAt(f.Data, off), "")
			}
		}
		if pos, ok := repacks(f, strs, execs); ok {
			if len(stepsIn(f, strs, publishSteps[:1], execs)) > 0 {
				found["repacks a tarball and publishes it"] = at(High, f, pos, "")
			} else if len(found) > 0 {
				found["repacks a tarball"] = at(Low, f, pos, "")
			}
		}
		if w := worstOf(found, f, func(sev Severity, names []string) Severity {
			if len(names) >= 3 {
				return High // version, install script and repack together
			}
			return sev
		}); w != nil {
			out = append(out, *w)
		}
	})
	return out
}
