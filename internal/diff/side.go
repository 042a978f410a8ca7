package diff

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/registry"
	"github.com/vigil-sec/vigil/internal/tarball"
)

// FromArchive makes a Side of a tarball or folder read by package tarball.
// name, version and integrity may be empty (name and version then come
// from package.json).
func FromArchive(a *tarball.Archive, name, version, integrity string) Side {
	s := Side{Name: name, Version: version, Integrity: integrity, Files: analyze.FromArchive(a, name, version, integrity).Files}
	for _, sk := range a.Skipped {
		if sk.Reason == tarball.ReasonTooLarge && sk.Path != "" {
			s.NotLoaded = append(s.NotLoaded, NotLoaded{Path: sk.Path, Size: sk.Size})
		}
	}
	return s
}

// FromRelease makes a Side of a release fetched from a registry: its
// tarball is read in memory within lim, and its packument and manifest
// come along for the registry signals. report may be nil (Compare then
// analyses the release).
func FromRelease(ctx context.Context, rel *registry.Release, report *analyze.Report, lim tarball.Limits) (Side, error) {
	arc, err := tarball.Read(ctx, bytes.NewReader(rel.Tarball), lim)
	if err != nil {
		return Side{}, fmt.Errorf("%s@%s: %w", rel.Name, rel.Version, err)
	}
	s := FromArchive(arc, rel.Name, rel.Version, rel.Integrity)
	s.Report, s.Packument, s.Manifest = report, rel.Packument, rel.Manifest
	return s, nil
}

// Fetcher fetches one version of a package; *registry.Client is one.
type Fetcher interface {
	FetchVersion(ctx context.Context, name, version string) (*registry.Release, error)
}

// ErrNoPrevious means a release has no earlier release to compare with
// (its first version, or a packument that lists nothing before it).
var ErrNoPrevious = errors.New("no previous release to compare with")

// PreviousOf names the release b should be compared with: the one its
// packument's PreviousVersion picks (same release line first). It returns
// ErrNoPrevious when there is none.
func PreviousOf(b *registry.Release) (string, error) {
	if b.Packument == nil {
		return "", fmt.Errorf("%s@%s: the registry has no packument: %w", b.Name, b.Version, ErrNoPrevious)
	}
	prev := b.Packument.PreviousVersion(b.Version)
	if prev == "" {
		return "", fmt.Errorf("%s@%s: %w", b.Name, b.Version, ErrNoPrevious)
	}
	return prev, nil
}

// AgainstPrevious compares b, a release that came from a registry (its
// Packument set, as FromRelease does), with its previous release (see
// PreviousOf), fetched through f. It is what
// `vigil analyze --against-previous` needs before Fold; a caller that has
// just analysed b passes its Report and Facts along, so that b is not read
// again:
//
//	d, err := diff.AgainstPrevious(ctx, client, b, diff.Options{})
//	if err == nil {
//		rep = diff.Fold(rep, d)
//	}
func AgainstPrevious(ctx context.Context, f Fetcher, b Side, opt Options) (*Diff, error) {
	prev, err := PreviousOf(&registry.Release{Name: b.Name, Version: b.Version, Packument: b.Packument})
	if err != nil {
		return nil, err
	}
	a, err := f.FetchVersion(ctx, b.Name, prev)
	if err != nil {
		return nil, fmt.Errorf("fetching the previous release: %w", err)
	}
	sa, err := FromRelease(ctx, a, nil, tarball.Limits{})
	if err != nil {
		return nil, fmt.Errorf("previous release: %w", err)
	}
	return Compare(ctx, sa, b, opt)
}
