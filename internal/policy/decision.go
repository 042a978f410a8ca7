// Package policy decides, for one package version, whether installs may
// fetch it: allow, warn or block, with every reason. It does no I/O of
// its own: advisories, the quarantine list, packument times, analysis
// verdicts and trust history are handed to it, so the proxy, scan and
// watch reach the same decision from the same inputs.
package policy

import "time"

// Action is what happens to a version.
type Action string

const (
	Allow Action = "allow"
	// Warn serves the version but says so (response header, log).
	Warn  Action = "warn"
	Block Action = "block"
)

// Rank orders actions: allow < warn < block.
func (a Action) Rank() int {
	switch a {
	case Warn:
		return 1
	case Block:
		return 2
	}
	return 0
}

// Rule names the policy input a reason comes from.
type Rule string

const (
	RuleAdvisory       Rule = "advisory"        // a malware or vulnerability record
	RuleQuarantine     Rule = "quarantine"      // the local quarantine list
	RuleReleaseAge     Rule = "min-release-age" // younger than the cooldown
	RuleAnalysis       Rule = "analysis"        // vigil analyze's verdict
	RuleTrustDowngrade Rule = "trust-downgrade" // provenance/trusted publishing lost within a release line
	RuleInstallScripts Rule = "install-scripts" // lifecycle scripts from a package not on the allowlist
	// RuleAmbiguousManifest: the version object has keys that differ only
	// in case ("Scripts" beside "scripts"), which Vigil's decoding and
	// JavaScript clients read differently. Always blocks.
	RuleAmbiguousManifest Rule = "ambiguous-manifest"
)

// Reason is one input's contribution to a decision.
type Reason struct {
	Rule   Rule   `json:"rule"`
	Action Action `json:"action"`
	// ID identifies the record or entry: "MAL-2025-46974", a quarantine
	// entry's pattern, "VGL-A011".
	ID string `json:"id,omitempty"`
	// Message is one line a person reads, e.g. "malicious code (September
	// 2025 chalk/debug compromise)".
	Message string `json:"message"`
	// Until is when the reason stops applying (a cooldown ends, a
	// quarantine entry expires); zero when open-ended.
	Until time.Time `json:"until,omitzero"`
}

// Decision is the verdict for one version: the strongest action among its
// reasons (Allow when there are none).
type Decision struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Action  Action   `json:"action"`
	Reasons []Reason `json:"reasons,omitempty"`
	// DryRun: the policy is in dry-run mode; Action is what would have
	// happened, and callers log it but serve the version.
	DryRun bool `json:"dry_run,omitempty"`
}

// QuarantineEntry holds back a package, a range of its versions, or a
// whole scope, until removed or expired. Stored by internal/store, edited
// with 'vigil quarantine' and the proxy's admin API.
type QuarantineEntry struct {
	// Package is a name ("debug"), or a scope ("@evil/*").
	Package string `json:"package"`
	// Versions is an npm range; empty means every version.
	Versions string    `json:"versions,omitempty"`
	Reason   string    `json:"reason"`
	AddedBy  string    `json:"added_by,omitempty"`
	AddedAt  time.Time `json:"added_at"`
	// Expires is when the entry stops applying; zero means never.
	Expires time.Time `json:"expires,omitzero"`
}

// String is the reason as one line for an npm error or a log: the ID, then
// the message ("MAL-2025-46974 Malicious code in debug (npm)").
func (r Reason) String() string {
	if r.ID == "" {
		return r.Message
	}
	return r.ID + " " + r.Message
}
