package rules

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// InstallScript describes every lifecycle script: what runs on the
// developer's or the CI machine the moment the package is installed.
var InstallScript = &Rule{
	ID:       "VGL-A001",
	Name:     "install-script",
	Severity: Medium,
	Category: CatInstall,
	Summary: "A preinstall, install or postinstall script (or prepare, for git installs) runs a command when the " +
		"package is installed: medium for a node file or an unrecognised command, low for common tools (husky, " +
		"patch-package, node-gyp, prebuild-install, prisma generate…), for the install scripts of well-known native " +
		"packages (esbuild, sharp, electron…), for prepare scripts and for npm's implicit node-gyp rebuild.",
	Why: "Install scripts run with the installing user's rights before any of the package's code is imported — " +
		"the entry point of most npm worms and credential stealers (Shai-Hulud's setup_bun.js, the nx " +
		"telemetry.js). The files they run are marked install-time, and what those files do weighs more.",
	FalsePositives: "Most install scripts are legitimate (native builds, prebuilt binary downloads, notices); " +
		"they stay low or medium and only raise the verdict together with other findings.",
	Check: checkInstallScript,
}

func checkInstallScript(p *facts.Package) []Finding {
	var out []Finding
	for _, s := range p.Manifest.Scripts {
		if !facts.IsLifecycle(s.Name) {
			continue
		}
		evidence := fmt.Sprintf("%q: %q", s.Name, s.Command)
		switch {
		case s.Implicit:
			out = append(out, inManifest(Low, 0, "binding.gyp", "npm runs \"node-gyp rebuild\" at install for the package's binding.gyp (a native build)"))
		case !facts.IsInstall(s.Name):
			out = append(out, inManifest(Info, s.Line, evidence, "%s script runs %q; npm runs it for git and local installs only", s.Name, short(s.Command)))
		case benign(s.Command):
			out = append(out, inManifest(Low, s.Line, evidence, "%s script runs a common tool: %q", s.Name, short(s.Command)))
		default:
			files := facts.ScriptFiles(s.Command)
			for _, code := range inlineCode(s.Command) {
				if jf := inlineFacts(code); trivialWrapper(jf) {
					for _, imp := range jf.Imports {
						files = append(files, imp.Module)
					}
				}
			}
			if len(files) == 0 {
				out = append(out, inManifest(Medium, s.Line, evidence, "%s script runs %q at install time", s.Name, short(s.Command)))
				continue
			}
			var missing []string
			for _, f := range files {
				if p.Resolve("", f) == nil {
					missing = append(missing, f)
				}
			}
			sev, note := Medium, ""
			if knownInstaller(packageName(p)) {
				sev, note = Low, fmt.Sprintf(" (%s's usual installer)", packageName(p))
			}
			if len(missing) > 0 {
				note += fmt.Sprintf("; %s not in the package", strings.Join(missing, ", "))
			}
			out = append(out, inManifest(sev, s.Line, evidence, "%s script runs node on %s at install time%s", s.Name, strings.Join(files, ", "), note))
		}
	}
	return out
}

func short(s string) string { return Sanitize(s, 100) }
