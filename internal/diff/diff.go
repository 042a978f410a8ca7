package diff

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/registry"
)

// Side is one of the two releases compared.
type Side struct {
	// Name and Version identify the release; when empty they are taken
	// from its package.json.
	Name, Version string
	// Integrity is the SRI of the tarball, when known.
	Integrity string
	// Files are the release's files (see FromArchive).
	Files []analyze.File
	// NotLoaded are files the reader did not load because they were too
	// large: they can only be listed, not compared.
	NotLoaded []NotLoaded
	// Report is the release's analysis and Facts the facts it was made
	// from; Compare computes them when nil. A caller that has just
	// analysed the release passes both, so its files are not read twice.
	Report *analyze.Report
	Facts  *facts.Package
	// Packument and Manifest are the registry's document for the package
	// and the version's entry in it, when the release came from a
	// registry. Registry signals are computed from B's packument.
	Packument *registry.Packument
	Manifest  *registry.Manifest
}

// NotLoaded is a file too large to be read into memory.
type NotLoaded struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// Options bound a comparison. The zero value is usable: every zero field
// takes its default.
type Options struct {
	// Context is the number of unchanged lines shown around each change:
	// 0 means DefaultContext, a negative value none.
	Context int
	// MaxHunks caps the hunks kept per file, MaxFileBytes the bytes of
	// hunk text kept per file and MaxTotalBytes those of the whole diff;
	// what is cut is counted, never silently dropped.
	MaxHunks      int
	MaxFileBytes  int
	MaxTotalBytes int
	// LineWindow is how many bytes of a long line are shown: a window
	// around the first differing byte of a changed line, or the start of
	// an added or removed one.
	LineWindow int
	// MaxMatchLines caps the lines handed to the line matcher (after the
	// common start and end are set aside); beyond it the changed middle
	// is shown as one replaced block, because matching is quadratic in
	// the worst case.
	MaxMatchLines int
	// NoHunks skips line diffs: files are compared by size and hash only.
	NoHunks bool
	// Analyze configures the analyses Compare runs for sides without a
	// Report (and the fact extraction capabilities are read from).
	Analyze analyze.Options
	// Signals tunes the registry signals' thresholds.
	Signals SignalOptions
}

// Defaults for Options.
const (
	DefaultContext       = 3
	DefaultMaxHunks      = 20
	DefaultMaxFileBytes  = 16 << 10
	DefaultMaxTotalBytes = 256 << 10
	DefaultLineWindow    = 240
	DefaultMaxMatchLines = 20000
)

func (o Options) withDefaults() Options {
	if o.Context == 0 {
		o.Context = DefaultContext
	} else if o.Context < 0 {
		o.Context = 0
	}
	if o.MaxHunks <= 0 {
		o.MaxHunks = DefaultMaxHunks
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if o.LineWindow <= 0 {
		o.LineWindow = DefaultLineWindow
	}
	if o.MaxMatchLines <= 0 {
		o.MaxMatchLines = DefaultMaxMatchLines
	}
	o.Signals = o.Signals.withDefaults()
	return o
}

// Diff is what changed from A to B.
type Diff struct {
	A Summary `json:"a"`
	B Summary `json:"b"`
	// Files lists what was added, removed and changed.
	Files Files `json:"files"`
	// Manifest is package.json compared field by field.
	Manifest ManifestDiff `json:"manifest"`
	// Capabilities that B has and A had not (Appeared), and the reverse.
	Capabilities CapabilityChanges `json:"capabilities"`
	// NewFindings are B's findings with no counterpart in A (same rule,
	// same file, same evidence or message: line shifts do not matter);
	// GoneFindings are A's with none in B.
	NewFindings  []analyze.Finding `json:"new_findings"`
	GoneFindings []analyze.Finding `json:"gone_findings"`
	// Signals are what the registry says about B's publication; empty
	// when B came without a packument.
	Signals []Signal `json:"signals"`
}

// Summary identifies one side and its analysis.
type Summary struct {
	Name      string          `json:"name"`
	Version   string          `json:"version"`
	Integrity string          `json:"integrity,omitempty"`
	Verdict   analyze.Verdict `json:"verdict"`
	Score     int             `json:"score"`
	Files     int             `json:"file_count"`
	Bytes     int64           `json:"bytes"`
	// Published, Publisher and Trust come from the registry, when known.
	Published time.Time `json:"published,omitzero"`
	Publisher string    `json:"publisher,omitempty"`
	Trust     string    `json:"trust,omitempty"`
	// Report is the side's analysis (B's is what Fold weighs).
	Report *analyze.Report `json:"-"`
}

// Compare works out what changed from a to b. It fails only when ctx is
// done or an analysis fails.
func Compare(ctx context.Context, a, b Side, opt Options) (*Diff, error) {
	opt = opt.withDefaults()
	pa, err := prepare(ctx, a, opt)
	if err != nil {
		return nil, fmt.Errorf("diff: side A: %w", err)
	}
	pb, err := prepare(ctx, b, opt)
	if err != nil {
		return nil, fmt.Errorf("diff: side B: %w", err)
	}
	d := &Diff{A: pa.summary(), B: pb.summary()}
	d.Files = compareFiles(ctx, pa, pb, opt)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.Manifest = compareManifests(pa.file("package.json"), pb.file("package.json"))
	d.Capabilities = compareCapabilities(capabilitiesOf(pa.facts, pa.report), capabilitiesOf(pb.facts, pb.report))
	d.NewFindings, d.GoneFindings = compareFindings(pa.report.Findings, pb.report.Findings)
	d.Signals = registrySignals(pa, pb, opt.Signals)
	return d, nil
}

// prepared is a side with its facts and analysis.
type prepared struct {
	Side
	facts  *facts.Package
	report *analyze.Report
	byPath map[string]int // index into Files
}

func prepare(ctx context.Context, s Side, opt Options) (*prepared, error) {
	p := &prepared{Side: s, byPath: make(map[string]int, len(s.Files))}
	for i, f := range s.Files {
		p.byPath[f.Path] = i
	}
	fp := s.Facts
	if fp == nil {
		var err error
		if fp, err = facts.Extract(ctx, s.Files, opt.Analyze.Facts); err != nil {
			return nil, fmt.Errorf("%s@%s: %w", s.Name, s.Version, err)
		}
	}
	p.facts = fp
	if p.Name == "" {
		p.Name = fp.Manifest.Name
	}
	if p.Version == "" {
		p.Version = fp.Manifest.Version
	}
	p.report = s.Report
	if p.report == nil {
		pkg := analyze.Package{Name: p.Name, Version: p.Version, Integrity: s.Integrity, Files: s.Files}
		if s.Manifest != nil {
			pkg.RegistryManifest = s.Manifest.Raw
		}
		p.report = analyze.Evaluate(pkg, fp, opt.Analyze.Rules)
	}
	if p.Manifest == nil && p.Packument != nil {
		p.Manifest = p.Packument.Manifest(p.Version)
	}
	return p, nil
}

func (p *prepared) file(path string) *analyze.File {
	if i, ok := p.byPath[path]; ok {
		return &p.Files[i]
	}
	return nil
}

func (p *prepared) summary() Summary {
	s := Summary{
		Name: p.Name, Version: p.Version, Integrity: p.Integrity,
		Verdict: p.report.Verdict, Score: p.report.Score, Files: len(p.Files), Report: p.report,
	}
	for _, f := range p.Files {
		s.Bytes += int64(len(f.Data))
	}
	if p.Packument != nil {
		s.Published, _ = p.Packument.PublishTime(p.Version)
	}
	if m := p.Manifest; m != nil {
		if m.NpmUser != nil {
			s.Publisher = personString(m.NpmUser)
		}
		s.Trust = m.Trust().String()
	}
	return s
}
