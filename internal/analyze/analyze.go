// Package analyze decides whether a package version is malicious from its
// contents alone: facts are extracted once per package (package facts),
// pure rules turn them into findings (package rules), and an explainable
// score turns findings into a verdict (score.go). Nothing is executed,
// required or installed.
package analyze

import (
	"context"
	"fmt"
	"sort"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

// File is one file of a package: Path relative to the package root,
// slash-separated; Data its contents.
type File = facts.File

// Finding is one rule firing at one place.
type Finding = rules.Finding

// Severity orders findings.
type Severity = rules.Severity

// Package is what is analysed: the files of one version (from a tarball
// or a folder) and, when known, its identity.
type Package struct {
	Name      string
	Version   string
	Integrity string
	Files     []File
	// RegistryManifest is the version's object from the registry's
	// packument (raw JSON), when the package came from a registry: rules
	// compare it with the tarball's package.json (manifest confusion).
	// Nil when unknown.
	RegistryManifest []byte
}

// Verdict is the conclusion for one package version.
type Verdict string

const (
	Clean      Verdict = "clean"
	Suspicious Verdict = "suspicious"
	Malicious  Verdict = "malicious"
)

// Report is the analysis of one package version.
type Report struct {
	Package   string  `json:"package"`
	Version   string  `json:"version"`
	Integrity string  `json:"integrity,omitempty"`
	Verdict   Verdict `json:"verdict"`
	Score     int     `json:"score"`
	// Reasons explain the score: one entry per rule that fired and per
	// combination that applied, with the points each added.
	Reasons  []Reason  `json:"reasons,omitempty"`
	Findings []Finding `json:"findings"`
	Stats    Stats     `json:"stats"`
}

// Reason is one contribution to the score.
type Reason struct {
	// Source is a rule ("VGL-A011 wallet-provider-hook") or a combination
	// ("combination wallet-drainer").
	Source string `json:"source"`
	Points int    `json:"points"`
	Why    string `json:"why"`
	// File is where a combination applied.
	File string `json:"file,omitempty"`
}

// Stats describe what was read.
type Stats struct {
	Files   int `json:"files"`
	Bytes   int `json:"bytes"`
	JSFiles int `json:"jsFiles"`
	JSBytes int `json:"jsBytes"`
	// ParseFailures lists JavaScript files the parser rejected (read
	// lexically instead); Sampled those too large to parse; Truncated
	// those where a fact cap or the evaluation budget was reached.
	ParseFailures []string `json:"parseFailures,omitempty"`
	Sampled       []string `json:"sampled,omitempty"`
	Truncated     []string `json:"truncated,omitempty"`
}

// Options configure an analysis.
type Options struct {
	Facts facts.Options
	// Rules to run; nil means rules.All().
	Rules []*rules.Rule
}

// Analyze extracts facts from the package's files, runs the rules and
// scores the findings. It fails only when ctx is done.
func Analyze(ctx context.Context, pkg Package, opt Options) (*Report, error) {
	p, err := facts.Extract(ctx, pkg.Files, opt.Facts)
	if err != nil {
		return nil, fmt.Errorf("analyze %s@%s: %w", pkg.Name, pkg.Version, err)
	}
	return Evaluate(pkg, p, opt.Rules), nil
}

// Evaluate runs rules over extracted facts and scores the findings.
func Evaluate(pkg Package, p *facts.Package, rs []*rules.Rule) *Report {
	if rs == nil {
		rs = rules.All()
	}
	if p.Registry == nil && pkg.RegistryManifest != nil {
		// The registry's view of the version, for the manifest-confusion
		// rule; the tarball's own package.json is p.Manifest.
		m := facts.ParseManifest(pkg.RegistryManifest)
		p.Registry = &m
	}
	r := &Report{Package: pkg.Name, Version: pkg.Version, Integrity: pkg.Integrity, Findings: []Finding{}}
	if r.Package == "" {
		r.Package = p.Manifest.Name
	}
	if r.Version == "" {
		r.Version = p.Manifest.Version
	}
	for _, rule := range rs {
		r.Findings = append(r.Findings, rule.Run(p)...)
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Rule < b.Rule
	})
	r.Score, r.Reasons = Score(p, r.Findings)
	r.Verdict = VerdictFor(r.Score)
	r.Stats = stats(p)
	return r
}

func stats(p *facts.Package) Stats {
	var s Stats
	for i := range p.Files {
		f := &p.Files[i]
		s.Files++
		s.Bytes += f.Size
		if f.JS == nil {
			continue
		}
		s.JSFiles++
		s.JSBytes += f.Size
		switch {
		case f.JS.Mode == js.ModeSampled:
			s.Sampled = append(s.Sampled, f.Path)
		case f.JS.ParseError != nil:
			s.ParseFailures = append(s.ParseFailures, f.Path)
		}
		if f.JS.Truncated && f.JS.Mode != js.ModeSampled {
			s.Truncated = append(s.Truncated, f.Path)
		}
	}
	return s
}
