package proxy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/registry"
)

// Decider is the policy the proxy applies to every packument it serves.
// EngineDecider adapts *policy.Engine; tests use their own.
type Decider interface {
	// Evaluate decides every listed version of pk (a full document, so
	// publish times are known) and plans the filtered document.
	Evaluate(pk *registry.Packument) Evaluation
}

// Evaluation is a Decider's answer for one packument.
type Evaluation struct {
	// Decisions has one entry per listed version.
	Decisions map[string]policy.Decision
	// Removed are the versions the served documents leave out. Decisions
	// in dry-run mode are never removed.
	Removed map[string]bool
	// DistTags is where each tag points after filtering; an upstream tag
	// missing here is dropped.
	DistTags map[string]string
	// ValidUntil is when the evaluation must be redone even if nothing
	// else changed (a cooldown ends, a quarantine entry expires); zero
	// means it holds until the policy is reloaded.
	ValidUntil time.Time
}

// policyState is the decider in force and its generation, bumped on every
// reload so that everything derived from the previous one is recomputed.
type policyState struct {
	decider Decider
	gen     uint64
}

// evaluation is a Decider's answer plus what the tarball route needs from
// the document, so that a tarball request does not parse the packument.
type evaluation struct {
	Evaluation
	name  string
	docID string
	gen   uint64
	// epoch is the package's epoch when the evaluation started (epoch.go).
	epoch uint64
	dists map[string]distInfo // by version
	size  int64               // approximate bytes held, for the LRU
}

// distInfo is where a version's tarball is and what its bytes must hash to.
type distInfo struct {
	tarball string // dist.tarball as the upstream wrote it
	// integrity is the strongest hash the document gives (dist.integrity,
	// else dist.shasum as sha1-…); empty when neither parses.
	integrity string
	file      string // the last path segment of tarball
}

func newEvaluation(pk *registry.Packument, ev Evaluation, docID string, gen, epoch uint64) *evaluation {
	e := &evaluation{Evaluation: ev, name: pk.Name, docID: docID, gen: gen, epoch: epoch, dists: make(map[string]distInfo, len(pk.Versions))}
	if e.Decisions == nil {
		e.Decisions = map[string]policy.Decision{}
	}
	if e.Removed == nil {
		e.Removed = map[string]bool{}
	}
	size := int64(256)
	for v, m := range pk.Versions {
		d := distInfo{tarball: m.Dist.Tarball, integrity: strongestIntegrity(m.Dist.Integrity, m.Dist.Shasum)}
		if i := strings.LastIndexByte(d.tarball, '/'); i >= 0 {
			d.file = d.tarball[i+1:]
		}
		e.dists[v] = d
		size += int64(len(v)+len(d.tarball)+len(d.integrity)+len(d.file)) + 160
	}
	for _, d := range e.Decisions {
		for _, r := range d.Reasons {
			size += int64(len(r.Message) + len(r.ID) + 64)
		}
	}
	e.size = size
	return e
}

func strongestIntegrity(integrity, shasum string) string {
	for _, s := range []string{integrity, shasum} {
		if s == "" {
			continue
		}
		if i, err := npm.ParseIntegrity(s); err == nil {
			return i.String()
		}
	}
	return ""
}

// valid reports whether the evaluation still holds at now.
func (e *evaluation) valid(now time.Time) bool {
	return e.ValidUntil.IsZero() || now.Before(e.ValidUntil)
}

// versionForFile finds the version a tarball request names: the
// conventional file name first, else any version whose dist.tarball ends
// in file (registries with other layouts).
func (e *evaluation) versionForFile(version, file string) (string, bool) {
	if _, ok := e.dists[version]; ok && version != "" {
		return version, true
	}
	var hits []string
	for v, d := range e.dists {
		if d.file == file {
			hits = append(hits, v)
		}
	}
	if len(hits) == 1 {
		return hits[0], true
	}
	return "", false
}

// held lists the removed versions with their decisions, newest first.
func (e *evaluation) held() []policy.Decision {
	var out []policy.Decision
	for v := range e.Removed {
		d, ok := e.Decisions[v]
		if !ok {
			d = policy.Decision{Name: e.name, Version: v, Action: policy.Block}
		}
		out = append(out, d)
	}
	sortDecisionsNewestFirst(out)
	return out
}

func sortDecisionsNewestFirst(ds []policy.Decision) {
	slices.SortFunc(ds, func(a, b policy.Decision) int {
		va, ea := npm.ParseVersion(a.Version)
		vb, eb := npm.ParseVersion(b.Version)
		if ea == nil && eb == nil {
			return -va.Compare(vb)
		}
		return strings.Compare(b.Version, a.Version)
	})
}

// summary is one line for a person: "MAL-2025-46974 malicious code (…)",
// the reasons of the decision's action joined with "; ".
func summary(d policy.Decision) string {
	var parts []string
	for _, r := range d.Reasons {
		if r.Action != d.Action {
			continue
		}
		msg := r.Message
		if r.ID != "" && !strings.HasPrefix(msg, r.ID) {
			msg = r.ID + " " + msg
		}
		if until := r.Until.UTC().Format(time.RFC3339); !r.Until.IsZero() && !strings.Contains(msg, until) {
			msg += " (until " + until + ")"
		}
		parts = append(parts, msg)
	}
	if len(parts) == 0 {
		return string(d.Action) + " by policy"
	}
	return strings.Join(parts, "; ")
}

// heldNotice is the npm-notice line for a packument with held-back
// versions: npm prints it, so a version missing from a resolution is never
// a silent mystery (a pinned blocked version fails with npm's "No matching
// version" right after this line). At most three versions are named.
func heldNotice(name string, held []policy.Decision) string {
	if len(held) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "vigil held back %d version(s) of %s: ", len(held), name)
	for i, d := range held {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(held)-3)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s)", d.Version, summary(d))
	}
	return headerSafe(b.String(), 1024)
}

// headerSafe makes s a valid header value of at most max bytes.
func headerSafe(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		cut := max - 3
		for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}
