package advisory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-sec/vigil/internal/npm"
)

// rec builds an OSV record JSON for tests; affected is the JSON of the
// affected array.
func rec(id, affected string, extra ...string) string {
	s := fmt.Sprintf(`{"id":%q,"modified":"2025-01-01T00:00:00Z","affected":%s`, id, affected)
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

// rng is one affected entry for npm package pkg with one range.
func rng(pkg, typ, events string) string {
	return fmt.Sprintf(`{"package":{"ecosystem":"npm","name":%q},"ranges":[{"type":%q,"events":%s}]}`, pkg, typ, events)
}

// memDB builds an in-memory DB from record JSON, as the embedded snapshot is.
func memDB(t testing.TB, records ...string) *DB {
	t.Helper()
	fsys := fstest.MapFS{}
	for i, r := range records {
		fsys[fmt.Sprintf("recs/%04d.json", i)] = &fstest.MapFile{Data: []byte(r)}
	}
	db, err := buildFS(context.Background(), fsys, "recs", "test")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

var evalRecords = []string{
	rec("R-FIXED", "["+rng("fixed", "SEMVER", `[{"introduced":"0"},{"fixed":"1.2.0"}]`)+"]"),
	rec("R-MULTI", "["+rng("multi", "SEMVER", `[{"introduced":"1.0.0"},{"fixed":"1.0.5"},{"introduced":"2.0.0-rc.1"},{"fixed":"2.0.1"}]`)+"]"),
	rec("R-LAST", "["+rng("last", "SEMVER", `[{"introduced":"0"},{"last_affected":"1.4.2"}]`)+"]"),
	rec("R-UNSORTED", "["+rng("unsorted", "SEMVER", `[{"fixed":"2.0.0"},{"introduced":"1.0.0"},{"fixed":"1.1.0"},{"introduced":"1.5.0"}]`)+"]"),
	rec("R-TWORANGES", `[{"package":{"ecosystem":"npm","name":"tworanges"},"ranges":[`+
		`{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]},`+
		`{"type":"ECOSYSTEM","events":[{"introduced":"3.0.0"},{"fixed":"3.1.0"}]}]}]`),
	rec("R-GIT", `[{"package":{"ecosystem":"npm","name":"git"},"ranges":[{"type":"GIT","repo":"https://example.com/r",`+
		`"events":[{"introduced":"0"},{"fixed":"0123456789abcdef0123456789abcdef01234567"}]}],"versions":["1.2.3"]}]`),
	rec("R-LIMIT", "["+rng("limit", "SEMVER", `[{"introduced":"0"},{"limit":"2.0.0"}]`)+"]"),
	rec("R-LIMITSTAR", "["+rng("limitstar", "SEMVER", `[{"introduced":"1.0.0"},{"limit":"*"}]`)+"]"),
	rec("R-VERSIONS", `[{"package":{"ecosystem":"npm","name":"versions"},"versions":["1.0.0","github:x/y#abc"],`+
		`"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]`),
	rec("R-WITHDRAWN", "["+rng("withdrawn", "SEMVER", `[{"introduced":"0"}]`)+"]", `"withdrawn":"2025-02-01T00:00:00Z"`),
	rec("R-WITHDRAWN-ODD", "["+rng("withdrawn-odd", "SEMVER", `[{"introduced":"0"}]`)+"]", `"withdrawn":"last tuesday"`),
	rec("R-PYPI", `[{"package":{"ecosystem":"PyPI","name":"pypi"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]`),
	rec("R-PRE", "["+rng("pre", "SEMVER", `[{"introduced":"1.0.0-alpha.10"},{"fixed":"1.0.0"}]`)+"]"),
	rec("R-BADINTRO", "["+rng("badintro", "SEMVER", `[{"introduced":"not-a-version"},{"fixed":"1.0.0"}]`)+"]"),
	rec("R-BADFIXED", "["+rng("badfixed", "SEMVER", `[{"introduced":"0"},{"fixed":"banana"}]`)+"]"),
	rec("R-NOINTRO", "["+rng("nointro", "SEMVER", `[{"fixed":"1.0.0"}]`)+"]"),
	rec("R-PURL", `[{"package":{"purl":"pkg:npm/%40scope/purl"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]`),
	rec("R-SPLIT", "["+rng("split", "SEMVER", `[{"introduced":"0"},{"fixed":"1.0.0"}]`)+","+
		rng("split", "SEMVER", `[{"introduced":"2.0.0"},{"fixed":"2.1.0"}]`)+"]"),
	rec("R-SAMEVER", "["+rng("samever", "SEMVER", `[{"introduced":"1.0.0"},{"fixed":"1.0.0"}]`)+"]"),
}

var evalCases = []struct {
	pkg, version string
	want         bool
	id           string
}{
	// introduced "0" covers everything, prereleases of 0.0.0 included.
	{"fixed", "0.0.0", true, "R-FIXED"},
	{"fixed", "0.0.0-alpha", true, "R-FIXED"},
	{"fixed", "1.1.9", true, "R-FIXED"},
	// A prerelease of the fixed version sorts below it: still affected.
	{"fixed", "1.2.0-beta.1", true, "R-FIXED"},
	{"fixed", "1.2.0", false, "R-FIXED"},
	// Build metadata is ignored for precedence.
	{"fixed", "1.2.0+build.5", false, "R-FIXED"},
	{"fixed", "1.1.0+build.5", true, "R-FIXED"},
	{"fixed", "v1.1.0", true, "R-FIXED"},
	{"fixed", "2.0.0", false, "R-FIXED"},

	// Two intervals in one range.
	{"multi", "0.9.9", false, "R-MULTI"},
	{"multi", "1.0.0-rc.1", false, "R-MULTI"},
	{"multi", "1.0.0", true, "R-MULTI"},
	{"multi", "1.0.4", true, "R-MULTI"},
	{"multi", "1.0.5", false, "R-MULTI"},
	{"multi", "1.5.0", false, "R-MULTI"},
	{"multi", "2.0.0-rc.0", false, "R-MULTI"},
	{"multi", "2.0.0-rc.1", true, "R-MULTI"},
	{"multi", "2.0.0", true, "R-MULTI"},
	{"multi", "2.0.1", false, "R-MULTI"},

	// last_affected is inclusive.
	{"last", "1.4.2", true, "R-LAST"},
	{"last", "1.4.2+b", true, "R-LAST"},
	{"last", "1.4.3-rc.1", false, "R-LAST"},
	{"last", "1.4.3", false, "R-LAST"},

	// Events out of order are sorted before the walk.
	{"unsorted", "0.5.0", false, "R-UNSORTED"},
	{"unsorted", "1.0.5", true, "R-UNSORTED"},
	{"unsorted", "1.2.0", false, "R-UNSORTED"},
	{"unsorted", "1.7.0", true, "R-UNSORTED"},
	{"unsorted", "2.0.0", false, "R-UNSORTED"},

	// Several ranges; ECOSYSTEM is npm's semver order.
	{"tworanges", "0.5.0", true, "R-TWORANGES"},
	{"tworanges", "2.0.0", false, "R-TWORANGES"},
	{"tworanges", "3.0.5", true, "R-TWORANGES"},
	{"tworanges", "3.1.0", false, "R-TWORANGES"},

	// GIT ranges are not evaluated; the versions list still is.
	{"git", "1.2.3", true, "R-GIT"},
	{"git", "1.2.4", false, "R-GIT"},

	// limit bounds from above; "*" is infinity.
	{"limit", "1.9.9", true, "R-LIMIT"},
	{"limit", "2.0.0-rc.1", true, "R-LIMIT"},
	{"limit", "2.0.0", false, "R-LIMIT"},
	{"limit", "3.0.0", false, "R-LIMIT"},
	{"limitstar", "0.9.0", false, "R-LIMITSTAR"},
	{"limitstar", "99.0.0", true, "R-LIMITSTAR"},

	// Versions that are not semver never lie in a range, even from "0";
	// exact versions entries still match them.
	{"versions", "github:x/y#abc", true, "R-VERSIONS"},
	{"versions", "0123456789abcdef0123456789abcdef01234567", false, "R-VERSIONS"},
	{"versions", "latest", false, "R-VERSIONS"},
	{"versions", "1.2", false, "R-VERSIONS"},
	{"versions", "", false, "R-VERSIONS"},
	{"versions", "5.0.0", true, "R-VERSIONS"},
	{"versions", "1.0.0+build", true, "R-VERSIONS"},

	// Withdrawn records and other ecosystems never match.
	{"withdrawn", "1.0.0", false, "R-WITHDRAWN"},
	{"withdrawn-odd", "1.0.0", false, "R-WITHDRAWN-ODD"},
	{"pypi", "1.0.0", false, "R-PYPI"},
	// Names are exact.
	{"Fixed", "1.0.0", false, "R-FIXED"},

	// Numeric prerelease identifiers compare as numbers, below
	// alphanumeric ones; a shorter prefix sorts first.
	{"pre", "1.0.0-alpha.9", false, "R-PRE"},
	{"pre", "1.0.0-alpha.10", true, "R-PRE"},
	{"pre", "1.0.0-alpha.beta", true, "R-PRE"},
	{"pre", "1.0.0-alpha", false, "R-PRE"},
	{"pre", "1.0.0-beta", true, "R-PRE"},
	{"pre", "1.0.0", false, "R-PRE"},

	// Malformed bounds fail loud: a bad introduced counts as "0", a bad
	// fixed leaves the range open.
	{"badintro", "0.5.0", true, "R-BADINTRO"},
	{"badintro", "1.0.0", false, "R-BADINTRO"},
	{"badfixed", "9.9.9", true, "R-BADFIXED"},
	// A range without introduced affects nothing (OSV pseudo-code).
	{"nointro", "0.1.0", false, "R-NOINTRO"},
	// A name given only as a purl.
	{"@scope/purl", "1.0.0", true, "R-PURL"},
	// One package split over two affected entries.
	{"split", "0.5.0", true, "R-SPLIT"},
	{"split", "1.5.0", false, "R-SPLIT"},
	{"split", "2.0.5", true, "R-SPLIT"},
	// introduced and fixed at the same version: the walk ends closed.
	{"samever", "1.0.0", false, "R-SAMEVER"},
}

func TestMatchTable(t *testing.T) {
	db := memDB(t, evalRecords...)
	byID := map[string]*Record{}
	for _, r := range evalRecords {
		var rec Record
		if err := json.Unmarshal([]byte(r), &rec); err != nil {
			t.Fatal(err)
		}
		byID[rec.ID] = &rec
	}
	for _, c := range evalCases {
		t.Run(c.pkg+"@"+c.version, func(t *testing.T) {
			if got := byID[c.id].Affects(c.pkg, c.version); got != c.want {
				t.Errorf("reference: %s affects %s@%s = %v, want %v", c.id, c.pkg, c.version, got, c.want)
			}
			ms, err := db.Match(c.pkg, c.version)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.ContainsFunc(ms, func(m Match) bool { return m.Record.ID == c.id })
			if got != c.want {
				t.Errorf("index: %s matches %s@%s = %v, want %v", c.id, c.pkg, c.version, got, c.want)
			}
			if len(ms) > 1 {
				t.Errorf("%d matches, want at most 1", len(ms))
			}
		})
	}
}

func TestMatchBounds(t *testing.T) {
	db := memDB(t, evalRecords...)
	for _, c := range []struct {
		pkg, version string
		fixed, last  []string
	}{
		{"multi", "1.0.4", []string{"1.0.5", "2.0.1"}, nil},
		{"split", "2.0.5", []string{"1.0.0", "2.1.0"}, nil},
		{"last", "1.0.0", nil, []string{"1.4.2"}},
		{"fixed", "1.2.0-beta.1", []string{"1.2.0"}, nil},
		{"versions", "1.0.0", nil, nil},
	} {
		ms, err := db.Match(c.pkg, c.version)
		if err != nil || len(ms) != 1 {
			t.Fatalf("%s@%s: %d matches, %v", c.pkg, c.version, len(ms), err)
		}
		if !slices.Equal(ms[0].Fixed, c.fixed) || !slices.Equal(ms[0].LastAffected, c.last) {
			t.Errorf("%s@%s: fixed %v last %v, want %v %v", c.pkg, c.version, ms[0].Fixed, ms[0].LastAffected, c.fixed, c.last)
		}
		fixed, last := ms[0].Record.boundsFor(c.pkg)
		if !slices.Equal(fixed, c.fixed) || !slices.Equal(last, c.last) {
			t.Errorf("%s@%s reference bounds: %v %v", c.pkg, c.version, fixed, last)
		}
		if ms[0].Package.Name != c.pkg || ms[0].Package.Version != c.version {
			t.Errorf("package = %v", ms[0].Package)
		}
	}
}

// TestEncodedCompare checks the byte-level comparison against npm's
// Compare over a grid of tricky versions.
func TestEncodedCompare(t *testing.T) {
	vs := []string{"0.0.0", "0.0.0-0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.0+build", "1.0.1", "1.1.0", "2.0.0",
		"1.0.0-01", "1.0.0-1", "1.0.0-a-b", "1.0.0-A", "18446744073709551615.0.0",
		"1.0.0-99999999999999999999", "1.0.0-x.7.z.92"}
	for _, a := range vs {
		for _, b := range vs {
			av, bv := mustVersion(t, a), mustVersion(t, b)
			enc := appendVersion(nil, av)
			q := prepare(newQuery(b))
			d := dec{b: enc}
			got := cmpEncoded(&d, &q)
			if d.err != nil || len(d.b) != 0 {
				t.Fatalf("%s: decode %v, %d left", a, d.err, len(d.b))
			}
			if want := av.Compare(bv); got != want {
				t.Errorf("cmpEncoded(%s, %s) = %d, npm says %d", a, b, got, want)
			}
			d = dec{b: enc}
			if back := decodeVersion(&d); canonical(back) != canonical(av) {
				t.Errorf("decode(%s) = %s", a, back)
			}
		}
	}
}

func mustVersion(t *testing.T, s string) npm.Version {
	t.Helper()
	q := newQuery(s)
	if !q.valid {
		t.Fatalf("%q does not parse", s)
	}
	return q.v
}

func TestParseTimeLenient(t *testing.T) {
	for _, s := range []string{"2025-09-08T14:26:51Z", "2025-09-08T14:26:51.123456Z", "2025-09-08T14:26:51+02:00", "2025-09-08T14:26:51", "2025-09-08"} {
		if parseTime(s).IsZero() {
			t.Errorf("parseTime(%q) is zero", s)
		}
	}
	var r Record
	if err := json.Unmarshal([]byte(`{"id":"X","modified":"yesterday","published":"2025-09-08"}`), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Modified.IsZero() || r.Published.IsZero() {
		t.Errorf("modified %v published %v", r.Modified, r.Published)
	}
	out, err := json.Marshal(r)
	if err != nil || strings.Contains(string(out), `"modified"`) {
		t.Errorf("marshal: %s %v", out, err)
	}
}

func TestQueryCanonical(t *testing.T) {
	for in, want := range map[string]string{"1.2.3": "1.2.3", " v1.2.3 ": "1.2.3", "=1.2.3-rc.1": "1.2.3-rc.1",
		"1.2.3+b": "1.2.3", "1.2.3-x.01": "1.2.3-x.01", "latest": "latest", " git+ssh://x ": "git+ssh://x"} {
		q := newQuery(in)
		if q.canon != want {
			t.Errorf("newQuery(%q).canon = %q, want %q", in, q.canon, want)
		}
		if q.valid && q.canon != canonical(q.v) {
			t.Errorf("%q: fast path %q disagrees with canonical %q", in, q.canon, canonical(q.v))
		}
	}
}
