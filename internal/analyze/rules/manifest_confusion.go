package rules

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// ManifestConfusion catches a tarball whose package.json says something
// else than the manifest the registry serves.
var ManifestConfusion = &Rule{
	ID:       "VGL-A083",
	Name:     "manifest-confusion",
	Severity: High,
	Category: CatPayload,
	Summary: "The tarball's package.json and the registry's manifest of the same version disagree on what runs: " +
		"an install script (preinstall, install, postinstall) only in the tarball or different there — high; " +
		"dependencies or optional dependencies added, removed or changed — high; the name — high; bin entries, " +
		"other lifecycle scripts, or an install script only in the registry — medium; the version — medium; " +
		"other scripts — low. Fields the registry adds (_id, dist, _npmUser, gitHead…) and npm's publish-time " +
		"normalisation (./ in bin paths, directories.bin, optionalDependencies copied into dependencies, " +
		"node-gyp rebuild for a binding.gyp, start: node server.js for a server.js, a leading v or = in the version) " +
		"are not differences.",
	Why: "npm installs dependencies from the registry's manifest but runs the scripts of the package.json inside " +
		"the tarball, and most scanners and the registry website show only the former: a publisher who crafts " +
		"the publish request can hide an install script or a dependency from everyone who looks (manifest " +
		"confusion, 2023).",
	FalsePositives: "Packages republished by tools that edit the tarball after npm's normalisation, and very old " +
		"versions published before npm normalised some fields, can differ in bin paths or script whitespace.",
	Check: checkManifestConfusion,
}

// normVersion strips what npm's semver cleaning removes.
func normVersion(v string) string {
	return strings.TrimLeft(strings.TrimSpace(v), "v=")
}

func normBin(p string) string {
	return strings.TrimPrefix(path.Clean(strings.ReplaceAll(p, "\\", "/")), "./")
}

// runtimeDeps merges dependencies and optionalDependencies, as npm's
// publish does in the manifest it sends.
func runtimeDeps(m *facts.Manifest) map[string]string {
	out := map[string]string{}
	for k, v := range m.Dependencies {
		out[k] = v
	}
	for k, v := range m.OptionalDependencies {
		out[k] = v
	}
	return out
}

// scriptOf returns a manifest's script, counting node-gyp rebuild for a
// binding.gyp as declared.
func scriptOf(m *facts.Manifest, name string) (string, bool) {
	s, ok := m.Script(name)
	return strings.TrimSpace(s.Command), ok
}

func checkManifestConfusion(p *facts.Package) []Finding {
	reg, tar := p.Registry, &p.Manifest
	if reg == nil || reg.Error != "" || !reg.Found || !tar.Found || tar.Error != "" {
		return nil
	}
	var out []Finding
	add := func(sev Severity, line int, evidence, format string, args ...any) {
		out = append(out, inManifest(sev, line, evidence, format, args...))
	}
	if reg.Name != "" && tar.Name != reg.Name {
		add(High, 0, "name: "+tar.Name, "the tarball's package.json is named %q but the registry serves it as %q", Sanitize(tar.Name, 60), Sanitize(reg.Name, 60))
	}
	if reg.Version != "" && normVersion(tar.Version) != normVersion(reg.Version) {
		add(Medium, 0, "version: "+tar.Version, "the tarball's package.json has version %q but the registry serves %q", Sanitize(tar.Version, 40), Sanitize(reg.Version, 40))
	}

	// Scripts: npm runs the tarball's.
	names := map[string]bool{}
	for _, s := range tar.Scripts {
		names[s.Name] = true
	}
	for _, s := range reg.Scripts {
		names[s.Name] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		ts, inTar := tar.Script(name)
		rs, inReg := scriptOf(reg, name)
		tcmd := strings.TrimSpace(ts.Command)
		if ts.Implicit && (!inReg || rs == "node-gyp rebuild") {
			continue // npm adds node-gyp rebuild for a binding.gyp at publish or at install
		}
		if inTar && inReg && tcmd == rs {
			continue
		}
		if !inTar && name == "start" && rs == "node server.js" && p.File("server.js") != nil {
			continue // npm adds it for a server.js at publish
		}
		evidence := fmt.Sprintf("%q: %q", name, tcmd)
		switch {
		case inTar && facts.IsInstall(name) && !inReg:
			add(High, ts.Line, evidence, "the tarball's %s script %q is not in the registry's manifest: npm runs it, while the registry and the scanners reading it show none",
				name, short(tcmd))
		case inTar && facts.IsInstall(name):
			add(High, ts.Line, evidence, "the tarball's %s script %q differs from the registry's %q: npm runs the tarball's", name, short(tcmd), short(rs))
		case !inTar && facts.IsInstall(name):
			add(Medium, 0, fmt.Sprintf("%q: %q", name, rs), "the registry's manifest declares a %s script %q that the tarball does not have", name, short(rs))
		case facts.IsLifecycle(name):
			add(Medium, ts.Line, evidence, "the %s script differs between the tarball (%q) and the registry (%q)", name, short(tcmd), short(rs))
		default:
			add(Low, ts.Line, evidence, "the %s script differs between the tarball (%q) and the registry (%q)", name, short(tcmd), short(rs))
		}
	}

	// Dependencies: npm resolves the registry's, the tarball is what lands
	// in node_modules and in every later install from a lockfile-less copy.
	td, rd := runtimeDeps(tar), runtimeDeps(reg)
	var diffs []string
	for _, k := range unionKeys(td, rd) {
		tv, inT := td[k]
		rv, inR := rd[k]
		switch {
		case inT && !inR:
			diffs = append(diffs, fmt.Sprintf("%s@%s only in the tarball", k, tv))
		case !inT && inR:
			diffs = append(diffs, fmt.Sprintf("%s@%s only in the registry", k, rv))
		case strings.TrimSpace(tv) != strings.TrimSpace(rv):
			diffs = append(diffs, fmt.Sprintf("%s is %s in the tarball, %s in the registry", k, tv, rv))
		}
	}
	if len(diffs) > 0 {
		add(High, 0, strings.Join(diffs, "; "), "the tarball's dependencies differ from the registry's: %s", Sanitize(strings.Join(diffs, "; "), 200))
	}

	// bin: npm links the tarball's, after normalising paths.
	var bins []string
	for name, file := range tar.Bin {
		if rf, ok := reg.Bin[name]; !ok || normBin(rf) != normBin(file) {
			bins = append(bins, name+" → "+file)
		}
	}
	if len(bins) > 0 {
		sort.Strings(bins)
		add(Medium, 0, strings.Join(bins, ", "), "bin entries of the tarball are missing or different in the registry's manifest: %s", Sanitize(strings.Join(bins, ", "), 160))
	}
	return out
}

func unionKeys(a, b map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
