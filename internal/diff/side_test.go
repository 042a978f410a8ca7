package diff

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/registry"
	"github.com/vigil-sec/vigil/internal/tarball"
	"github.com/vigil-sec/vigil/internal/tarball/tarballtest"
)

// fetcher serves releases of one packument from memory.
type fetcher struct {
	pk       *registry.Packument
	tarballs map[string][]byte
	asked    []string
}

func (f *fetcher) FetchVersion(_ context.Context, name, version string) (*registry.Release, error) {
	f.asked = append(f.asked, version)
	data, ok := f.tarballs[version]
	if !ok {
		return nil, fmt.Errorf("%s@%s: %w", name, version, registry.ErrNotFound)
	}
	return &registry.Release{Name: name, Version: version, Tarball: data, Packument: f.pk, Manifest: f.pk.Manifest(version), Verified: true}, nil
}

func TestAgainstPrevious(t *testing.T) {
	pk := linePackument(t)
	f := &fetcher{pk: pk, tarballs: map[string][]byte{
		"2.0.1": tarballtest.Pack(t, map[string]string{"package.json": `{"name":"@vigil-test/line","version":"2.0.1"}`, "index.js": "module.exports = 1;\n"}),
		"2.0.2": tarballtest.Pack(t, map[string]string{"package.json": `{"name":"@vigil-test/line","version":"2.0.2","scripts":{"postinstall":"node i.js"}}`,
			"index.js": "module.exports = 1;\n", "i.js": "require('https').get('https://198.51.100.23/x');\n"}),
	}}
	b, err := f.FetchVersion(context.Background(), pk.Name, "2.0.2")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := FromRelease(context.Background(), b, nil, tarball.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := AgainstPrevious(context.Background(), f, sb, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.A.Version != "2.0.1" || d.B.Version != "2.0.2" || len(d.Files.Added) != 1 || len(d.Signals) == 0 || d.A.Trust != "none" {
		t.Errorf("diff against the previous release: A %+v B %+v added %+v signals %+v", d.A, d.B, d.Files.Added, d.Signals)
	}
	folded := Fold(d.B.Report, d)
	if folded.Score <= d.B.Score || analyze.VerdictFor(folded.Score) != folded.Verdict {
		t.Errorf("folding a postinstall that reaches a raw IP, with a trust downgrade: %d → %d", d.B.Score, folded.Score)
	}

	first := Side{Name: pk.Name, Version: "0.3.0", Packument: pk}
	if _, err := AgainstPrevious(context.Background(), f, first, Options{}); !errors.Is(err, ErrNoPrevious) {
		t.Errorf("first release: %v, want ErrNoPrevious", err)
	}
	if _, err := PreviousOf(&registry.Release{Name: "x", Version: "1.0.0"}); !errors.Is(err, ErrNoPrevious) {
		t.Errorf("no packument: %v", err)
	}
	missing := Side{Name: pk.Name, Version: "2.0.1", Packument: pk}
	if _, err := AgainstPrevious(context.Background(), f, missing, Options{}); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("previous release not fetchable: %v", err)
	}
}
