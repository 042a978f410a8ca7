package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/advisory"
	"github.com/vigil-sec/vigil/internal/registry"
)

// testNow is the tests' clock: 2.1.0, 1.1.1 and 3.0.0-rc.1 of the tags
// fixture are young then (2 days, 1 day, 6 hours).
var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

const (
	debugFile      = "testdata/debug.json"
	tagsFile       = "testdata/tags.json"
	widgetFile     = "../registry/testdata/packuments/widget.json"
	widgetAbbrFile = "../registry/testdata/packuments/widget.abbreviated.json"
)

// testAdvisories is the embedded snapshot layered with the fixture records
// of testdata/advisories, imported into a real index by TestMain.
var testAdvisories advisory.Matcher

func TestMain(m *testing.M) {
	code, err := runWithAdvisories(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runWithAdvisories(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "vigil-policy-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if _, err := advisory.Import(context.Background(), dir, []advisory.Source{{Location: filepath.Join("testdata", "advisories")}}, advisory.ImportOptions{}); err != nil {
		return 0, fmt.Errorf("importing the fixture advisories: %w", err)
	}
	imported, err := advisory.Open(dir)
	if err != nil {
		return 0, err
	}
	defer imported.Close()
	embedded, err := advisory.OpenEmbedded()
	if err != nil {
		return 0, err
	}
	defer embedded.Close()
	testAdvisories = advisory.NewMulti(embedded, imported)
	return m.Run(), nil
}

func loadPackument(t testing.TB, path string) *registry.Packument {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := registry.ParsePackument(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// The client sets this from the Content-Type; a file has none.
	pk.Abbreviated = strings.Contains(path, ".abbreviated.")
	return pk
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// failingMatcher is advisory data that cannot be read (a closed or damaged
// database), to show the engine fails closed.
type failingMatcher struct{}

func (failingMatcher) Match(string, string) ([]advisory.Match, error) {
	return nil, advisory.ErrClosed
}
func (failingMatcher) Info() advisory.Info { return advisory.Info{} }
