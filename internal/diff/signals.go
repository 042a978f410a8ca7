package diff

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/registry"
)

// SignalKind names a registry signal.
type SignalKind string

const (
	// SignalTrustDowngrade: B lacks the provenance or trusted publishing
	// an earlier release of its line (same major, or same 0.minor) had.
	SignalTrustDowngrade SignalKind = "trust-downgrade"
	// SignalPublisherChanged: B's _npmUser (name, or email of the same
	// account) differs from the previous release's.
	SignalPublisherChanged SignalKind = "publisher-changed"
	// SignalPublishBurst: B followed A within minutes, by another
	// publisher.
	SignalPublishBurst SignalKind = "publish-burst"
	// SignalMaintainerAdded and SignalMaintainerRemoved compare the two
	// versions' maintainer lists.
	SignalMaintainerAdded   SignalKind = "maintainer-added"
	SignalMaintainerRemoved SignalKind = "maintainer-removed"
	// SignalDormantRevival: years passed since the package's previous
	// publication.
	SignalDormantRevival SignalKind = "dormant-revival"
	// SignalBackPublish: B was published long after a higher version,
	// into an older line.
	SignalBackPublish SignalKind = "back-publish"
)

// SignalPoints are what Fold adds for each signal — only when B also
// brings new behaviour (a signal alone is how many legitimate releases
// look). Maintainer changes are context and add nothing.
var SignalPoints = map[SignalKind]int{
	SignalTrustDowngrade:   12,
	SignalPublisherChanged: 6,
	SignalPublishBurst:     4,
	SignalDormantRevival:   4,
	SignalBackPublish:      4,
}

// Signal is one thing the registry's records say about B's publication.
type Signal struct {
	Kind SignalKind `json:"kind"`
	// Message is for a responder; its names and versions are sanitised.
	Message string `json:"message"`
	// Reference is the version B was compared with for this signal.
	Reference string `json:"reference,omitempty"`
	// Points is SignalPoints[Kind].
	Points int `json:"points"`
}

// SignalOptions are the thresholds of the time signals; zero fields take
// the defaults.
type SignalOptions struct {
	// DormantAfter is the quiet period that makes a publication a revival
	// (default 2 years).
	DormantAfter time.Duration
	// BurstWithin is how soon after A a release by another publisher is a
	// burst (default 1 hour).
	BurstWithin time.Duration
	// BackPublishAfter is how long after a higher version a lower one must
	// come to be reported (default 30 days).
	BackPublishAfter time.Duration
}

func (o SignalOptions) withDefaults() SignalOptions {
	if o.DormantAfter <= 0 {
		o.DormantAfter = 2 * 365 * 24 * time.Hour
	}
	if o.BurstWithin <= 0 {
		o.BurstWithin = time.Hour
	}
	if o.BackPublishAfter <= 0 {
		o.BackPublishAfter = 30 * 24 * time.Hour
	}
	return o
}

func newSignal(kind SignalKind, ref, format string, args ...any) Signal {
	return Signal{Kind: kind, Reference: ref, Message: fmt.Sprintf(format, args...), Points: SignalPoints[kind]}
}

// registrySignals reads B's packument. The publisher and maintainers are
// compared with A when the packument lists A, else with B's previous
// release.
func registrySignals(a, b *prepared, opt SignalOptions) []Signal {
	pk := b.Packument
	if pk == nil {
		return []Signal{}
	}
	bv := b.Version
	ref := a.Version
	refM := pk.Manifest(ref)
	if refM == nil && a.Manifest != nil && a.Manifest.Version == ref {
		refM = a.Manifest
	}
	if refM == nil {
		ref = pk.PreviousVersion(bv)
		refM = pk.Manifest(ref)
	}
	bm := b.Manifest

	out := []Signal{}
	if s, ok := trustDowngrade(pk, bv, bm); ok {
		out = append(out, s)
	}
	publisherChanged := false
	if bm != nil && refM != nil && bm.NpmUser != nil && refM.NpmUser != nil {
		bp, ap := bm.NpmUser, refM.NpmUser
		switch {
		case !strings.EqualFold(bp.Name, ap.Name):
			publisherChanged = true
			out = append(out, newSignal(SignalPublisherChanged, ref, "%s was published by %s; %s was published by %s",
				safe(bv), describePublisher(bp), safe(ref), describePublisher(ap)))
		case !strings.EqualFold(bp.Email, ap.Email):
			publisherChanged = true
			out = append(out, newSignal(SignalPublisherChanged, ref,
				"%s was published by the same account %s with another email: %s, where %s had %s (an account takeover often changes the email first)",
				safe(bv), safe(bp.Name), safe(bp.Email), safe(ref), safe(ap.Email)))
		}
	}
	if s, ok := burst(pk, a, b, opt); ok && publisherChanged {
		out = append(out, s)
	}
	if bm != nil && refM != nil {
		out = append(out, maintainerChanges(refM.Maintainers, bm.Maintainers, ref, bv)...)
	}
	if s, ok := dormant(pk, bv, opt); ok {
		out = append(out, s)
	}
	if s, ok := backPublish(pk, bv, opt); ok {
		out = append(out, s)
	}
	return out
}

// trustDowngrade compares B's trust with the most recent earlier release
// of its line that had more (not only with A: provenance may have been
// dropped one release before the attack).
func trustDowngrade(pk *registry.Packument, bv string, bm *registry.Manifest) (Signal, bool) {
	if bm == nil {
		return Signal{}, false
	}
	target, err := npm.ParseVersion(bv)
	if err != nil {
		return Signal{}, false
	}
	bt := bm.Trust()
	var best string
	var bestV npm.Version
	var bestT time.Time
	for v, m := range pk.Versions {
		if v == bv || m.Trust() <= bt {
			continue
		}
		cv, err := npm.ParseVersion(v)
		if err != nil || !sameLine(cv, target) || !publishedBefore(pk, v, cv, bv, target) {
			continue
		}
		t, _ := pk.PublishTime(v)
		if best == "" || laterRelease(t, cv, bestT, bestV) {
			best, bestV, bestT = v, cv, t
		}
	}
	if best == "" {
		return Signal{}, false
	}
	// Releases of the line between best and B that already lacked it say
	// the downgrade is older than B.
	since := 0
	for v, m := range pk.Versions {
		cv, err := npm.ParseVersion(v)
		if v == bv || v == best || err != nil || !sameLine(cv, target) || m.Trust() >= pk.Manifest(best).Trust() {
			continue
		}
		if publishedBefore(pk, v, cv, bv, target) && publishedBefore(pk, best, bestV, v, cv) {
			since++
		}
	}
	msg := fmt.Sprintf("%s was published with %s; %s, the most recent earlier release of the %s line with %s, had it",
		safe(bv), trustWords(bt), safe(best), lineName(target), trustWords(pk.Manifest(best).Trust()))
	if since > 0 {
		msg += fmt.Sprintf(" (%d release(s) of the line published since then lack it too)", since)
	}
	return newSignal(SignalTrustDowngrade, best, "%s", msg), true
}

func trustWords(t registry.Trust) string {
	switch t {
	case registry.TrustTrustedPublisher:
		return "trusted publishing (OIDC from CI)"
	case registry.TrustProvenance:
		return "provenance"
	}
	return "neither provenance nor trusted publishing"
}

// sameLine: same major, or for 0.x the same minor (npm's caret range).
func sameLine(x, y npm.Version) bool {
	if x.Major != y.Major {
		return false
	}
	return x.Major != 0 || x.Minor == y.Minor
}

func lineName(v npm.Version) string {
	if v.Major == 0 {
		return fmt.Sprintf("0.%d.x", v.Minor)
	}
	return fmt.Sprintf("%d.x", v.Major)
}

// publishedBefore orders two versions by the time map, or by semver when
// either time is unknown.
func publishedBefore(pk *registry.Packument, v string, cv npm.Version, w string, cw npm.Version) bool {
	tv, okV := pk.PublishTime(v)
	tw, okW := pk.PublishTime(w)
	if okV && okW {
		return tv.Before(tw)
	}
	return cv.Compare(cw) < 0
}

// laterRelease: is (t, v) more recent than (bt, bv)? By time when both
// are known, else by semver.
func laterRelease(t time.Time, v npm.Version, bt time.Time, bv npm.Version) bool {
	if !t.IsZero() && !bt.IsZero() {
		return t.After(bt)
	}
	return v.Compare(bv) > 0
}

// burst: B followed A closely.
func burst(pk *registry.Packument, a, b *prepared, opt SignalOptions) (Signal, bool) {
	ta, okA := pk.PublishTime(a.Version)
	tb, okB := pk.PublishTime(b.Version)
	if !okA || !okB || a.Version == b.Version {
		return Signal{}, false
	}
	gap := tb.Sub(ta)
	if gap < 0 || gap > opt.BurstWithin {
		return Signal{}, false
	}
	return newSignal(SignalPublishBurst, a.Version, "%s was published %s after %s, by another publisher: a burst of releases is how stolen tokens are used before they are revoked",
		safe(b.Version), span(gap), safe(a.Version)), true
}

// dormant: a long silence before B.
func dormant(pk *registry.Packument, bv string, opt SignalOptions) (Signal, bool) {
	tb, ok := pk.PublishTime(bv)
	if !ok {
		return Signal{}, false
	}
	var prev string
	var tp time.Time
	for v, t := range pk.Time {
		if v == bv || v == "created" || v == "modified" || !t.Before(tb) {
			continue
		}
		if prev == "" || t.After(tp) || (t.Equal(tp) && v > prev) {
			prev, tp = v, t
		}
	}
	if prev == "" || tb.Sub(tp) < opt.DormantAfter {
		return Signal{}, false
	}
	return newSignal(SignalDormantRevival, prev, "%s was published %s after the package's previous release (%s, %s): dormant packages are taken over through expired maintainer domains and reused passwords",
		safe(bv), span(tb.Sub(tp)), safe(prev), day(tp)), true
}

// backPublish: B came long after a higher version was out.
func backPublish(pk *registry.Packument, bv string, opt SignalOptions) (Signal, bool) {
	tb, ok := pk.PublishTime(bv)
	target, err := npm.ParseVersion(bv)
	if !ok || err != nil {
		return Signal{}, false
	}
	var hi string
	var hiV npm.Version
	for v := range pk.Versions {
		cv, err := npm.ParseVersion(v)
		if err != nil || cv.IsPrerelease() || cv.Compare(target) <= 0 {
			continue
		}
		if t, ok := pk.PublishTime(v); !ok || !t.Before(tb) {
			continue
		}
		if hi == "" || cv.Compare(hiV) > 0 {
			hi, hiV = v, cv
		}
	}
	if hi == "" {
		return Signal{}, false
	}
	th, _ := pk.PublishTime(hi)
	if tb.Sub(th) < opt.BackPublishAfter {
		return Signal{}, false
	}
	return newSignal(SignalBackPublish, hi, "%s was published %s after the higher %s (%s), into an older line: backports do this, and so do attackers reaching users pinned to the old line",
		safe(bv), span(tb.Sub(th)), safe(hi), day(th)), true
}

// maintainerChanges compares two maintainer lists by account name.
func maintainerChanges(before, after []registry.Person, ref, bv string) []Signal {
	index := func(ps []registry.Person) map[string]registry.Person {
		m := map[string]registry.Person{}
		for _, p := range ps {
			key := strings.ToLower(p.Name)
			if key == "" {
				key = strings.ToLower(p.Email)
			}
			if key != "" {
				m[key] = p
			}
		}
		return m
	}
	ib, ia := index(before), index(after)
	var out []Signal
	for _, k := range sortedKeys(ia) {
		if _, ok := ib[k]; !ok {
			out = append(out, newSignal(SignalMaintainerAdded, ref, "%s is a maintainer of %s but was not of %s", describePerson(ia[k]), safe(bv), safe(ref)))
		}
	}
	for _, k := range sortedKeys(ib) {
		if _, ok := ia[k]; !ok {
			out = append(out, newSignal(SignalMaintainerRemoved, ref, "%s was a maintainer of %s but is not of %s", describePerson(ib[k]), safe(ref), safe(bv)))
		}
	}
	return out
}

func sortedKeys(m map[string]registry.Person) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func describePublisher(p *registry.Person) string {
	s := describePerson(*p)
	if p.TrustedPublisher != nil {
		s += " (trusted publishing via " + safe(p.TrustedPublisher.ID) + ")"
	}
	return s
}

func describePerson(p registry.Person) string {
	return rules.Sanitize(p.String(), 120)
}

func personString(p *registry.Person) string {
	return describePublisher(p)
}

func safe(s string) string { return rules.Sanitize(s, 80) }

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// span says a duration the way a responder reads it.
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 72*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d < 2*365*24*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return fmt.Sprintf("%.1f years", d.Hours()/24/365.25)
}
