package policy

import (
	"fmt"
	"strings"
	"time"

	npmversion "github.com/aquasecurity/go-npm-version/pkg"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/npm"
)

// quarantineRule is one QuarantineEntry, compiled.
type quarantineRule struct {
	entry QuarantineEntry
	// id names the entry in reasons: "debug", "debug@>=4.4.2", "@evil/*".
	id string
	// rng is nil for an entry covering every version.
	rng *npmversion.Constraints
	// simple is rng when it is only plain comparators (">=4.4.2",
	// "4.4.2 || >=5.0.1 <5.1.0"): evaluated on versions already parsed,
	// without the library's regular-expression parse of each version,
	// which would dominate deciding a 3,000-version packument.
	simple [][]comparator
}

// quarantineSet finds the entries that apply to a package name.
type quarantineSet struct {
	byName  map[string][]*quarantineRule
	byScope map[string][]*quarantineRule // "@evil" → entries "@evil/*"
}

func compileQuarantine(entries []QuarantineEntry) (quarantineSet, error) {
	qs := quarantineSet{byName: map[string][]*quarantineRule{}, byScope: map[string][]*quarantineRule{}}
	for i, e := range entries {
		r := &quarantineRule{entry: e, id: e.Package}
		if e.Versions != "" {
			r.id += "@" + e.Versions
			// Prereleases included: a quarantine of ">=4.4.2" must also
			// hold back the attacker's 4.4.3-0, which npm's default range
			// semantics would let pass.
			c, err := npmversion.NewConstraints(e.Versions, npmversion.WithPreRelease(true))
			if err != nil {
				return qs, fmt.Errorf("quarantine entry %d (%s): version range %q: %w", i, e.Package, e.Versions, err)
			}
			r.rng = &c
			r.simple, _ = parseSimpleRange(e.Versions)
		}
		if scope, ok := strings.CutSuffix(e.Package, "/*"); ok {
			if !strings.HasPrefix(scope, "@") || npm.ValidateName(scope+"/x") != nil {
				return qs, fmt.Errorf("quarantine entry %d: %q is neither a package name nor @scope/*", i, e.Package)
			}
			qs.byScope[scope] = append(qs.byScope[scope], r)
			continue
		}
		if err := npm.ValidateName(e.Package); err != nil {
			return qs, fmt.Errorf("quarantine entry %d: %w", i, err)
		}
		qs.byName[e.Package] = append(qs.byName[e.Package], r)
	}
	return qs, nil
}

// active returns the entries for name that have not expired at now.
func (qs quarantineSet) active(name string, now time.Time) []*quarantineRule {
	var out []*quarantineRule
	for _, list := range [2][]*quarantineRule{qs.byName[name], qs.byScope[npm.Scope(name)]} {
		for _, r := range list {
			if r.entry.Expires.IsZero() || now.Before(r.entry.Expires) {
				out = append(out, r)
			}
		}
	}
	return out
}

// covers reports whether the entry holds back version; parsed is version
// already parsed, or nil.
func (r *quarantineRule) covers(version string, parsed *npm.Version) bool {
	switch {
	case r.rng == nil:
		return true
	case r.simple != nil:
		if parsed == nil {
			v, err := npm.ParseVersion(version)
			if err != nil {
				return false
			}
			parsed = &v
		}
		return matchSimple(r.simple, *parsed)
	}
	v, err := npmversion.NewVersion(version)
	return err == nil && r.rng.Check(v)
}

// comparator is one "op version" term of a range.
type comparator struct {
	op string // "", "=", "<", "<=", ">", ">="
	v  npm.Version
}

// parseSimpleRange reads a range made only of comparators on full
// versions, sets joined by "||". ok is false for anything else (carets,
// tildes, x-ranges, hyphens, partial versions), which the general library
// evaluates instead.
func parseSimpleRange(s string) (sets [][]comparator, ok bool) {
	for set := range strings.SplitSeq(s, "||") {
		var cs []comparator
		for term := range strings.FieldsSeq(set) {
			op := ""
			for _, o := range []string{">=", "<=", ">", "<", "="} {
				if strings.HasPrefix(term, o) {
					op = o
					break
				}
			}
			rest := term[len(op):]
			if rest == "" || rest[0] < '0' || rest[0] > '9' || strings.ContainsAny(rest, "xX*") {
				return nil, false
			}
			v, err := npm.ParseVersion(rest)
			if err != nil {
				return nil, false
			}
			cs = append(cs, comparator{op, v})
		}
		if len(cs) == 0 {
			return nil, false
		}
		sets = append(sets, cs)
	}
	return sets, len(sets) > 0
}

// matchSimple evaluates sets with prereleases included, where a comparator
// is plain semver precedence.
func matchSimple(sets [][]comparator, v npm.Version) bool {
	for _, set := range sets {
		all := true
		for _, c := range set {
			cmp := v.Compare(c.v)
			var ok bool
			switch c.op {
			case "", "=":
				ok = cmp == 0
			case "<":
				ok = cmp < 0
			case "<=":
				ok = cmp <= 0
			case ">":
				ok = cmp > 0
			case ">=":
				ok = cmp >= 0
			}
			if !ok {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (r *quarantineRule) reason() Reason {
	msg := strings.TrimSpace(r.entry.Reason)
	if msg == "" {
		msg = "no reason recorded"
	}
	var by []string
	if r.entry.AddedBy != "" {
		by = append(by, "by "+r.entry.AddedBy)
	}
	if !r.entry.Expires.IsZero() {
		by = append(by, "until "+r.entry.Expires.UTC().Format(time.RFC3339))
	}
	msg = "quarantined: " + msg
	if len(by) > 0 {
		msg += " (" + strings.Join(by, ", ") + ")"
	}
	return Reason{Rule: RuleQuarantine, Action: Block, ID: r.id, Message: msg, Until: r.entry.Expires}
}

// BlocklistEntries converts vigil.yaml's blocklist into quarantine entries,
// so the proxy enforces it with the entries from the store: hand
// append(storeEntries, BlocklistEntries(cfg)...) to New as
// Inputs.Quarantine. Blocklist entries never expire; their severity (a
// scan-report notion) does not weaken the block.
func BlocklistEntries(cfg *config.Config) []QuarantineEntry {
	if cfg == nil || len(cfg.Blocklist) == 0 {
		return nil
	}
	by := config.FileName + " blocklist"
	if cfg.Path != "" {
		by = cfg.Path + " blocklist"
	}
	out := make([]QuarantineEntry, 0, len(cfg.Blocklist))
	for _, b := range cfg.Blocklist {
		out = append(out, QuarantineEntry{Package: b.Package, Versions: b.Versions, Reason: b.Reason, AddedBy: by})
	}
	return out
}
