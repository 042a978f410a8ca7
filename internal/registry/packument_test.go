package registry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
)

func parseFixture(t *testing.T, name string) *Packument {
	t.Helper()
	p, err := ParsePackument(readFixture(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

func TestParseRealX402Express(t *testing.T) {
	// The version object is verbatim from registry.npmjs.org: trusted
	// publishing, provenance, an ECDSA signature, a string author.
	p := parseFixture(t, "packuments/x402-express.json")
	if p.Name != "@x402/express" || p.DistTags["latest"] != "2.12.0" || len(p.Versions) != 1 {
		t.Fatalf("name %q tags %v versions %d", p.Name, p.DistTags, len(p.Versions))
	}
	m := p.Versions["2.12.0"]
	want := Dist{
		Tarball:      "https://registry.npmjs.org/@x402/express/-/express-2.12.0.tgz",
		Shasum:       "b718e7b4dc58bb5b7be1702d31ba6be53c315582",
		Integrity:    "sha512-bPc6jpRr4iCh7KRJETK/2/bVTKHy/EeybQd9s+Mz4Ab+C64F1IH20GeW4gyj27dtAd2YgOiFrk8uyxSbZPKhkQ==",
		FileCount:    8,
		UnpackedSize: 98896,
		Signatures: []Signature{{
			KeyID: "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U",
			Sig:   "MEYCIQDjmC8yfhkYhhCvlKbuNQczBR6K3bMReaDun4JOjjnp5gIhAJLTPXIsJfLYsqARQi+iuv/gr7sxk0IgGqViO1tszVWl",
		}},
		Attestations: &Attestations{
			URL:           "https://registry.npmjs.org/-/npm/v1/attestations/@x402%2fexpress@2.12.0",
			PredicateType: "https://slsa.dev/provenance/v1",
		},
	}
	if !reflect.DeepEqual(m.Dist, want) {
		t.Errorf("dist\n got %+v\nwant %+v", m.Dist, want)
	}
	wantUser := &Person{Name: "GitHub Actions", Email: "npm-oidc-no-reply@github.com",
		TrustedPublisher: &TrustedPublisher{ID: "github", OIDCConfigID: "oidc:47286ec7-4b99-40ea-b491-aa072a6726da"}}
	if !reflect.DeepEqual(m.NpmUser, wantUser) {
		t.Errorf("_npmUser = %+v, want %+v", m.NpmUser, wantUser)
	}
	if p.Trust("2.12.0") != TrustTrustedPublisher || !p.HasProvenance("2.12.0") {
		t.Errorf("trust %v provenance %v", p.Trust("2.12.0"), p.HasProvenance("2.12.0"))
	}
	if m.PeerDependencies["express"] != "^4.0.0 || ^5.0.0" || m.Dependencies["@x402/core"] != "~2.12.0" {
		t.Errorf("deps %v peers %v", m.Dependencies, m.PeerDependencies)
	}
	if len(m.Maintainers) != 2 || m.Maintainers[0].Name != "carsonroscoe_cb" || m.License != "Apache-2.0" {
		t.Errorf("maintainers %v license %q", m.Maintainers, m.License)
	}
	if m.NodeVersion != "26.0.0" || m.HasInstallScripts() {
		t.Errorf("node %q install scripts %v", m.NodeVersion, m.InstallScripts())
	}
	at, ok := p.PublishTime("2.12.0")
	if !ok || !at.Equal(time.Date(2026, 5, 13, 15, 52, 36, 389e6, time.UTC)) {
		t.Errorf("publish time %v %v", at, ok)
	}
	if _, ok := p.PublishTime("created"); ok {
		t.Error("created is not a version")
	}
}

func TestParseAbbreviated(t *testing.T) {
	full := parseFixture(t, "packuments/widget.json")
	abbr := parseFixture(t, "packuments/widget.abbreviated.json")
	if len(abbr.Time) != 0 || abbr.Modified.IsZero() || !abbr.Modified.Equal(full.Modified) {
		t.Errorf("abbreviated time %v modified %v, full modified %v", abbr.Time, abbr.Modified, full.Modified)
	}
	if !reflect.DeepEqual(slices.Sorted(maps.Keys(abbr.Versions)), slices.Sorted(maps.Keys(full.Versions))) {
		t.Fatal("abbreviated and full list different versions")
	}
	for v, m := range abbr.Versions {
		f := full.Versions[v]
		if m.NpmUser != nil || m.Scripts != nil {
			t.Errorf("%s: abbreviated has _npmUser %v scripts %v", v, m.NpmUser, m.Scripts)
		}
		if !reflect.DeepEqual(m.Dist, f.Dist) {
			t.Errorf("%s: dist differs", v)
		}
		if m.HasInstallScripts() != f.HasInstallScripts() {
			t.Errorf("%s: install scripts %v (abbreviated) vs %v (full)", v, m.HasInstallScripts(), f.HasInstallScripts())
		}
		if m.Deprecated != f.Deprecated {
			t.Errorf("%s: deprecated %q vs %q", v, m.Deprecated, f.Deprecated)
		}
	}
	if !abbr.Versions["2.1.0"].HasInstallScript {
		t.Error("2.1.0: hasInstallScript not read")
	}
	// Provenance survives abbreviation (dist is kept whole); the publisher
	// does not, so trusted publishing reads as mere provenance.
	if !abbr.HasProvenance("2.0.1") || abbr.Trust("2.0.1") != TrustProvenance || full.Trust("2.0.1") != TrustTrustedPublisher {
		t.Errorf("trust abbreviated %v full %v", abbr.Trust("2.0.1"), full.Trust("2.0.1"))
	}
}

func TestParseMirrorDocument(t *testing.T) {
	// What the development mirror serves: spaced JSON, no created/modified,
	// times with +00:00 and microseconds, no _npmUser or signatures.
	p := parseFixture(t, "mirror/is-number.json")
	if p.Name != "is-number" || len(p.Versions) != 15 || p.DistTags["latest"] != "7.0.0" {
		t.Fatalf("name %q versions %d tags %v", p.Name, len(p.Versions), p.DistTags)
	}
	at, ok := p.PublishTime("7.0.0")
	if !ok || !at.Equal(time.Date(2024, 2, 27, 16, 27, 13, 411e6, time.UTC)) {
		t.Errorf("7.0.0 time %v %v", at, ok)
	}
	m := p.Versions["7.0.0"]
	if m.Dist.Integrity != "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==" ||
		m.NpmUser != nil || m.Trust() != TrustNone || m.Engines["node"] != ">=0.12.0" {
		t.Errorf("7.0.0: %+v", m)
	}
	// 0.1.0 has the old licenses array and no license field.
	if p.Versions["0.1.0"].Dist.Shasum == "" {
		t.Error("0.1.0: no shasum")
	}
}

func TestParseTombstone(t *testing.T) {
	// A fully unpublished package, as registry.npmjs.org serves it.
	p := parseFixture(t, "packuments/rollup-config-mbp.json")
	if len(p.Versions) != 0 || p.Unpublished == nil ||
		!reflect.DeepEqual(p.Unpublished.Versions, []string{"0.0.1-alpha.1"}) ||
		!p.Unpublished.Time.Equal(time.Date(2022, 1, 14, 12, 34, 32, 620e6, time.UTC)) {
		t.Fatalf("tombstone: %+v %+v", p, p.Unpublished)
	}
	if _, ok := p.PublishTime("0.0.1-alpha.1"); !ok {
		t.Error("the unpublished version's time should survive")
	}
	if _, ok := p.Time["unpublished"]; ok {
		t.Error("unpublished is not a timestamp")
	}
}

func TestRawIsVerbatim(t *testing.T) {
	for _, name := range []string{"packuments/widget.json", "packuments/x402-express.json", "mirror/is-number.json"} {
		doc := readFixture(t, name)
		p, err := ParsePackument(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.Raw, doc) {
			t.Errorf("%s: Raw is not the document", name)
		}
		var generic struct{ Versions map[string]json.RawMessage }
		if err := json.Unmarshal(doc, &generic); err != nil {
			t.Fatal(err)
		}
		for v, m := range p.Versions {
			if !bytes.Equal(m.Raw, generic.Versions[v]) {
				t.Errorf("%s %s: Raw\n%s\nwant\n%s", name, v, m.Raw, generic.Versions[v])
			}
			// Raw aliases the document rather than copying it.
			if i := bytes.Index(doc, m.Raw); i < 0 || &doc[i] != &m.Raw[0] {
				t.Errorf("%s %s: Raw is a copy", name, v)
			}
			again, err := ParseManifest(m.Raw)
			if err != nil || !reflect.DeepEqual(again.Dist, m.Dist) || again.Version != m.Version {
				t.Errorf("%s %s: Raw does not re-parse to the same manifest: %v", name, v, err)
			}
		}
	}
	// Fields the struct does not model are still there for the proxy.
	p := parseFixture(t, "packuments/x402-express.json")
	var extra struct {
		Exports json.RawMessage `json:"exports"`
		Op      struct {
			Host string `json:"host"`
		} `json:"_npmOperationalInternal"`
	}
	if err := json.Unmarshal(p.Versions["2.12.0"].Raw, &extra); err != nil || extra.Op.Host == "" || len(extra.Exports) == 0 {
		t.Errorf("unmodelled fields: %v %+v", err, extra)
	}
}

func TestParseLenient(t *testing.T) {
	// Shapes found in old or hand-made documents. None may fail the
	// packument; each keeps what can be read.
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, p *Packument)
	}{
		{"people as strings", `{"name":"a","maintainers":["Jane Doe <jane@example.com> (https://jane.example)", 7, {"name":"bob"}],
			"versions":{"1.0.0":{"_npmUser":"jane <jane@example.com>","maintainers":"jane"}}}`,
			func(t *testing.T, p *Packument) {
				want := []Person{{Name: "Jane Doe", Email: "jane@example.com", URL: "https://jane.example"}, {Name: "bob"}}
				if !reflect.DeepEqual(p.Maintainers, want) {
					t.Errorf("maintainers %+v", p.Maintainers)
				}
				if u := p.Publisher("1.0.0"); u == nil || u.Name != "jane" || u.Email != "jane@example.com" {
					t.Errorf("publisher %+v", u)
				}
				if p.Versions["1.0.0"].Maintainers != nil {
					t.Error("a string is not a maintainers list")
				}
			}},
		{"fields of the wrong type", `{"name":"a","versions":{"1.0.0":{"name":"a","version":1,
			"engines":["node >= 0.4"],"dependencies":{"b":"^1","c":2,"d":null},"scripts":null,"os":"linux",
			"deprecated":false,"dist":"nope","_npmUser":[1],"gypfile":"yes","description":{"x":1}}}}`,
			func(t *testing.T, p *Packument) {
				m := p.Versions["1.0.0"]
				if m.Version != "1.0.0" || m.Engines != nil || !reflect.DeepEqual(m.Dependencies, map[string]string{"b": "^1"}) ||
					m.Scripts != nil || !reflect.DeepEqual(m.OS, []string{"linux"}) || m.Deprecated != "" ||
					!reflect.DeepEqual(m.Dist, Dist{}) || m.NpmUser != nil || m.Gypfile || m.Description != "" {
					t.Errorf("%+v", m)
				}
			}},
		{"bin, bundles, licenses", `{"name":"@s/tool","versions":{
			"1.0.0":{"name":"@s/tool","bin":"./cli.js","bundleDependencies":true,"dependencies":{"x":"1"},"license":{"type":"MIT"}},
			"2.0.0":{"name":"@s/tool","bin":{"t":"cli.js","u":3},"bundledDependencies":["x"],"license":[{"type":"MIT"},"Apache-2.0"],"deprecated":"use 3"}}}`,
			func(t *testing.T, p *Packument) {
				a, b := p.Versions["1.0.0"], p.Versions["2.0.0"]
				if !reflect.DeepEqual(a.Bin, map[string]string{"tool": "./cli.js"}) || !reflect.DeepEqual(a.BundleDependencies, []string{"x"}) || a.License != "MIT" {
					t.Errorf("1.0.0 %+v", a)
				}
				if !reflect.DeepEqual(b.Bin, map[string]string{"t": "cli.js"}) || !reflect.DeepEqual(b.BundleDependencies, []string{"x"}) ||
					b.License != "MIT OR Apache-2.0" || b.Deprecated != "use 3" {
					t.Errorf("2.0.0 %+v", b)
				}
			}},
		{"dist odd shapes", `{"name":"a","versions":{"1.0.0":{"dist":{"tarball":"t","fileCount":"12","unpackedSize":-1,
			"signatures":[{"keyid":"k"},{"keyid":"k","sig":"s"},"x"],"attestations":"yes","npm-signature":"-----BEGIN PGP"}},
			"1.0.1":{"dist":{"attestations":{"url":"u","provenance":"v1"}}}}}`,
			func(t *testing.T, p *Packument) {
				d := p.Versions["1.0.0"].Dist
				want := Dist{Tarball: "t", FileCount: 12, Signatures: []Signature{{KeyID: "k", Sig: "s"}}, NpmSignature: "-----BEGIN PGP"}
				if !reflect.DeepEqual(d, want) {
					t.Errorf("got %+v", d)
				}
				if a := p.Versions["1.0.1"].Dist.Attestations; a == nil || a.URL != "u" || a.PredicateType != "" || !p.HasProvenance("1.0.1") {
					t.Errorf("attestations %+v", a)
				}
			}},
		{"trusted publisher of another shape", `{"name":"a","versions":{"1.0.0":{"_npmUser":{"name":"GitHub Actions","trustedPublisher":"github",
			"approver":{"name":"jane"}}}}}`,
			func(t *testing.T, p *Packument) {
				u := p.Publisher("1.0.0")
				if u == nil || u.TrustedPublisher != nil || u.Approver == nil || u.Approver.Name != "jane" || p.Trust("1.0.0") != TrustNone {
					t.Errorf("%+v", u)
				}
			}},
		{"time entries", `{"name":"a","time":{"created":"2020-01-01T00:00:00.000Z","1.0.0":"not a time","1.0.1":12,
			"1.0.2":"2020-02-01T00:00:00+01:00","unpublished":{"time":"x"}},"versions":{}}`,
			func(t *testing.T, p *Packument) {
				if len(p.Time) != 2 || !p.Time["1.0.2"].Equal(time.Date(2020, 1, 31, 23, 0, 0, 0, time.UTC)) {
					t.Errorf("time %v", p.Time)
				}
				if p.Unpublished == nil || !p.Unpublished.Time.IsZero() {
					t.Errorf("unpublished %+v", p.Unpublished)
				}
			}},
		{"null versions and entries", `{"name":"a","versions":{"1.0.0":null,"1.0.1":{}}}`,
			func(t *testing.T, p *Packument) {
				if len(p.Versions) != 1 || p.Versions["1.0.1"].Version != "1.0.1" {
					t.Errorf("%v", p.Versions)
				}
			}},
		{"versions null", `{"name":"a","versions":null,"dist-tags":["x"]}`,
			func(t *testing.T, p *Packument) {
				if p.Versions != nil || p.DistTags != nil {
					t.Errorf("%+v", p)
				}
			}},
		{"install scripts", `{"name":"a","versions":{"1.0.0":{"scripts":{"test":"x"}},"1.0.1":{"scripts":{"preinstall":"x"}},
			"1.0.2":{"gypfile":true},"1.0.3":{"gypfile":true,"scripts":{"install":"prebuild-install || node-gyp rebuild"}}}}`,
			func(t *testing.T, p *Packument) {
				got := map[string]map[string]string{}
				for v, m := range p.Versions {
					got[v] = m.InstallScripts()
				}
				want := map[string]map[string]string{"1.0.0": {}, "1.0.1": {"preinstall": "x"},
					"1.0.2": {"install": "node-gyp rebuild"}, "1.0.3": {"install": "prebuild-install || node-gyp rebuild"}}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %v", got)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePackument([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, doc := range []string{
		``, `[]`, `"x"`, `null`, `{`, `{"name":"a"`, `{"name":"a"} {}`, `{"name":"a"}x`,
		`{"versions":[]}`, `{"versions":"x"}`, `{"versions":{"1.0.0":"not an object"}}`,
		`{"versions":{"1.0.0":[1]}}`, `{"versions":{"1.0.0":{"dist":}}}`,
	} {
		if p, err := ParsePackument([]byte(doc)); err == nil {
			t.Errorf("%q: accepted as %+v", doc, p)
		}
	}
	if _, err := ParseManifest([]byte(`[1]`)); err == nil {
		t.Error("ParseManifest accepted an array")
	}
}

func TestPreviousVersion(t *testing.T) {
	full := parseFixture(t, "packuments/widget.json")
	abbr := parseFixture(t, "packuments/widget.abbreviated.json")
	tests := []struct {
		p    *Packument
		v    string
		want string
	}{
		{full, "2.1.0", "2.0.1"},
		{full, "2.0.1", "2.0.0"},
		// A backport published after 2.0.0 is compared with its own line.
		{full, "1.1.1", "1.1.0"},
		// The first release of a major: the newest release before it, not
		// its own beta.
		{full, "2.0.0", "1.1.0"},
		{full, "2.0.0-beta.1", "1.1.0"},
		{full, "1.1.0", "1.0.0"},
		{full, "1.0.0", ""},
		// Unpublished, but its time entry remains.
		{full, "2.1.1", "2.1.0"},
		// Neither listed nor timed: the highest lower version.
		{full, "3.0.0", "2.1.0"},
		{full, "2.0.5", "2.0.1"},
		{full, "not-semver", ""},
		// Without a time map (abbreviated), by semver alone.
		{abbr, "1.1.1", "1.1.0"},
		{abbr, "2.1.0", "2.0.1"},
		// 1.1.1 is lower, and without times nothing says it came later.
		{abbr, "2.0.0", "1.1.1"},
	}
	for _, tt := range tests {
		kind := "full"
		if tt.p == abbr {
			kind = "abbreviated"
		}
		if got := tt.p.PreviousVersion(tt.v); got != tt.want {
			t.Errorf("%s PreviousVersion(%q) = %q, want %q", kind, tt.v, got, tt.want)
		}
	}
	// Time order beats semver within a line: 1.2.0 was published before
	// 1.1.5, so 1.1.5's predecessor is 1.1.4 and 1.2.1's is 1.2.0.
	p := &Packument{Versions: map[string]*Manifest{}, Time: map[string]time.Time{}}
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range []string{"1.1.4", "1.2.0", "1.1.5", "1.2.1", "1.3.0-rc.1"} {
		p.Versions[v] = &Manifest{Version: v}
		p.Time[v] = day.AddDate(0, 0, i)
	}
	for v, want := range map[string]string{"1.1.5": "1.1.4", "1.2.1": "1.2.0", "1.2.0": "1.1.4", "1.3.0-rc.1": "1.2.1"} {
		if got := p.PreviousVersion(v); got != want {
			t.Errorf("PreviousVersion(%q) = %q, want %q", v, got, want)
		}
	}
}

func TestTrustAndPublisher(t *testing.T) {
	p := parseFixture(t, "packuments/widget.json")
	want := map[string]Trust{
		"1.0.0": TrustNone, "1.1.0": TrustProvenance, "2.0.0-beta.1": TrustTrustedPublisher, "2.0.0": TrustTrustedPublisher,
		"1.1.1": TrustTrustedPublisher, "2.0.1": TrustTrustedPublisher, "2.1.0": TrustNone, "2.1.1": TrustNone,
	}
	for v, w := range want {
		if got := p.Trust(v); got != w {
			t.Errorf("Trust(%s) = %v, want %v", v, got, w)
		}
	}
	// The downgrade the diff will flag: 2.1.0 against its predecessor.
	if prev := p.PreviousVersion("2.1.0"); p.Trust(prev) <= p.Trust("2.1.0") {
		t.Errorf("no downgrade from %s (%v) to 2.1.0 (%v)", prev, p.Trust(prev), p.Trust("2.1.0"))
	}
	if u := p.Publisher("2.1.0"); u == nil || u.String() != "alice <alice-recovery@example.net>" {
		t.Errorf("publisher 2.1.0 = %v", u)
	}
	if u := p.Publisher("2.0.1"); u == nil || u.TrustedPublisher == nil || u.TrustedPublisher.ID != "github" {
		t.Errorf("publisher 2.0.1 = %+v", u)
	}
	if p.Publisher("2.1.1") != nil || p.Publisher("9.9.9") != nil {
		t.Error("unlisted versions have no publisher")
	}
	if p.Versions["2.0.0-beta.1"].Deprecated != "superseded by 2.0.0" {
		t.Error("deprecation message lost")
	}
	if v, ok := p.Resolve("v1"); !ok || v != "1.1.1" {
		t.Errorf("Resolve(v1) = %q %v", v, ok)
	}
	if _, ok := p.Resolve("2.1.1"); ok {
		t.Error("an unpublished version does not resolve")
	}
	b, err := json.Marshal(p.Publisher("2.0.1"))
	if err != nil || !strings.Contains(string(b), `"trustedPublisher":{"id":"github"`) {
		t.Errorf("marshal: %s %v", b, err)
	}
}

// TestFixtureTarballs keeps the fixtures honest: every tarball matches the
// integrity, shasum, file count and unpacked size its packument records.
func TestFixtureTarballs(t *testing.T) {
	check := func(doc, version, file string) {
		p := parseFixture(t, doc)
		m := p.Versions[version]
		data := readFixture(t, file)
		if got := sha512SRI(data); got != m.Dist.Integrity {
			t.Errorf("%s: integrity %s, packument says %s", file, got, m.Dist.Integrity)
		}
		shasum, err := npm.ParseIntegrity(m.Dist.Shasum)
		if err != nil || !bytes.Equal(shasum.Digest, sha1Sum(data)) {
			t.Errorf("%s: shasum does not match (%v)", file, err)
		}
		if m.Dist.FileCount == 0 {
			return // the mirror does not record it
		}
		files, size := tarStats(t, data)
		if files != m.Dist.FileCount || size != m.Dist.UnpackedSize {
			t.Errorf("%s: %d files, %d bytes; packument says %d, %d", file, files, size, m.Dist.FileCount, m.Dist.UnpackedSize)
		}
	}
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-beta.1", "2.0.0", "1.1.1", "2.0.1", "2.1.0"} {
		check("packuments/widget.json", v, "tarballs/widget-"+v+".tgz")
	}
	check("packuments/x402-express.json", "2.12.0", "tarballs/x402-express-2.12.0.tgz")
	check("mirror/is-number.json", "7.0.0", "tarballs/is-number-7.0.0.tgz")
}

func tarStats(t *testing.T, tgz []byte) (files, size int64) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, size
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files++
			size += h.Size
		}
	}
}

func sha1Sum(b []byte) []byte {
	s := sha1.Sum(b)
	return s[:]
}
