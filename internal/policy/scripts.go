package policy

import (
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/registry"
)

// installScriptReasons applies install_scripts: installing a version with
// preinstall/install/postinstall scripts (or a binding.gyp) runs its code
// on the machine, the step most npm malware relies on. Packages on the
// allow list (esbuild, node-gyp builds the team knows) pass.
func (v *view) installScriptReasons(m *registry.Manifest, rs []Reason) []Reason {
	if v.e.scripts == Allow || v.scriptsAllowed != "" || !runsInstallScripts(m) {
		return rs
	}
	scripts := m.InstallScripts()
	var what string
	if len(scripts) == 0 {
		// An abbreviated document has only the registry's flag.
		what = "runs install scripts (hasInstallScript)"
	} else {
		names := make([]string, 0, len(scripts))
		for k := range scripts {
			names = append(names, k)
		}
		slices.Sort(names)
		parts := make([]string, 0, len(names))
		for _, k := range names {
			parts = append(parts, k+": "+clip(scripts[k], 60))
		}
		what = "runs install scripts (" + strings.Join(parts, "; ") + ")"
	}
	return append(rs, Reason{
		Rule:    RuleInstallScripts,
		Action:  v.e.scripts,
		Message: what + " and is not in install_scripts.allow",
	})
}

// runsInstallScripts is registry.Manifest.HasInstallScripts without
// building the scripts map, as it is asked of every version.
func runsInstallScripts(m *registry.Manifest) bool {
	if m.HasInstallScript || m.Gypfile {
		return true
	}
	for _, k := range [...]string{"preinstall", "install", "postinstall"} {
		if _, ok := m.Scripts[k]; ok {
			return true
		}
	}
	return false
}

// clip shortens s to n runes, on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
