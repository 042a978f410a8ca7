package rules

import (
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// InstallInlineCode catches JavaScript passed inline to node in a
// lifecycle script.
var InstallInlineCode = &Rule{
	ID:       "VGL-A003",
	Name:     "install-script-inline-code",
	Severity: High,
	Category: CatInstall,
	Summary: "A lifecycle script runs inline JavaScript (node -e/--eval/-p, bun -e, deno eval). The code is parsed " +
		"like any file: high when it loads child_process/http/net/vm, evaluates or decodes code, uses the network, " +
		"is obfuscated or does not parse; medium otherwise. Wrappers that only require a local file " +
		"(node -e \"try{require('./postinstall')}catch(e){}\") are treated as running that file (VGL-A001).",
	Why: "Inline code never appears as a file in the tarball, so file-based review and scanners miss it; " +
		"attackers use it to keep an install-time payload in package.json.",
	FalsePositives: "Short inline checks (printing a notice, testing a Node version) report medium at most.",
	Check:          checkInstallInline,
}

func checkInstallInline(p *facts.Package) []Finding {
	var out []Finding
	for _, s := range p.Manifest.Scripts {
		if !facts.IsLifecycle(s.Name) || s.Implicit {
			continue
		}
		for _, code := range inlineCode(s.Command) {
			jf := inlineFacts(code)
			if trivialWrapper(jf) {
				continue
			}
			why := inlineDanger(jf)
			sev := Medium
			msg := s.Name + " script runs inline JavaScript"
			if len(why) > 0 {
				sev = High
				msg += " that " + strings.Join(why, ", ")
			}
			if !facts.IsInstall(s.Name) {
				msg += " (for git and local installs)"
			}
			out = append(out, inManifest(sev, s.Line, code, "%s", msg))
		}
	}
	return out
}
