package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/advisory"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/registry"
)

// wantReason is a reason a decision must carry: rule, action and ID
// exactly, the message by a substring.
type wantReason struct {
	rule   Rule
	action Action
	id     string
	msg    string
	until  time.Time
}

type decideCase struct {
	name    string
	file    string
	version string
	cfg     func(*config.Policy)
	in      Inputs
	mutate  func(*registry.Packument)
	action  Action
	reasons []wantReason
}

func cooldown(d string, f ...func(*config.Policy)) func(*config.Policy) {
	return func(p *config.Policy) {
		var err error
		if p.MinReleaseAge.Duration, err = config.ParseDuration(d); err != nil {
			panic(err)
		}
		for _, g := range f {
			g(p)
		}
	}
}

func verdict(name, version string, level VerdictLevel, score int, summary string) Verdicts {
	return Verdicts{npm.PackageVersion{Name: name, Version: version}: {Level: level, Score: score, Summary: summary}}
}

func withAdvisories(in Inputs) Inputs { in.Advisories = testAdvisories; return in }

const tagsName = "@vigil-test/tags"

func advisoryCases() []decideCase {
	adv := Inputs{Advisories: testAdvisories}
	return []decideCase{
		{name: "malware blocks", file: debugFile, version: "4.4.2", in: adv, action: Block,
			reasons: []wantReason{{RuleAdvisory, Block, "MAL-2025-46974", "Malicious code in debug (npm)", time.Time{}}}},
		{name: "the last good release is allowed", file: debugFile, version: "4.4.1", in: adv, action: Allow},
		{name: "malware set to warn", file: debugFile, version: "4.4.2", in: adv, action: Warn,
			cfg:     func(p *config.Policy) { p.Advisories.Malware = "warn" },
			reasons: []wantReason{{RuleAdvisory, Warn, "MAL-2025-46974", "Malicious code", time.Time{}}}},
		{name: "no advisory data", file: debugFile, version: "4.4.2", action: Allow},
		{name: "high vulnerability warns by default", file: tagsFile, version: "1.0.0", in: adv, action: Warn,
			reasons: []wantReason{{RuleAdvisory, Warn, "VGLTEST-2026-0001", "Prototype pollution in tags.merge (high severity)", time.Time{}}}},
		{name: "vulnerability action block", file: tagsFile, version: "1.1.0", in: adv, action: Block,
			cfg:     func(p *config.Policy) { p.Advisories.Action = "block" },
			reasons: []wantReason{{RuleAdvisory, Block, "VGLTEST-2026-0001", "Prototype pollution", time.Time{}}}},
		{name: "low vulnerability below the default min_severity", file: tagsFile, version: "2.0.0", in: adv, action: Allow},
		{name: "min_severity low", file: tagsFile, version: "2.0.0", in: adv, action: Warn,
			cfg:     func(p *config.Policy) { p.Advisories.MinSeverity = "low" },
			reasons: []wantReason{{RuleAdvisory, Warn, "VGLTEST-2026-0002", "Slow regular expression in tags.parse (low severity)", time.Time{}}}},
		{name: "unknown severity counts as medium", file: tagsFile, version: "0.9.0", in: adv, action: Warn,
			cfg:     func(p *config.Policy) { p.Advisories.MinSeverity = "medium" },
			reasons: []wantReason{{RuleAdvisory, Warn, "VGLTEST-2026-0003", "(unknown severity)", time.Time{}}}},
		{name: "unknown severity is below high", file: tagsFile, version: "0.9.0", in: adv, action: Allow},
		{name: "withdrawn record ignored", file: tagsFile, version: "2.1.0", in: adv, action: Allow,
			cfg: func(p *config.Policy) { p.Advisories.MinSeverity = "low" }},
		{name: "vulnerability action allow", file: tagsFile, version: "1.0.0", in: adv, action: Allow,
			cfg: func(p *config.Policy) { p.Advisories.Action = "allow"; p.Advisories.MinSeverity = "low" }},
		{name: "unreadable advisory data fails closed", file: debugFile, version: "4.4.1", in: Inputs{Advisories: failingMatcher{}}, action: Block,
			reasons: []wantReason{{RuleAdvisory, Block, "", "advisory data could not be read, so malware records cannot be ruled out: advisory database is closed", time.Time{}}}},
	}
}

func quarantineCases() []decideCase {
	q := func(entries ...QuarantineEntry) Inputs { return Inputs{Quarantine: entries} }
	in24h := testNow.Add(24 * time.Hour)
	return []decideCase{
		{name: "whole package", file: debugFile, version: "4.3.7", action: Block,
			in:      q(QuarantineEntry{Package: "debug", Reason: "maintainer account compromised", AddedBy: "alice"}),
			reasons: []wantReason{{RuleQuarantine, Block, "debug", "quarantined: maintainer account compromised (by alice)", time.Time{}}}},
		{name: "range leaves lower versions", file: debugFile, version: "4.4.1", action: Allow,
			in: q(QuarantineEntry{Package: "debug", Versions: ">=4.4.2", Reason: "r"})},
		{name: "range with advisory: both reasons", file: debugFile, version: "4.4.2", action: Block,
			in: withAdvisories(q(QuarantineEntry{Package: "debug", Versions: ">=4.4.2", Reason: "chalk/debug compromise"})),
			reasons: []wantReason{
				{RuleAdvisory, Block, "MAL-2025-46974", "Malicious code", time.Time{}},
				{RuleQuarantine, Block, "debug@>=4.4.2", "quarantined: chalk/debug compromise", time.Time{}},
			}},
		{name: "range holds prereleases too", file: debugFile, version: "4.4.3-0", action: Block,
			in:      q(QuarantineEntry{Package: "debug", Versions: ">=4.4.2", Reason: "r"}),
			reasons: []wantReason{{RuleQuarantine, Block, "debug@>=4.4.2", "quarantined: r", time.Time{}}}},
		{name: "scope", file: tagsFile, version: "1.0.0", action: Block,
			in:      q(QuarantineEntry{Package: "@vigil-test/*", Reason: "typosquatting scope"}),
			reasons: []wantReason{{RuleQuarantine, Block, "@vigil-test/*", "typosquatting scope", time.Time{}}}},
		{name: "another scope", file: tagsFile, version: "1.0.0", action: Allow,
			in: q(QuarantineEntry{Package: "@vigil-test-other/*", Reason: "r"})},
		{name: "another package", file: debugFile, version: "4.4.1", action: Allow,
			in: q(QuarantineEntry{Package: "debug-js", Reason: "r"})},
		{name: "expired entry ignored", file: debugFile, version: "4.4.1", action: Allow,
			in: q(QuarantineEntry{Package: "debug", Reason: "r", Expires: testNow})},
		{name: "expiring entry names its end", file: debugFile, version: "4.4.1", action: Block,
			in:      q(QuarantineEntry{Package: "debug", Reason: "r", AddedBy: "bob", Expires: in24h}),
			reasons: []wantReason{{RuleQuarantine, Block, "debug", "quarantined: r (by bob, until 2026-03-11T12:00:00Z)", in24h}}},
	}
}

func releaseAgeCases() []decideCase {
	clean := func(v string) Verdicts { return verdict(tagsName, v, VerdictClean, 0, "") }
	fixes := func(f ...func(*config.Policy)) func(*config.Policy) {
		return cooldown("3d", append(f, func(p *config.Policy) { p.MinReleaseAge.AllowFixes = true })...)
	}
	// A follow-up release 1.2.0 published after the 1.1.1 fix.
	followUp := func(fixTime string) func(*registry.Packument) {
		return func(pk *registry.Packument) {
			m := *pk.Versions["1.1.1"]
			m.Version = "1.2.0"
			pk.Versions["1.2.0"] = &m
			pk.Time["1.2.0"] = testNow.Add(-time.Hour)
			pk.Time["1.1.1"], _ = time.Parse(time.RFC3339, fixTime)
		}
	}
	return []decideCase{
		{name: "young version held", file: tagsFile, version: "2.1.0", cfg: cooldown("3d"), action: Block,
			reasons: []wantReason{{RuleReleaseAge, Block, "",
				"published 48h0m ago (2026-03-08T12:00:00Z), within the 3d cooldown; allowed from 2026-03-11T12:00:00Z",
				time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)}}},
		{name: "old enough", file: tagsFile, version: "2.0.0", cfg: cooldown("3d"), action: Allow},
		{name: "exactly at the end of the cooldown", file: tagsFile, version: "2.1.0", cfg: cooldown("48h"), action: Allow},
		{name: "cooldown action warn", file: tagsFile, version: "3.0.0-rc.1", cfg: cooldown("72h", func(p *config.Policy) { p.MinReleaseAge.Action = "warn" }), action: Warn,
			reasons: []wantReason{{RuleReleaseAge, Warn, "", "published 6h0m ago", time.Date(2026, 3, 13, 6, 0, 0, 0, time.UTC)}}},
		{name: "excluded by name", file: tagsFile, version: "2.1.0", action: Allow,
			cfg: cooldown("3d", func(p *config.Policy) { p.MinReleaseAge.Exclude = []string{"typescript", tagsName} })},
		{name: "excluded by scope glob", file: tagsFile, version: "2.1.0", action: Allow,
			cfg: cooldown("3d", func(p *config.Policy) { p.MinReleaseAge.Exclude = []string{"@vigil-test/*"} })},
		{name: "glob of another scope", file: tagsFile, version: "2.1.0", action: Block,
			cfg:     cooldown("3d", func(p *config.Policy) { p.MinReleaseAge.Exclude = []string{"@types/*", "vigil-test*"} }),
			reasons: []wantReason{{RuleReleaseAge, Block, "", "within the 3d cooldown", time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)}}},
		{name: "unknown publish time is held", file: tagsFile, version: "2.0.0", cfg: cooldown("3d"), action: Block,
			mutate:  func(pk *registry.Packument) { delete(pk.Time, "2.0.0") },
			reasons: []wantReason{{RuleReleaseAge, Block, "", "publish time unknown, so it cannot be shown to be older than the 3d cooldown", time.Time{}}}},
		{name: "unlisted version without time is held", file: debugFile, version: "4.4.9", cfg: cooldown("1d"), action: Block,
			reasons: []wantReason{{RuleReleaseAge, Block, "", "publish time unknown", time.Time{}}}},
		{name: "publish time in the future", file: tagsFile, version: "2.0.0", cfg: cooldown("3d"), action: Block,
			mutate:  func(pk *registry.Packument) { pk.Time["2.0.0"] = testNow.Add(time.Hour) },
			reasons: []wantReason{{RuleReleaseAge, Block, "", "published 0m ago", testNow.Add(73 * time.Hour)}}},
		{name: "cooldown off by default", file: tagsFile, version: "3.0.0-rc.1", action: Allow},
		{name: "fix with a clean verdict is exempt", file: tagsFile, version: "1.1.1", cfg: fixes(), action: Allow,
			in: withAdvisories(Inputs{Verdicts: clean("1.1.1")}),
			reasons: []wantReason{{RuleReleaseAge, Allow, "",
				"exempt from the 3d cooldown (allow_fixes): fixes VGLTEST-2026-0001, which affects @vigil-test/tags@1.1.0; analysis clean",
				time.Date(2026, 3, 12, 12, 0, 0, 0, time.UTC)}}},
		{name: "fix without a verdict is held", file: tagsFile, version: "1.1.1", cfg: fixes(), action: Block,
			in:      withAdvisories(Inputs{}),
			reasons: []wantReason{{RuleReleaseAge, Block, "", "within the 3d cooldown", time.Date(2026, 3, 12, 12, 0, 0, 0, time.UTC)}}},
		{name: "fix with a suspicious verdict is held", file: tagsFile, version: "1.1.1", cfg: fixes(), action: Block,
			in: withAdvisories(Inputs{Verdicts: verdict(tagsName, "1.1.1", VerdictSuspicious, 14, "VGL-A020 obfuscated code")}),
			reasons: []wantReason{
				{RuleReleaseAge, Block, "", "within the 3d cooldown", time.Date(2026, 3, 12, 12, 0, 0, 0, time.UTC)},
				{RuleAnalysis, Warn, "", "vigil analyze found it suspicious (score 14): VGL-A020 obfuscated code", time.Time{}},
			}},
		{name: "fix exemption needs allow_fixes", file: tagsFile, version: "1.1.1", cfg: cooldown("3d"), action: Block,
			in:      withAdvisories(Inputs{Verdicts: clean("1.1.1")}),
			reasons: []wantReason{{RuleReleaseAge, Block, "", "within the 3d cooldown", time.Date(2026, 3, 12, 12, 0, 0, 0, time.UTC)}}},
		{name: "fix of a low advisory is exempt too", file: tagsFile, version: "2.1.0", cfg: fixes(), action: Allow,
			in:      withAdvisories(Inputs{Verdicts: clean("2.1.0")}),
			reasons: []wantReason{{RuleReleaseAge, Allow, "", "fixes VGLTEST-2026-0002, which affects @vigil-test/tags@2.0.0", time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)}}},
		{name: "a fix in another line does not count", file: tagsFile, version: "3.0.0-rc.1", cfg: fixes(), action: Block,
			in:      withAdvisories(Inputs{Verdicts: clean("3.0.0-rc.1")}),
			reasons: []wantReason{{RuleReleaseAge, Block, "", "published 6h0m ago", time.Date(2026, 3, 13, 6, 0, 0, 0, time.UTC)}}},
		{name: "follow-up of a young fix is exempt", file: tagsFile, version: "1.2.0", cfg: fixes(), action: Allow,
			mutate:  followUp("2026-03-09T12:00:00Z"),
			in:      withAdvisories(Inputs{Verdicts: clean("1.2.0")}),
			reasons: []wantReason{{RuleReleaseAge, Allow, "", "fixes VGLTEST-2026-0001", time.Date(2026, 3, 12, 12, 0, 0, 0, time.UTC)}}},
		{name: "follow-up of an old fix waits", file: tagsFile, version: "1.2.0", cfg: fixes(), action: Block,
			mutate:  followUp("2025-12-01T12:00:00Z"),
			in:      withAdvisories(Inputs{Verdicts: clean("1.2.0")}),
			reasons: []wantReason{{RuleReleaseAge, Block, "", "published 1h0m ago", testNow.Add(71 * time.Hour)}}},
	}
}

func analysisCases() []decideCase {
	const summary = "VGL-A030 spawns a shell from postinstall"
	mal := Inputs{Verdicts: verdict(tagsName, "2.0.0", VerdictMalicious, 57, summary)}
	sus := Inputs{Verdicts: verdict(tagsName, "2.0.0", VerdictSuspicious, 14, "")}
	return []decideCase{
		{name: "malicious verdict blocks", file: tagsFile, version: "2.0.0", in: mal, action: Block,
			reasons: []wantReason{{RuleAnalysis, Block, "", "vigil analyze found it malicious (score 57): " + summary, time.Time{}}}},
		{name: "suspicious verdict warns", file: tagsFile, version: "2.0.0", in: sus, action: Warn,
			reasons: []wantReason{{RuleAnalysis, Warn, "", "vigil analyze found it suspicious (score 14)", time.Time{}}}},
		{name: "clean verdict", file: tagsFile, version: "2.0.0", in: Inputs{Verdicts: verdict(tagsName, "2.0.0", VerdictClean, 0, "")}, action: Allow},
		{name: "no verdict for this version", file: tagsFile, version: "1.0.0", in: mal, action: Allow},
		{name: "malicious set to warn", file: tagsFile, version: "2.0.0", in: mal, action: Warn,
			cfg:     func(p *config.Policy) { p.Analysis.Malicious = "warn" },
			reasons: []wantReason{{RuleAnalysis, Warn, "", "malicious", time.Time{}}}},
		{name: "suspicious set to allow", file: tagsFile, version: "2.0.0", in: sus, action: Allow,
			cfg: func(p *config.Policy) { p.Analysis.Suspicious = "allow" }},
	}
}

func trustCases() []decideCase {
	// 2.0.1 published with provenance from a token instead of trusted
	// publishing: a downgrade only the full document can show.
	provenanceOnly := func(pk *registry.Packument) {
		m := *pk.Versions["2.0.1"]
		if m.NpmUser != nil {
			u := *m.NpmUser
			u.TrustedPublisher = nil
			m.NpmUser = &u
		}
		pk.Versions["2.0.1"] = &m
	}
	block := func(p *config.Policy) { p.TrustDowngrade.Action = "block" }
	return []decideCase{
		{name: "token publish after trusted publishing", file: widgetFile, version: "2.1.0", action: Warn,
			reasons: []wantReason{{RuleTrustDowngrade, Warn, "", "published with no provenance, but 2.0.1, earlier in the 2.x line, was published with trusted publishing", time.Time{}}}},
		{name: "trust downgrade action block", file: widgetFile, version: "2.1.0", cfg: block, action: Block,
			reasons: []wantReason{{RuleTrustDowngrade, Block, "", "published with no provenance", time.Time{}}}},
		{name: "trust downgrade action allow", file: widgetFile, version: "2.1.0", action: Allow,
			cfg: func(p *config.Policy) { p.TrustDowngrade.Action = "allow" }},
		{name: "provenance after a token publish is an upgrade", file: widgetFile, version: "1.1.0", action: Allow},
		{name: "first release of a line", file: widgetFile, version: "1.0.0", action: Allow},
		{name: "backport published after the next line", file: widgetFile, version: "1.1.1", action: Allow},
		{name: "trusted publishing to provenance, full document", file: widgetFile, version: "2.0.1", mutate: provenanceOnly, action: Warn,
			reasons: []wantReason{{RuleTrustDowngrade, Warn, "", "published with provenance, but 2.0.0, earlier in the 2.x line, was published with trusted publishing", time.Time{}}}},
		{name: "trusted publishing to provenance is invisible in an abbreviated document", file: widgetAbbrFile, version: "2.0.1", mutate: provenanceOnly, action: Allow},
		{name: "provenance to none in an abbreviated document", file: widgetAbbrFile, version: "2.1.0", action: Warn,
			reasons: []wantReason{{RuleTrustDowngrade, Warn, "", "published with no provenance, but 2.0.1, earlier in the 2.x line, was published with provenance", time.Time{}}}},
		{name: "a later-published lower version is compared by time", file: widgetFile, version: "2.0.1", action: Warn,
			// 2.0.1 re-dated before every other 2.x release and stripped of
			// attestations: nothing earlier to compare with, by time.
			mutate: func(pk *registry.Packument) {
				m := *pk.Versions["2.0.1"]
				m.NpmUser, m.Dist.Attestations = nil, nil
				pk.Versions["2.0.1"] = &m
			},
			reasons: []wantReason{{RuleTrustDowngrade, Warn, "", "but 2.0.0, earlier", time.Time{}}}},
		{name: "no earlier version by time", file: widgetFile, version: "2.0.1", action: Allow,
			mutate: func(pk *registry.Packument) {
				m := *pk.Versions["2.0.1"]
				m.NpmUser, m.Dist.Attestations = nil, nil
				pk.Versions["2.0.1"] = &m
				pk.Time["2.0.1"] = time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
			}},
	}
}

func installScriptCases() []decideCase {
	block := func(p *config.Policy) { p.InstallScripts.Action = "block" }
	return []decideCase{
		{name: "install scripts blocked", file: widgetFile, version: "2.1.0", cfg: block, action: Block,
			reasons: []wantReason{
				{RuleInstallScripts, Block, "", "runs install scripts (postinstall: node setup.js) and is not in install_scripts.allow", time.Time{}},
				{RuleTrustDowngrade, Warn, "", "no provenance", time.Time{}},
			}},
		{name: "allowed by scope glob", file: widgetFile, version: "2.1.0", action: Warn,
			cfg: func(p *config.Policy) {
				block(p)
				p.InstallScripts.Allow = []string{"esbuild", "@vigil-test/*"}
			},
			reasons: []wantReason{{RuleTrustDowngrade, Warn, "", "no provenance", time.Time{}}}},
		{name: "rule off by default", file: widgetFile, version: "2.1.0", action: Warn,
			reasons: []wantReason{{RuleTrustDowngrade, Warn, "", "no provenance", time.Time{}}}},
		{name: "abbreviated document's flag", file: widgetAbbrFile, version: "2.1.0", action: Warn,
			cfg:     func(p *config.Policy) { p.InstallScripts.Action = "warn"; p.TrustDowngrade.Action = "allow" },
			reasons: []wantReason{{RuleInstallScripts, Warn, "", "runs install scripts (hasInstallScript) and is not in install_scripts.allow", time.Time{}}}},
		{name: "no scripts", file: widgetFile, version: "2.0.1", cfg: block, action: Allow},
	}
}

func TestDecide(t *testing.T) {
	groups := map[string][]decideCase{
		"advisories":      advisoryCases(),
		"quarantine":      quarantineCases(),
		"release age":     releaseAgeCases(),
		"analysis":        analysisCases(),
		"trust downgrade": trustCases(),
		"install scripts": installScriptCases(),
	}
	for group, cases := range groups {
		for _, tt := range cases {
			t.Run(group+"/"+tt.name, func(t *testing.T) {
				pk := loadPackument(t, tt.file)
				if tt.mutate != nil {
					tt.mutate(pk)
				}
				e := newTestEngine(t, tt.cfg, tt.in)
				d := e.Decide(pk, tt.version)
				checkDecision(t, d, pk.Name, tt.version, tt.action, tt.reasons)
				// DecideAll computes trust and fixes another way: it must agree.
				if _, listed := pk.Versions[tt.version]; listed {
					all, _ := e.DecideAll(pk)
					checkDecision(t, all[tt.version], pk.Name, tt.version, tt.action, tt.reasons)
				}
			})
		}
	}
}

func newTestEngine(t testing.TB, cfg func(*config.Policy), in Inputs) *Engine {
	t.Helper()
	p := config.DefaultPolicy()
	if cfg != nil {
		cfg(&p)
	}
	if in.Now == nil {
		in.Now = fixedClock(testNow)
	}
	e, err := New(p, in)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func checkDecision(t *testing.T, d Decision, name, version string, action Action, want []wantReason) {
	t.Helper()
	if d.Name != name || d.Version != version || d.Action != action {
		t.Errorf("decision %s@%s %s, want %s@%s %s; reasons %+v", d.Name, d.Version, d.Action, name, version, action, d.Reasons)
	}
	if len(d.Reasons) != len(want) {
		t.Fatalf("%d reasons, want %d: %+v", len(d.Reasons), len(want), d.Reasons)
	}
	for i, w := range want {
		r := d.Reasons[i]
		if r.Rule != w.rule || r.Action != w.action || r.ID != w.id || !strings.Contains(r.Message, w.msg) || !r.Until.Equal(w.until) {
			t.Errorf("reason %d = %+v\nwant rule %s action %s id %q message containing %q until %v", i, r, w.rule, w.action, w.id, w.msg, w.until)
		}
	}
}

func TestReasonString(t *testing.T) {
	e := newTestEngine(t, nil, Inputs{Advisories: testAdvisories})
	d := e.Decide(loadPackument(t, debugFile), "4.4.2")
	if got, want := d.Reasons[0].String(), "MAL-2025-46974 Malicious code in debug (npm)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (Reason{Message: "published 5h ago"}).String(); got != "published 5h ago" {
		t.Errorf("String() without ID = %q", got)
	}
}

func TestDryRun(t *testing.T) {
	e := newTestEngine(t, func(p *config.Policy) { p.DryRun = true }, Inputs{Advisories: testAdvisories})
	pk := loadPackument(t, debugFile)
	d := e.Decide(pk, "4.4.2")
	if d.Action != Block || !d.DryRun || len(d.Reasons) != 1 {
		t.Errorf("dry run decision %+v: want the block it would be, marked DryRun", d)
	}
	if d := e.Decide(pk, "4.4.1"); d.Action != Allow || !d.DryRun {
		t.Errorf("dry run allow %+v", d)
	}
}

func TestValidUntil(t *testing.T) {
	tags := loadPackument(t, tagsFile)
	tests := []struct {
		name string
		cfg  func(*config.Policy)
		in   Inputs
		want time.Time
	}{
		{"nothing depends on the clock", nil, Inputs{Advisories: testAdvisories}, time.Time{}},
		{"first cooldown to end", cooldown("3d"), Inputs{}, time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)},
		{"cooldown of an excluded package does not count", cooldown("3d", func(p *config.Policy) { p.MinReleaseAge.Exclude = []string{"@vigil-test/*"} }), Inputs{}, time.Time{}},
		{"quarantine expiry", nil, Inputs{Quarantine: []QuarantineEntry{{Package: tagsName, Versions: "^1", Reason: "r", Expires: testNow.Add(time.Hour)}}}, testNow.Add(time.Hour)},
		{"expiry of an entry matching nothing", nil, Inputs{Quarantine: []QuarantineEntry{{Package: tagsName, Versions: "^9", Reason: "r", Expires: testNow.Add(time.Hour)}}}, time.Time{}},
		{"earliest of quarantine and cooldown", cooldown("3d"), Inputs{Quarantine: []QuarantineEntry{{Package: "@vigil-test/*", Reason: "r", Expires: testNow.Add(30 * 24 * time.Hour)}}}, time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)},
		{"unreadable advisory data: do not cache", nil, Inputs{Advisories: failingMatcher{}}, testNow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, until := newTestEngine(t, tt.cfg, tt.in).DecideAll(tags)
			if !until.Equal(tt.want) {
				t.Errorf("validUntil %v, want %v", until, tt.want)
			}
		})
	}
	// The fix exemption ends when the fix itself has aged out.
	pk := loadPackument(t, tagsFile)
	e := newTestEngine(t, cooldown("3d", func(p *config.Policy) {
		p.MinReleaseAge.AllowFixes = true
		p.MinReleaseAge.Exclude = nil
	}), Inputs{Advisories: testAdvisories, Verdicts: verdict(tagsName, "1.1.1", VerdictClean, 0, "")})
	delete(pk.Versions, "2.1.0")
	delete(pk.Versions, "3.0.0-rc.1")
	if _, until := e.DecideAll(pk); !until.Equal(time.Date(2026, 3, 12, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("validUntil with only the exempt fix young: %v", until)
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*config.Policy)
		in   Inputs
		want string
	}{
		{"malware allow", func(p *config.Policy) { p.Advisories.Malware = "allow" }, Inputs{}, "not allowed"},
		{"bad action", func(p *config.Policy) { p.TrustDowngrade.Action = "deny" }, Inputs{}, "not an action"},
		{"bad glob", func(p *config.Policy) { p.MinReleaseAge.Exclude = []string{"@x/["} }, Inputs{}, "syntax error in pattern"},
		{"bad quarantine range", nil, Inputs{Quarantine: []QuarantineEntry{{Package: "debug", Versions: ">>>", Reason: "r"}}}, `quarantine entry 0 (debug): version range ">>>"`},
		{"bad quarantine name", nil, Inputs{Quarantine: []QuarantineEntry{{Package: "Has Space", Reason: "r"}}}, "quarantine entry 0"},
		{"bad quarantine scope", nil, Inputs{Quarantine: []QuarantineEntry{{Package: "evil/*", Reason: "r"}}}, "neither a package name nor @scope/*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := config.DefaultPolicy()
			if tt.cfg != nil {
				tt.cfg(&p)
			}
			if _, err := New(p, tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// An empty Policy (built in code) takes the defaults.
	e, err := New(config.Policy{}, Inputs{})
	if err != nil || e.Config().Advisories.Malware != "block" || e.Config().TrustDowngrade.Action != "warn" {
		t.Errorf("New(Policy{}) = %+v, %v", e.Config(), err)
	}
}

func TestBlocklistEntries(t *testing.T) {
	cfg, err := config.Parse([]byte("blocklist:\n  - package: debug\n    versions: '4.4.2'\n    reason: chalk/debug compromise\n  - package: '@evil/*'\n    reason: typosquats\n"))
	if err != nil {
		t.Fatal(err)
	}
	entries := BlocklistEntries(cfg)
	if len(entries) != 2 || entries[0].AddedBy != "vigil.yaml blocklist" || entries[1].Package != "@evil/*" {
		t.Fatalf("entries %+v", entries)
	}
	e := newTestEngine(t, nil, Inputs{Quarantine: entries})
	pk := loadPackument(t, debugFile)
	checkDecision(t, e.Decide(pk, "4.4.2"), "debug", "4.4.2", Block, []wantReason{
		{RuleQuarantine, Block, "debug@4.4.2", "quarantined: chalk/debug compromise (by vigil.yaml blocklist)", time.Time{}},
	})
	checkDecision(t, e.Decide(pk, "4.4.1"), "debug", "4.4.1", Allow, nil)
	if BlocklistEntries(nil) != nil || BlocklistEntries(config.Default()) != nil {
		t.Error("no blocklist should give no entries")
	}
}

// TestDecideAllMatchesDecide checks the two ways of computing trust
// history and fix exemptions agree on every version, under every rule.
func TestDecideAllMatchesDecide(t *testing.T) {
	cfg := cooldown("3d", func(p *config.Policy) {
		p.MinReleaseAge.AllowFixes = true
		p.Advisories.MinSeverity = "low"
		p.InstallScripts.Action = "warn"
	})
	vs := Verdicts{}
	for _, v := range []string{"1.1.1", "2.1.0", "3.0.0-rc.1", "2.0.1"} {
		vs[npm.PackageVersion{Name: tagsName, Version: v}] = Verdict{Level: VerdictClean}
	}
	vs[npm.PackageVersion{Name: "@vigil-test/widget", Version: "2.0.0"}] = Verdict{Level: VerdictSuspicious, Score: 20}
	e := newTestEngine(t, cfg, Inputs{Advisories: testAdvisories, Verdicts: vs,
		Quarantine: []QuarantineEntry{{Package: "debug", Versions: "<4.4.0", Reason: "r"}}})
	pks := []*registry.Packument{largePackument(t, tagsName, 400, true), largePackument(t, tagsName, 400, false)}
	for _, f := range []string{debugFile, tagsFile, widgetFile, widgetAbbrFile} {
		pks = append(pks, loadPackument(t, f))
	}
	// Without times, "earlier" falls back to semver.
	noTimes := largePackument(t, tagsName, 400, true)
	noTimes.Time = nil
	pks = append(pks, noTimes)
	for _, pk := range pks {
		f := pk.Name
		all, _ := e.DecideAll(pk)
		if len(all) != len(pk.Versions) {
			t.Errorf("%s: %d decisions for %d versions", f, len(all), len(pk.Versions))
		}
		for v := range pk.Versions {
			one := e.Decide(pk, v)
			if !decisionsEqual(one, all[v]) {
				t.Errorf("%s@%s:\nDecide    %+v\nDecideAll %+v", pk.Name, v, one, all[v])
			}
		}
	}
}

func decisionsEqual(a, b Decision) bool {
	if a.Name != b.Name || a.Version != b.Version || a.Action != b.Action || a.DryRun != b.DryRun || len(a.Reasons) != len(b.Reasons) {
		return false
	}
	for i := range a.Reasons {
		if a.Reasons[i] != b.Reasons[i] {
			return false
		}
	}
	return true
}

var _ advisory.Matcher = failingMatcher{}
