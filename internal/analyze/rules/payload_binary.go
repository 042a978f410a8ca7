package rules

import (
	"path"
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// UnexpectedBinary catches native executables in packages that give no
// reason to carry one.
var UnexpectedBinary = &Rule{
	ID:       "VGL-A080",
	Name:     "unexpected-native-binary",
	Severity: High,
	Category: CatPayload,
	Summary: "An ELF, PE or Mach-O file in a package that declares no os/cpu, has no binding.gyp or gypfile, no " +
		"native-build dependency or script (node-gyp, node-gyp-build, prebuild(-install), node-pre-gyp and its " +
		"\"binary\" field, napi, cmake-js) and whose name does not say it ships binaries (esbuild, @swc/*, " +
		"*-linux-x64, *-darwin-arm64…), outside prebuilds/, build/Release/ and lib/binding/ — medium; high when " +
		"an install script, or a file an install script runs, names it and runs programs.",
	Why: "Native code is opaque to review and to every JavaScript scanner, and it runs with the user's rights the " +
		"moment it is executed: a binary nobody expects, started at install time, is a dropped payload.",
	FalsePositives: "Packages that vendor tools without saying so in their manifest (a bundled 7-Zip, ffmpeg or " +
		"a test fixture executable): medium, and never with the install-time escalation unless they run it.",
	Check: checkUnexpectedBinary,
}

func nativeBinary(f *facts.FileFacts) bool {
	return f.Binary == "elf" || f.Binary == "pe" || f.Binary == "macho"
}

// nativeDeps are dependencies (of any kind) that build or fetch native
// addons.
var nativeDeps = []string{"node-gyp", "node-gyp-build", "prebuild", "prebuild-install", "prebuildify", "node-pre-gyp",
	"@mapbox/node-pre-gyp", "node-addon-api", "nan", "bindings", "cmake-js", "@napi-rs/cli", "napi-build-utils",
	"node-gyp-build-optional-packages", "pkg-prebuilds", "@neon-rs/cli", "neon-cli", "electron-rebuild", "@electron/rebuild"}

var (
	// platformName: a package named for the platform of the binary it
	// carries (@esbuild/linux-x64, @swc/core-darwin-arm64).
	platformName = regexp.MustCompile(`(?i)(?:^|[-/_.@])(?:linux|darwin|macos|osx|win32|windows|freebsd|openbsd|sunos|android|aix|musl|gnu|msvc)(?:[-_.]|$)|` +
		`(?:^|[-/_.])(?:x64|x86|arm64|ia32|amd64|aarch64|armv7|arm|ppc64|s390x|riscv64|loong64)(?:[-_.]|$)`)
	// binaryName: a package whose name says it ships a tool.
	binaryName = regexp.MustCompile(`(?i)(?:^|[-/@_.])(?:bin|binary|binaries|native|prebuilt|static|exe|esbuild|swc|ffmpeg|ffprobe|7zip|` +
		`chromedriver|geckodriver|phantomjs|electron|turbo|biomejs|lightningcss|dprint|oxc|rspack|ngrok)(?:$|[-/_.])`)
	nativeScript = regexp.MustCompile(`(?i)node-gyp|prebuild|node-pre-gyp|napi|cmake-js|neon`)
)

// expectsBinaries reports why a package may carry native code, or "".
func expectsBinaries(p *facts.Package) string {
	m := &p.Manifest
	switch {
	case len(m.OS) > 0 || len(m.CPU) > 0:
		return "declares os/cpu"
	case m.Gypfile:
		return "builds a native addon"
	case m.PrebuiltBinary:
		return "declares a prebuilt binary"
	}
	for _, deps := range []map[string]string{m.Dependencies, m.DevDependencies, m.OptionalDependencies, m.PeerDependencies} {
		for _, d := range nativeDeps {
			if _, ok := deps[d]; ok {
				return "depends on " + d
			}
		}
	}
	for _, s := range m.Scripts {
		if nativeScript.MatchString(s.Command) {
			return "builds native code in its scripts"
		}
	}
	return ""
}

// expectedPlace: where native addons and tools conventionally live.
func expectedPlace(p *facts.Package, file string) bool {
	for _, dir := range []string{"prebuilds/", "build/Release/", "build/Debug/", "lib/binding/", "binding/"} {
		if strings.HasPrefix(file, dir) || strings.Contains(file, "/"+dir) {
			return true
		}
	}
	name := p.Manifest.Name
	return platformName.MatchString(name) || binaryName.MatchString(name)
}

// launchedAtInstall finds where install-time code names the binary: an
// install script command, or a string in an install-time file that runs
// programs.
func launchedAtInstall(p *facts.Package, file string) (Finding, bool) {
	base := path.Base(file)
	for _, s := range p.Manifest.Scripts {
		if facts.IsInstall(s.Name) && strings.Contains(s.Command, base) {
			return inManifest(High, s.Line, s.Name+": "+s.Command, "%s script runs the native binary %s, which the package gives no reason to carry", s.Name, file), true
		}
	}
	for i := range p.Files {
		f := &p.Files[i]
		if !f.InstallTime || f.JS == nil || !runsPrograms(f) {
			continue
		}
		for _, s := range f.JS.Strings {
			if strings.Contains(s.Value, base) && len(base) >= 3 {
				return at(High, f, s.Pos, "runs the native binary %s at install time; the package gives no reason to carry one", file), true
			}
		}
	}
	return Finding{}, false
}

func checkUnexpectedBinary(p *facts.Package) []Finding {
	if expectsBinaries(p) != "" {
		return nil
	}
	var out []Finding
	for i := range p.Files {
		f := &p.Files[i]
		if !nativeBinary(f) || expectedPlace(p, f.Path) {
			continue
		}
		if fd, ok := launchedAtInstall(p, f.Path); ok {
			out = append(out, fd)
			continue
		}
		out = append(out, Finding{Severity: Medium, File: f.Path, Evidence: Sanitize(string(f.Data[:min(len(f.Data), 16)]), 32),
			Message: "a native " + strings.ToUpper(f.Binary) + " executable in a package that declares no platform, native build or prebuilt binary"})
	}
	return out
}
