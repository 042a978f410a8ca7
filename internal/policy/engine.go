package policy

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-sec/vigil/internal/advisory"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/registry"
)

// Inputs are what a decision reads besides the packument. The engine only
// reads them: whoever builds it fetches advisories, the quarantine list and
// verdicts, and builds a new Engine when they change.
type Inputs struct {
	// Advisories matches OSV records; nil means no advisory data.
	Advisories advisory.Matcher
	// Quarantine is the store's list plus BlocklistEntries(vigil.yaml).
	// Expired entries are ignored.
	Quarantine []QuarantineEntry
	// Verdicts answers with vigil analyze's verdicts; nil means none.
	Verdicts VerdictSource
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Engine decides, from a config.Policy and its Inputs, what happens to each
// version of a package. It is safe for concurrent use and does no I/O
// beyond what its Inputs do when asked (advisory lookups).
type Engine struct {
	cfg        config.Policy
	advisories advisory.Matcher
	verdicts   VerdictSource
	now        func() time.Time
	quarantine quarantineSet

	// The configured actions, by rule.
	malware, vulnerable, young, malicious, suspicious, downgrade, scripts Action
	minSeverity                                                           int
	minAge                                                                time.Duration
	ageExempt, scriptsAllowed                                             namePatterns
}

// New builds an Engine. Settings left empty in cfg take their defaults
// (config.Policy.ApplyDefaults); an invalid setting or quarantine entry is
// an error.
func New(cfg config.Policy, in Inputs) (*Engine, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	e := &Engine{
		cfg:         cfg,
		advisories:  in.Advisories,
		verdicts:    in.Verdicts,
		now:         in.Now,
		malware:     Action(cfg.Advisories.Malware),
		vulnerable:  Action(cfg.Advisories.Action),
		young:       Action(cfg.MinReleaseAge.Action),
		malicious:   Action(cfg.Analysis.Malicious),
		suspicious:  Action(cfg.Analysis.Suspicious),
		downgrade:   Action(cfg.TrustDowngrade.Action),
		scripts:     Action(cfg.InstallScripts.Action),
		minSeverity: severityRank(advisory.Severity(cfg.Advisories.MinSeverity)),
		minAge:      cfg.MinReleaseAge.Duration.Std(),
	}
	if e.now == nil {
		e.now = time.Now
	}
	var err error
	if e.ageExempt, err = compileNames("min_release_age.exclude", cfg.MinReleaseAge.Exclude); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if e.scriptsAllowed, err = compileNames("install_scripts.allow", cfg.InstallScripts.Allow); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if e.quarantine, err = compileQuarantine(in.Quarantine); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return e, nil
}

// Config returns the policy the engine applies, defaults filled in.
func (e *Engine) Config() config.Policy { return e.cfg }

// Decide decides one version of the package pk describes. The version need
// not be listed in pk.Versions (an unpublished version's tarball can still
// be requested): advisories, quarantine and release age still apply; the
// rules that read the version's manifest (trust, install scripts) do not.
//
// Reasons are ordered strongest action first, so Reasons[0] explains
// Action.
func (e *Engine) Decide(pk *registry.Packument, version string) Decision {
	return e.newView(pk).decide(version, nil)
}

// DecideAll decides every listed version of pk. validUntil is the earliest
// moment a decision can change with time alone: a cooldown ends, a
// quarantine entry expires, a fix stops being exempt. It is the zero time
// when no decision depends on the clock, and equal to the engine's now
// when an advisory lookup failed (nothing should be cached). Decisions
// also change when the Inputs do (new advisories, quarantine edits,
// verdicts); callers rebuild the Engine and recompute then.
func (e *Engine) DecideAll(pk *registry.Packument) (decisions map[string]Decision, validUntil time.Time) {
	v, decisions := e.decideAll(pk)
	return decisions, v.next
}

func (e *Engine) decideAll(pk *registry.Packument) (*view, map[string]Decision) {
	v := e.newView(pk)
	v.x = indexVersions(pk)
	if e.downgrade != Allow {
		highestEarlierTrust(v.x, pk.Abbreviated)
	}
	decisions := make(map[string]Decision, len(v.x.all))
	for _, l := range v.x.all {
		decisions[l.s] = v.decide(l.s, l)
	}
	return v, decisions
}

// view is one packument being decided at one moment: what is computed once
// per package (name rules, active quarantine entries) and memoised
// advisory lookups.
type view struct {
	e    *Engine
	pk   *registry.Packument
	name string
	now  time.Time

	ageExempt      string // the exclude pattern covering the name
	scriptsAllowed string // the allow pattern covering the name
	quarantine     []*quarantineRule

	matches map[string]matchResult

	// Set by DecideAll.
	x *versionIndex

	// byTime memoises allHaveTimes for Decide.
	byTime, byTimeKnown bool

	// next is the earliest time-based change seen (see DecideAll).
	next time.Time
}

type matchResult struct {
	ms  []advisory.Match
	err error
}

func (e *Engine) newView(pk *registry.Packument) *view {
	v := &view{e: e, pk: pk, name: pk.Name, now: e.now()}
	v.ageExempt = e.ageExempt.match(v.name)
	v.scriptsAllowed = e.scriptsAllowed.match(v.name)
	v.quarantine = e.quarantine.active(v.name, v.now)
	return v
}

// changesAt records a moment at which a decision changes.
func (v *view) changesAt(t time.Time) {
	if !t.Before(v.now) && (v.next.IsZero() || t.Before(v.next)) {
		v.next = t
	}
}

func (v *view) match(version string) ([]advisory.Match, error) {
	if v.e.advisories == nil {
		return nil, nil
	}
	if r, ok := v.matches[version]; ok {
		return r.ms, r.err
	}
	ms, err := v.e.advisories.Match(v.name, version)
	if v.matches == nil {
		v.matches = map[string]matchResult{}
	}
	v.matches[version] = matchResult{ms, err}
	return ms, err
}

func (v *view) decide(version string, l *listed) Decision {
	var rs []Reason
	rs = v.advisoryReasons(version, rs)
	rs = v.quarantineReasons(version, l, rs)
	rs = v.releaseAgeReasons(version, l, rs)
	rs = v.analysisReasons(version, rs)
	var m *registry.Manifest
	if l != nil {
		m = l.m
	} else {
		m = v.pk.Versions[version]
	}
	if m != nil {
		rs = ambiguousManifestReasons(m, rs)
		rs = v.trustReasons(version, m, l, rs)
		rs = v.installScriptReasons(m, rs)
	}
	slices.SortStableFunc(rs, func(a, b Reason) int { return cmp.Compare(b.Action.Rank(), a.Action.Rank()) })
	d := Decision{Name: v.name, Version: version, Action: Allow, Reasons: rs, DryRun: v.e.cfg.DryRun}
	if len(rs) > 0 {
		d.Action = rs[0].Action
	}
	return d
}

func (v *view) quarantineReasons(version string, l *listed, rs []Reason) []Reason {
	var parsed *npm.Version
	if l != nil && l.semver {
		parsed = &l.v
	}
	for _, q := range v.quarantine {
		if q.covers(version, parsed) {
			rs = append(rs, q.reason())
			if !q.entry.Expires.IsZero() {
				v.changesAt(q.entry.Expires)
			}
		}
	}
	return rs
}

func (v *view) analysisReasons(version string, rs []Reason) []Reason {
	if v.e.verdicts == nil {
		return rs
	}
	vd, ok := v.e.verdicts.Verdict(v.name, version)
	if !ok {
		return rs
	}
	var act Action
	switch vd.Level {
	case VerdictMalicious:
		act = v.e.malicious
	case VerdictSuspicious:
		act = v.e.suspicious
	default:
		return rs
	}
	if act == Allow {
		return rs
	}
	msg := fmt.Sprintf("vigil analyze found it %s (score %d)", vd.Level, vd.Score)
	if vd.Summary != "" {
		msg += ": " + vd.Summary
	}
	return append(rs, Reason{Rule: RuleAnalysis, Action: act, Message: msg})
}
