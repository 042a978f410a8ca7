// Package hygiene checks how a lockfile says its packages are fetched:
// from where, over what, and with which integrity. These are not
// vulnerabilities, but each is a way for a compromised or spoofed source to
// slip code past review.
package hygiene

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
)

// Rule describes one hygiene check.
type Rule struct {
	ID       string
	Name     string
	Severity string // low, medium, high, critical
	Why      string
}

// The rules, in report order. Ids are stable: configs ignore them by id.
var (
	UnexpectedHost = Rule{"VGL-H001", "unexpected-registry-host", "high",
		"The package resolves to a host that is not one of the configured registries; a lockfile edited to point at another host installs whatever that host serves."}
	InsecureHTTP = Rule{"VGL-H002", "insecure-http", "high",
		"The package is fetched over plain http://, so anyone on the network path can replace it."}
	MissingIntegrity = Rule{"VGL-H003", "missing-integrity", "medium",
		"The lockfile records no integrity hash, so a tampered tarball would install without complaint."}
	WeakIntegrity = Rule{"VGL-H004", "weak-integrity", "low",
		"The only integrity hash is SHA-1, which is broken for collision resistance; npm has recorded SHA-512 since npm 5."}
	GitDependency = Rule{"VGL-H005", "git-dependency", "medium",
		"The package comes from a git repository rather than the registry: no registry integrity, no advisory coverage, and whatever the ref points at is installed (and its prepare script runs)."}
	TarballURL = Rule{"VGL-H006", "tarball-url-dependency", "medium",
		"The package comes from an arbitrary tarball URL rather than the registry: no advisory coverage, and the URL's owner decides what is installed."}
	FileDependency = Rule{"VGL-H007", "file-dependency", "low",
		"The package comes from a local file or folder outside the project's workspaces; it is not covered by advisories."}
	IntegrityConflict = Rule{"VGL-H008", "integrity-conflict", "high",
		"The same name@version is recorded with different integrity hashes; one of them is not what the registry serves."}
)

// Rules lists every hygiene rule.
var Rules = []Rule{UnexpectedHost, InsecureHTTP, MissingIntegrity, WeakIntegrity, GitDependency, TarballURL, FileDependency, IntegrityConflict}

// Issue is one rule firing on one package instance of a graph.
type Issue struct {
	Rule    Rule
	Package int // index into Graph.Packages
	Message string
}

// recordsIntegrity reports whether a format records tarball integrity at
// all; for those that do not, a missing hash says nothing about the project.
func recordsIntegrity(f lockfile.Format) bool {
	switch f {
	case lockfile.FormatYarnBerry, lockfile.FormatNodeModules, lockfile.FormatCycloneDX, lockfile.FormatSPDX:
		return false
	}
	return true
}

// Check runs the per-package rules over one graph. registries are base URLs
// ("https://registry.npmjs.org/"); a package whose resolved URL is on none
// of their hosts is reported.
func Check(g *lockfile.Graph, registries []string) []Issue {
	hosts := make(map[string]bool, len(registries))
	for _, r := range registries {
		if u, err := url.Parse(r); err == nil {
			hosts[strings.ToLower(u.Host)] = true
		}
	}
	integrityRecorded := recordsIntegrity(g.Format)
	var out []Issue
	for i := range g.Packages {
		p := &g.Packages[i]
		add := func(r Rule, format string, args ...any) {
			out = append(out, Issue{Rule: r, Package: i, Message: fmt.Sprintf(format, args...)})
		}
		switch p.Source {
		case lockfile.SourceGit:
			add(GitDependency, "%s is installed from git: %s", p.PackageVersion, p.Resolved)
			continue
		case lockfile.SourceTarball:
			add(TarballURL, "%s is installed from a tarball URL: %s", p.PackageVersion, p.Resolved)
		case lockfile.SourceFile:
			add(FileDependency, "%s is installed from a local path: %s", p.PackageVersion, p.Resolved)
			continue
		case lockfile.SourceWorkspace, lockfile.SourceLink:
			continue
		}
		if u, ok := httpURL(p.Resolved); ok {
			if u.Scheme == "http" {
				add(InsecureHTTP, "%s is fetched over plain http: %s", p.PackageVersion, p.Resolved)
			}
			if p.Source == lockfile.SourceRegistry && !hosts[strings.ToLower(u.Host)] {
				add(UnexpectedHost, "%s resolves to %s, which is not a configured registry", p.PackageVersion, u.Host)
			}
		}
		if !integrityRecorded || p.Bundled {
			// Bundled packages ship inside their parent's tarball, which
			// carries the integrity.
			continue
		}
		if p.Integrity == "" {
			add(MissingIntegrity, "%s has no integrity hash in the lockfile", p.PackageVersion)
			continue
		}
		if in, err := npm.ParseIntegrity(p.Integrity); err == nil && in.Algorithm == "sha1" {
			add(WeakIntegrity, "%s is pinned only by a SHA-1 hash", p.PackageVersion)
		}
	}
	return out
}

func httpURL(s string) (*url.URL, bool) {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return nil, false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, false
	}
	return u, true
}

// Conflict is one name@version recorded with different integrity hashes.
type Conflict struct {
	Package    npm.PackageVersion
	Integrity  []string // the distinct hashes, in first-seen order
	Locations  []lockfile.Location
	Graph      int // index of the first graph holding a conflicting hash
	PackageIdx int // and the package within it
}

// Conflicts finds name@versions whose integrity differs between instances,
// across all graphs of one scan. Hashes are compared by algorithm: a sha1
// and a sha512 of the same tarball do not conflict.
func Conflicts(graphs []*lockfile.Graph) []Conflict {
	type seen struct {
		byAlg map[string]string // algorithm -> SRI string
		c     *Conflict
	}
	state := make(map[npm.PackageVersion]*seen)
	var order []npm.PackageVersion
	for gi, g := range graphs {
		if g == nil {
			continue
		}
		for pi := range g.Packages {
			p := &g.Packages[pi]
			if p.Integrity == "" || p.Source != lockfile.SourceRegistry {
				continue
			}
			in, err := npm.ParseIntegrity(p.Integrity)
			if err != nil {
				continue
			}
			sri := in.String()
			s := state[p.PackageVersion]
			if s == nil {
				s = &seen{byAlg: map[string]string{in.Algorithm: sri}}
				state[p.PackageVersion] = s
				s.c = &Conflict{Package: p.PackageVersion, Integrity: []string{sri}, Locations: []lockfile.Location{p.Location}, Graph: gi, PackageIdx: pi}
				continue
			}
			prev, ok := s.byAlg[in.Algorithm]
			if !ok {
				s.byAlg[in.Algorithm] = sri
				continue
			}
			if prev != sri {
				if len(s.c.Integrity) == 1 {
					order = append(order, p.PackageVersion)
				}
				s.c.Integrity = append(s.c.Integrity, sri)
				s.c.Locations = append(s.c.Locations, p.Location)
			}
		}
	}
	out := make([]Conflict, 0, len(order))
	for _, pv := range order {
		out = append(out, *state[pv].c)
	}
	return out
}
