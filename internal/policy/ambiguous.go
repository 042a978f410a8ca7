package policy

import "github.com/vigil-sec/vigil/internal/registry"

// ambiguousManifestReasons blocks a version whose manifest has
// case-variant duplicate keys (registry.Manifest.Ambiguous): Vigil decodes
// keys case-insensitively, npm, pnpm, yarn and bun exactly, so every other
// rule may have judged a decoy — a "Scripts" without the postinstall the
// real "scripts" runs, a "Dist" with provenance or another tarball URL.
// No setting turns it off: an allowance would switch off the install
// script, trust and tarball checks for that version at once, and no
// legitimate publish produces such keys.
func ambiguousManifestReasons(m *registry.Manifest, rs []Reason) []Reason {
	if m.Ambiguous == "" {
		return rs
	}
	return append(rs, Reason{
		Rule:    RuleAmbiguousManifest,
		Action:  Block,
		Message: "manifest has case-variant duplicate keys (" + m.Ambiguous + "): what the registry says and what clients read may differ",
	})
}
