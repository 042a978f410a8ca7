package cli

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/diff"
	"github.com/vigil-sec/vigil/internal/registry"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/tarball"
)

// analyzeJob is one entry of the report in the making: a target named on
// the command line, or one dependency of a project.
type analyzeJob struct {
	run func(ctx context.Context) report.AnalyzeResult
	// dep is set for dependencies, whose paths are added afterwards.
	dep *depUnit
}

// failedJob is a job whose outcome is already known: a project that
// could not be read.
func failedJob(r report.AnalyzeResult) analyzeJob {
	return analyzeJob{run: func(context.Context) report.AnalyzeResult { return r }}
}

const unlistedNote = "the packument does not list this version: the tarball came from its conventional URL and " +
	"could not be verified against a packument (the integrity is only the digest of the bytes received)"

// directJob analyses a target named on the command line: a tarball, a
// package folder or name@version. Direct targets are always analysed
// afresh; the verdict cache serves projects.
func (a *analyzer) directJob(t analyzeTarget) analyzeJob {
	return analyzeJob{run: func(ctx context.Context) report.AnalyzeResult { return a.analyzeDirect(ctx, t) }}
}

func (a *analyzer) analyzeDirect(ctx context.Context, t analyzeTarget) report.AnalyzeResult {
	res := report.AnalyzeResult{Target: t.arg, Kind: string(t.kind), Status: "error", Location: t.arg}
	var (
		arc                      *tarball.Archive
		name, version, integrity string
		manifest                 []byte
		rel                      *registry.Release
		err                      error
	)
	switch t.kind {
	case kindFolder:
		res.Source = report.SourceFolder
		a.e.logger.Debug("reading folder", "path", t.arg)
		arc, err = tarball.ReadDir(ctx, t.arg, a.limits)
	case kindTarball:
		res.Source = report.SourceFile
		a.e.logger.Debug("reading tarball", "path", t.arg)
		var data []byte
		data, err = readCapped(t.arg, a.limits.MaxCompressed)
		if err == nil {
			integrity = sriSHA512(data)
			arc, err = tarball.Read(ctx, bytes.NewReader(data), a.limits)
		}
	case kindRegistry:
		res.Source = report.SourceRegistry
		a.e.logger.Debug("fetching", "package", t.name, "version", t.version, "registry", a.client.BaseURL())
		rel, err = a.client.FetchVersion(ctx, t.name, t.version)
		if err == nil {
			name, version, integrity = rel.Name, rel.Version, rel.Integrity
			res.Fetch = releaseFetch(a.client, rel)
			res.Location = rel.TarballURL
			manifest = registryManifest(rel)
			arc, err = tarball.Read(ctx, bytes.NewReader(rel.Tarball), a.limits)
		}
	}
	if err != nil {
		res.Error = "cannot read: " + rules.Sanitize(err.Error(), 400)
		return res
	}
	res.Warnings, res.NotLoaded = archiveNotes(arc)
	pkg := analyze.FromArchive(arc, name, version, integrity)
	pkg.RegistryManifest = manifest
	// analyze.Analyze in two steps, so that --against-previous reuses the
	// facts instead of extracting them again.
	fp, err := facts.Extract(ctx, pkg.Files, facts.Options{})
	if err != nil {
		res.Error = "cannot analyse: " + rules.Sanitize(err.Error(), 400)
		return res
	}
	rep := analyze.Evaluate(pkg, fp, nil)
	if a.f.againstPrevious && rel != nil {
		b := diff.FromArchive(arc, name, version, integrity)
		b.Report, b.Facts, b.Packument, b.Manifest = rep, fp, rel.Packument, rel.Manifest
		rep, res.Previous = a.foldPrevious(ctx, b, rep)
	}
	res.Report, res.Status = rep, "analysed"
	return res
}

// foldPrevious compares b with the previous release of its line and
// folds what is new into the report (diff.Fold); the returned note says
// what it was compared with, or why it could not be.
func (a *analyzer) foldPrevious(ctx context.Context, b diff.Side, rep *analyze.Report) (*analyze.Report, *report.AnalyzePrevious) {
	note := &report.AnalyzePrevious{}
	if prev, err := diff.PreviousOf(&registry.Release{Name: b.Name, Version: b.Version, Packument: b.Packument}); err == nil {
		note.Version = prev
	}
	d, err := diff.AgainstPrevious(ctx, a.client, b, diff.Options{NoHunks: true})
	switch {
	case errors.Is(err, diff.ErrNoPrevious):
		note.Note = "no earlier release in this line: nothing to compare with"
		return rep, note
	case err != nil:
		note.Error = rules.Sanitize(err.Error(), 400)
		return rep, note
	}
	folded := diff.Fold(rep, d)
	note.ScoreBefore = rep.Score
	note.NewFindings = len(d.NewFindings)
	for _, s := range d.Signals {
		note.Signals = append(note.Signals, rules.Sanitize(s.Message, 300))
	}
	return folded, note
}

// registryManifest is the registry's own record of a version (its object
// in the packument, raw), which rules compare with the tarball's
// package.json; nil for versions the packument does not list.
func registryManifest(rel *registry.Release) []byte {
	if rel == nil || rel.Manifest == nil {
		return nil
	}
	return rel.Manifest.Raw
}

// releaseFetch describes where FetchVersion found a version and what
// vouches for it.
func releaseFetch(c *registry.Client, rel *registry.Release) *report.AnalyzeFetch {
	fi := &report.AnalyzeFetch{Registry: c.BaseURL(), TarballURL: rel.TarballURL, Integrity: rel.Integrity, Verified: rel.Verified, Unlisted: rel.Unlisted}
	switch {
	case rel.Unlisted:
		fi.Note = unlistedNote
	case rel.Verified:
		fi.Note = "verified against the packument's dist.integrity"
	default:
		fi.Note = "not verified"
	}
	return fi
}

// archiveNotes returns the archive reader's warnings and the files too
// large to load, sanitised for the report.
func archiveNotes(arc *tarball.Archive) (warnings, notLoaded []string) {
	for _, w := range arc.Warnings {
		warnings = append(warnings, rules.Sanitize(w.String(), 300))
	}
	if arc.WarningsDropped > 0 {
		warnings = append(warnings, fmt.Sprintf("… and %d more warnings", arc.WarningsDropped))
	}
	for _, s := range arc.Skipped {
		if s.Reason == tarball.ReasonTooLarge {
			notLoaded = append(notLoaded, rules.Sanitize(s.Name, 200))
		}
	}
	return warnings, notLoaded
}

// readCapped reads a file, refusing more than max bytes (the tarball
// reader's compressed-size limit) before holding it in memory.
func readCapped(path string, max int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &tarball.LimitError{Limit: tarball.LimitCompressed, Max: float64(max), Value: float64(len(data))}
	}
	return data, nil
}

func sriSHA512(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}
