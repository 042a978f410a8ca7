package registry

import (
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
)

// Trust is how a version's origin is attested, weakest first. A release
// whose Trust is lower than earlier releases of its line had (a "trust
// downgrade") is how several account takeovers showed: the attacker
// published from a laptop with a stolen token, without the CI's provenance.
type Trust int

const (
	// TrustNone: published with a token; nothing ties it to source.
	TrustNone Trust = iota
	// TrustProvenance: dist.attestations carries a provenance statement
	// (npm publish --provenance from CI, with a token).
	TrustProvenance
	// TrustTrustedPublisher: published by npm trusted publishing (OIDC,
	// no long-lived token), which also records provenance.
	TrustTrustedPublisher
)

func (t Trust) String() string {
	switch t {
	case TrustProvenance:
		return "provenance"
	case TrustTrustedPublisher:
		return "trusted-publisher"
	}
	return "none"
}

// Trust reports how m's origin is attested. Trusted publishing is recorded
// in _npmUser, which abbreviated documents lack: there a trusted publish
// reads as TrustProvenance, so compare trust on full documents.
func (m *Manifest) Trust() Trust {
	switch {
	case m == nil:
		return TrustNone
	case m.NpmUser != nil && m.NpmUser.TrustedPublisher != nil:
		return TrustTrustedPublisher
	case m.HasProvenance():
		return TrustProvenance
	}
	return TrustNone
}

// HasProvenance reports whether the registry holds a provenance attestation
// for m (dist.attestations with a provenance predicate). It says nothing
// about whether the attestation verifies.
func (m *Manifest) HasProvenance() bool {
	return m != nil && m.Dist.Attestations != nil &&
		(m.Dist.Attestations.PredicateType != "" || m.Dist.Attestations.URL != "")
}

// InstallScripts returns the lifecycle scripts npm runs when installing m:
// preinstall, install, postinstall, and the implicit "node-gyp rebuild" of
// a package with a binding.gyp and no install script.
func (m *Manifest) InstallScripts() map[string]string {
	out := map[string]string{}
	for _, k := range []string{"preinstall", "install", "postinstall"} {
		if s, ok := m.Scripts[k]; ok {
			out[k] = s
		}
	}
	if m.Gypfile && out["install"] == "" && out["preinstall"] == "" {
		out["install"] = "node-gyp rebuild"
	}
	return out
}

// HasInstallScripts reports whether installing m runs code: from its
// scripts in a full document, or the hasInstallScript flag of an
// abbreviated one.
func (m *Manifest) HasInstallScripts() bool {
	return m.HasInstallScript || len(m.InstallScripts()) > 0
}

// Manifest returns the listed version v, or nil.
func (p *Packument) Manifest(v string) *Manifest { return p.Versions[v] }

// PublishTime returns when v was published, from the time map. ok is false
// for abbreviated documents and versions the registry has no time for. A
// version that was unpublished usually keeps its time entry.
func (p *Packument) PublishTime(v string) (t time.Time, ok bool) {
	if v == "created" || v == "modified" {
		return time.Time{}, false
	}
	t, ok = p.Time[v]
	return t, ok
}

// HasProvenance reports whether the listed version v has a provenance
// attestation.
func (p *Packument) HasProvenance(v string) bool { return p.Versions[v].HasProvenance() }

// Trust reports how the listed version v's origin is attested.
func (p *Packument) Trust(v string) Trust { return p.Versions[v].Trust() }

// Publisher returns v's _npmUser (nil when v is not listed, or the document
// is abbreviated, or the registry recorded no publisher).
func (p *Packument) Publisher(v string) *Person {
	if m := p.Versions[v]; m != nil {
		return m.NpmUser
	}
	return nil
}

// Resolve turns a dist-tag or an exact version into a version string. ok is
// false when spec is neither a dist-tag nor a listed version.
func (p *Packument) Resolve(spec string) (string, bool) {
	if _, ok := p.Versions[spec]; ok {
		return spec, true
	}
	if v, ok := p.DistTags[spec]; ok {
		return v, true
	}
	return "", false
}

// PreviousVersion returns the release v should be compared with: the one
// its publisher most plausibly built it from. It is "" when there is none.
//
// Candidates are the listed versions published before v (by the time map;
// when either time is unknown, by semver alone) that are not v. Among them
// the first non-empty tier wins, and within it the highest semver:
//
//  1. same major.minor and lower than v (4.4.2 → 4.4.1);
//  2. same major and lower than v (4.4.0 → 4.3.6);
//  3. lower than v (5.0.0 → 4.9.9);
//  4. any candidate (a version lower than everything published before it).
//
// So a backport in an old line (3.10.2, published after 4.17.21) is
// compared with its own line (3.10.1), not with the newest release. When v
// is a release, prereleases are only considered if no release qualifies, so
// 4.4.2 is compared with 4.4.1 rather than with 4.4.2-rc.1 (tier 4 takes
// any candidate). v need not be
// listed (an unpublished version with a time entry works too); versions that
// are not semver are ignored.
func (p *Packument) PreviousVersion(v string) string {
	target, err := npm.ParseVersion(v)
	if err != nil {
		return ""
	}
	at, atKnown := p.PublishTime(v)

	type cand struct {
		s string
		v npm.Version
	}
	var all []cand
	for s := range p.Versions {
		if s == v {
			continue
		}
		cv, err := npm.ParseVersion(s)
		if err != nil || cv.Compare(target) == 0 {
			continue
		}
		if t, ok := p.PublishTime(s); ok && atKnown {
			if !t.Before(at) {
				continue
			}
		} else if cv.Compare(target) > 0 {
			continue // no times to go by: only lower versions can precede
		}
		all = append(all, cand{s, cv})
	}

	tiers := []func(c cand) bool{
		func(c cand) bool {
			return c.v.Major == target.Major && c.v.Minor == target.Minor && c.v.Compare(target) < 0
		},
		func(c cand) bool { return c.v.Major == target.Major && c.v.Compare(target) < 0 },
		func(c cand) bool { return c.v.Compare(target) < 0 },
		func(cand) bool { return true },
	}
	best := func(in func(cand) bool, allowPre bool) string {
		var b *cand
		for i := range all {
			c := &all[i]
			if !in(*c) || (!allowPre && c.v.IsPrerelease()) {
				continue
			}
			if b == nil || c.v.Compare(b.v) > 0 {
				b = c
			}
		}
		if b == nil {
			return ""
		}
		return b.s
	}
	if !target.IsPrerelease() {
		for _, in := range tiers[:3] {
			if s := best(in, false); s != "" {
				return s
			}
		}
	}
	for _, in := range tiers {
		if s := best(in, true); s != "" {
			return s
		}
	}
	return ""
}
