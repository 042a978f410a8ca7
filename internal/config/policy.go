package config

import (
	"fmt"
	"path"
	"strings"

	"github.com/vigil-sec/vigil/internal/npm"
)

// Policy is vigil.yaml's policy section: what the proxy (and later scan
// and watch) do with each package version. internal/policy applies it.
type Policy struct {
	// DryRun decides and logs but serves everything.
	DryRun         bool                 `yaml:"dry_run"`
	Advisories     AdvisoryPolicy       `yaml:"advisories"`
	MinReleaseAge  ReleaseAgePolicy     `yaml:"min_release_age"`
	Analysis       AnalysisPolicy       `yaml:"analysis"`
	TrustDowngrade ActionPolicy         `yaml:"trust_downgrade"`
	InstallScripts InstallScriptsPolicy `yaml:"install_scripts"`
}

// AdvisoryPolicy acts on OSV records matching a version.
type AdvisoryPolicy struct {
	// Malware is the action for MAL-/malware records; default "block";
	// cannot be "allow".
	Malware string `yaml:"malware"`
	// Action is the action for vulnerabilities at or above MinSeverity;
	// default "warn".
	Action string `yaml:"action"`
	// MinSeverity is low, medium, high or critical; default "high". A
	// vulnerability of unknown severity counts as medium.
	MinSeverity string `yaml:"min_severity"`
}

// ReleaseAgePolicy is the cooldown: versions younger than Duration are
// held back, as most malicious releases are found within days.
type ReleaseAgePolicy struct {
	// Duration is e.g. "72h" or "3d"; zero (the default) disables the rule.
	Duration Duration `yaml:"duration"`
	// Action is the action for a version still in its cooldown; default
	// "block".
	Action string `yaml:"action"`
	// Exclude lists names or globs exempt from the cooldown: "typescript",
	// "@myorg/*", "@types/*".
	Exclude []string `yaml:"exclude"`
	// AllowFixes lets a young version through when it fixes an advisory of
	// an earlier version and its analysis is known and clean.
	AllowFixes bool `yaml:"allow_fixes"`
}

// AnalysisPolicy acts on vigil analyze's verdicts.
type AnalysisPolicy struct {
	// OnFirstRequest: analyse unseen versions when first requested.
	OnFirstRequest bool `yaml:"on_first_request"`
	// PreAnalyseTags: when a packument is evaluated, the versions its
	// dist-tags point to are analysed in the background before anyone asks
	// for their tarballs, so a fresh malicious `latest` is filtered out of
	// the metadata (and ^x.y.z resolves to the version before it) instead
	// of failing the install with a 403. Needs OnFirstRequest.
	PreAnalyseTags bool `yaml:"pre_analyse_tags"`
	// Malicious is the action for a malicious verdict; default "block".
	Malicious string `yaml:"malicious"`
	// Suspicious is the action for a suspicious verdict; default "warn".
	Suspicious string `yaml:"suspicious"`
}

// ActionPolicy is a rule with only an action.
type ActionPolicy struct {
	// Action is allow, warn or block; trust_downgrade defaults to "warn".
	Action string `yaml:"action"`
}

// InstallScriptsPolicy acts on versions whose install runs lifecycle
// scripts.
type InstallScriptsPolicy struct {
	// Action applies to packages with install scripts that are not on
	// Allow; default "allow" (the rule is off).
	Action string `yaml:"action"`
	// Allow lists names or globs permitted to run install scripts.
	Allow []string `yaml:"allow"`
}

// Action names as written in vigil.yaml (internal/policy's Action values).
const (
	ActionAllow = "allow"
	ActionWarn  = "warn"
	ActionBlock = "block"
)

// severities for advisories.min_severity, lowest first.
var severities = []string{"low", "medium", "high", "critical"}

// DefaultPolicy is the policy when vigil.yaml says nothing: malware
// blocked, high and critical vulnerabilities warned about, trust
// downgrades warned about, analysis verdicts acted on; no cooldown and no
// install-script rule until configured.
func DefaultPolicy() Policy {
	var p Policy
	p.ApplyDefaults()
	return p
}

// ApplyDefaults fills the settings left empty with their defaults, for a
// Policy built in code rather than read from vigil.yaml (Parse applies
// them itself).
func (p *Policy) ApplyDefaults() {
	setDefault(&p.Advisories.Malware, ActionBlock)
	setDefault(&p.Advisories.Action, ActionWarn)
	setDefault(&p.Advisories.MinSeverity, "high")
	setDefault(&p.MinReleaseAge.Action, ActionBlock)
	setDefault(&p.Analysis.Malicious, ActionBlock)
	setDefault(&p.Analysis.Suspicious, ActionWarn)
	setDefault(&p.TrustDowngrade.Action, ActionWarn)
	setDefault(&p.InstallScripts.Action, ActionAllow)
}

func setDefault(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

// Validate checks a policy whose defaults were applied, for one built in
// code; errors are *ParseError without a position.
func (p *Policy) Validate() error {
	return p.validate(&locator{})
}

// validate checks a policy whose defaults were applied.
func (p *Policy) validate(l *locator) error {
	if p.Advisories.Malware == ActionAllow {
		return l.errorf("policy.advisories.malware", "%q is not allowed: a version with a malware record is at least warned about (use warn to only report it)", ActionAllow)
	}
	actions := []struct {
		field, value string
	}{
		{"policy.advisories.malware", p.Advisories.Malware},
		{"policy.advisories.action", p.Advisories.Action},
		{"policy.min_release_age.action", p.MinReleaseAge.Action},
		{"policy.analysis.malicious", p.Analysis.Malicious},
		{"policy.analysis.suspicious", p.Analysis.Suspicious},
		{"policy.trust_downgrade.action", p.TrustDowngrade.Action},
		{"policy.install_scripts.action", p.InstallScripts.Action},
	}
	for _, a := range actions {
		if !validAction(a.value) {
			return l.errorf(a.field, "%q is not an action: use allow, warn or block", a.value)
		}
	}
	if p.Analysis.PreAnalyseTags && !p.Analysis.OnFirstRequest {
		return l.errorf("policy.analysis.pre_analyse_tags", "needs policy.analysis.on_first_request: true (pre-analysis uses the first-request analyser and its verdicts)")
	}
	if !validSeverity(p.Advisories.MinSeverity) {
		return l.errorf("policy.advisories.min_severity", "%q is not a severity: use low, medium, high or critical", p.Advisories.MinSeverity)
	}
	if err := validatePatterns(l, "policy.min_release_age.exclude", p.MinReleaseAge.Exclude); err != nil {
		return err
	}
	return validatePatterns(l, "policy.install_scripts.allow", p.InstallScripts.Allow)
}

func validAction(s string) bool {
	return s == ActionAllow || s == ActionWarn || s == ActionBlock
}

func validSeverity(s string) bool {
	for _, v := range severities {
		if s == v {
			return true
		}
	}
	return false
}

func validatePatterns(l *locator, field string, patterns []string) error {
	for i, p := range patterns {
		if err := ValidateNamePattern(p); err != nil {
			return l.errorf(fmt.Sprintf("%s[%d]", field, i), "%v", err)
		}
	}
	return nil
}

// ValidateNamePattern checks a package name or name glob as the policy's
// exclude and allow lists take them. Globs have path.Match semantics on the
// whole name, so "*" does not cross the "/" of a scoped name: "@myorg/*"
// is every package of the scope, "@types/*" every type package, and
// "eslint-plugin-*" every unscoped plugin.
func ValidateNamePattern(p string) error {
	if strings.TrimSpace(p) == "" {
		return fmt.Errorf("empty package name or pattern")
	}
	if !strings.ContainsAny(p, `*?[\`) {
		return npm.ValidateName(p)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("pattern %q: %v (patterns use path.Match syntax: *, ?, [a-z])", p, err)
	}
	if p != strings.TrimSpace(p) || strings.ContainsAny(p, " \t") {
		return fmt.Errorf("pattern %q contains spaces, which no package name has", p)
	}
	return nil
}
