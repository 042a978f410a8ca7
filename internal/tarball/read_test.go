package tarball

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func read(t *testing.T, data []byte, lim Limits) (*Archive, error) {
	t.Helper()
	return Read(context.Background(), bytes.NewReader(data), lim)
}

func mustRead(t *testing.T, data []byte) *Archive {
	t.Helper()
	a, err := read(t, data, Limits{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return a
}

func paths(a *Archive) []string {
	var ps []string
	for _, f := range a.Files {
		ps = append(ps, f.Path)
	}
	return ps
}

func codes(a *Archive) []WarningCode {
	var cs []WarningCode
	for _, w := range a.Warnings {
		cs = append(cs, w.Code)
	}
	return cs
}

func TestReadNpmPackage(t *testing.T) {
	data := npmPackage(t)
	a := mustRead(t, data)
	want := []string{"README.md", "bin/cli.js", "index.js", "lib/util/sum.js", "package.json"}
	if got := paths(a); !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if a.Root != "package" || len(a.Warnings) != 0 || len(a.Skipped) != 0 || a.Entries != 5 {
		t.Errorf("root %q, warnings %v, skipped %v, entries %d", a.Root, a.Warnings, a.Skipped, a.Entries)
	}
	if a.CompressedSize != int64(len(data)) || a.UncompressedSize%blockSize != 0 || a.UncompressedSize < 5*blockSize {
		t.Errorf("sizes: compressed %d (input %d), uncompressed %d", a.CompressedSize, len(data), a.UncompressedSize)
	}
	f, ok := a.Get("./lib//util/sum.js")
	if !ok || string(f.Data) != "module.exports = (a, b) => a + b\n" || f.Size != int64(len(f.Data)) || f.Mode != 0o644 {
		t.Errorf("Get(lib/util/sum.js) = %+v, %v", f, ok)
	}
	if f, _ := a.Get("bin/cli.js"); f.Mode != 0o755 {
		t.Errorf("bin/cli.js mode %v, want 0755", f.Mode)
	}
	if _, ok := a.Get("lib"); ok {
		t.Error("Get(lib) found a directory")
	}
	pj, err := a.PackageJSON()
	var m struct{ Name, Version string }
	if err != nil || json.Unmarshal(pj, &m) != nil || m.Name != "demo" {
		t.Errorf("PackageJSON = %s, %v", pj, err)
	}
}

// TestReadRealTarball reads is-number@7.0.0 exactly as the registry serves
// it (fetched once with `npm pack is-number@7.0.0`).
func TestReadRealTarball(t *testing.T) {
	data, err := os.ReadFile("testdata/is-number-7.0.0.tgz")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(data)
	const integrity = "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng=="
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != integrity {
		t.Fatalf("fixture integrity %s, registry says %s", got, integrity)
	}
	a := mustRead(t, data)
	if got, want := paths(a), []string{"LICENSE", "README.md", "index.js", "package.json"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if len(a.Warnings) != 0 || len(a.Skipped) != 0 || a.Root != "package" {
		t.Errorf("warnings %v, skipped %v, root %q", a.Warnings, a.Skipped, a.Root)
	}
	pj, err := a.PackageJSON()
	var m struct{ Name, Version string }
	if err != nil || json.Unmarshal(pj, &m) != nil || m.Name != "is-number" || m.Version != "7.0.0" {
		t.Errorf("package.json: %s %s (%v)", m.Name, m.Version, err)
	}
	if f, _ := a.Get("index.js"); !bytes.Contains(f.Data, []byte("module.exports = function(num)")) || f.Size != 411 {
		t.Errorf("index.js: %d bytes", f.Size)
	}
}

// TestQuirks covers what real tarballs do and npm tolerates.
func TestQuirks(t *testing.T) {
	long := "package/" + strings.Repeat("very-long-directory-name/", 8) + "file.js"
	tests := []struct {
		name     string
		tar      []byte
		root     string
		files    map[string]string // path → contents
		modes    map[string]fs.FileMode
		skipped  map[string]Reason // Name → reason
		warnings []WarningCode
	}{
		{
			name:  "top folder named after the package",
			tar:   tarOf(t, file("node/package.json", "{}"), file("node/lib/a.js", "a")),
			root:  "node",
			files: map[string]string{"package.json": "{}", "lib/a.js": "a"},
		},
		{
			// npm strips the first component of every entry, so a second
			// top folder overwrites the first: the analysis must see that.
			name:     "second top folder shadows the first",
			tar:      tarOf(t, file("package/index.js", "benign"), file("evil/index.js", "payload")),
			root:     "package",
			files:    map[string]string{"index.js": "payload"},
			warnings: []WarningCode{WarnForeignRoot, WarnDuplicate},
		},
		{
			name:     "root-level file is not installed",
			tar:      tarOf(t, file("package/index.js", "x"), file("setup.js", "y")),
			root:     "package",
			files:    map[string]string{"index.js": "x"},
			skipped:  map[string]Reason{"setup.js": ReasonOutsidePackage},
			warnings: []WarningCode{WarnOutsidePackage},
		},
		{
			name:  "dot top folder",
			tar:   tarOf(t, file("./package/index.js", "x")),
			root:  ".",
			files: map[string]string{"package/index.js": "x"},
		},
		{
			name:     "duplicate entries: the last wins",
			tar:      tarOf(t, file("package/a.js", "first"), file("package/b.js", "b"), file("package/./a.js", "second")),
			root:     "package",
			files:    map[string]string{"a.js": "second", "b.js": "b"},
			warnings: []WarningCode{WarnDuplicate},
		},
		{
			name: "directories are skipped quietly",
			tar: tarOf(t, ent{Name: "package/", Type: tar.TypeDir, Mode: 0o755}, ent{Name: "package/lib/", Type: tar.TypeDir, Mode: 0o755},
				file("package/lib/a.js", "a")),
			root:    "package",
			files:   map[string]string{"lib/a.js": "a"},
			skipped: map[string]Reason{"package/": ReasonDirectory, "package/lib/": ReasonDirectory},
		},
		{
			name: "odd modes are normalised",
			tar: tarOf(t, ent{Name: "package/none", Body: "0", Mode: 0o1000}, ent{Name: "package/all", Body: "1", Mode: 0o777},
				ent{Name: "package/suid", Body: "2", Mode: 0o4755}, ent{Name: "package/x-other", Body: "3", Mode: 0o601}),
			root:     "package",
			files:    map[string]string{"none": "0", "all": "1", "suid": "2", "x-other": "3"},
			modes:    map[string]fs.FileMode{"none": 0o644, "all": 0o755, "suid": 0o755, "x-other": 0o755},
			warnings: []WarningCode{WarnSetuid},
		},
		{
			name:  "PAX long name",
			tar:   tarOf(t, ent{Name: long, Body: "deep", Format: tar.FormatPAX}),
			root:  "package",
			files: map[string]string{strings.TrimPrefix(long, "package/"): "deep"},
		},
		{
			name:  "GNU long name",
			tar:   tarOf(t, ent{Name: long, Body: "deep", Format: tar.FormatGNU}),
			root:  "package",
			files: map[string]string{strings.TrimPrefix(long, "package/"): "deep"},
		},
		{
			name: "old-style V7 headers",
			tar: rawTar(
				rawEntry(rawHeader("package/index.js", 0, 3, func(b []byte) { clear(b[257:]) }), "old"),
				rawEntry(rawHeader("package/lib/", 0, 0, func(b []byte) { clear(b[257:]) }), ""),
			),
			root:    "package",
			files:   map[string]string{"index.js": "old"},
			skipped: map[string]Reason{"package/lib/": ReasonDirectory},
		},
		{
			name: "type 0 with a trailing slash is a directory",
			tar:  rawTar(rawEntry(rawHeader("package/dir/", tar.TypeReg, 0, nil), ""), rawEntry(rawHeader("package/dir/a.js", tar.TypeReg, 1, nil), "a")),
			root: "package", files: map[string]string{"dir/a.js": "a"},
			skipped: map[string]Reason{"package/dir/": ReasonDirectory},
		},
		{
			name: "contiguous file and GNU dump dir",
			tar:  rawTar(rawEntry(rawHeader("package/c.js", tar.TypeCont, 1, nil), "c"), rawEntry(rawHeader("package/d", 'D', 0, nil), "")),
			root: "package", files: map[string]string{"c.js": "c"},
			skipped: map[string]Reason{"package/d": ReasonDirectory},
		},
		{
			name: "git archive's global PAX header",
			tar: rawTar(
				rawEntry(rawHeader("pax_global_header", tar.TypeXGlobalHeader, int64(len(paxData("comment", "0123abcd"))), nil), paxData("comment", "0123abcd")),
				rawEntry(rawHeader("package/a.js", tar.TypeReg, 1, nil), "a"),
			),
			root: "package", files: map[string]string{"a.js": "a"},
			skipped: map[string]Reason{"pax_global_header": ReasonPAXGlobal},
		},
		{
			name: "vendor entry types are skipped",
			tar:  rawTar(rawEntry(rawHeader("package/v", 'V', 3, nil), "vol"), rawEntry(rawHeader("package/a.js", tar.TypeReg, 1, nil), "a")),
			root: "package", files: map[string]string{"a.js": "a"},
			skipped:  map[string]Reason{"package/v": ReasonUnsupportedType},
			warnings: []WarningCode{WarnUnsupportedType},
		},
		{
			name:     "absolute names: npm strips the root",
			tar:      tarOf(t, file("package/a.js", "a"), file("package//etc/x", "1"), file("package/C:/Windows/y", "2")),
			root:     "package",
			files:    map[string]string{"a.js": "a", "etc/x": "1", "Windows/y": "2"},
			warnings: []WarningCode{WarnAbsolutePath, WarnAbsolutePath},
		},
		{
			name:     "backslash in a name",
			tar:      tarOf(t, file(`package/lib\a.js`, "a")),
			root:     "package",
			files:    map[string]string{`lib\a.js`: "a"},
			warnings: []WarningCode{WarnBackslash},
		},
		{
			name:     "devices and FIFOs",
			tar:      tarOf(t, file("package/a.js", "a"), ent{Name: "package/tty", Type: tar.TypeChar}, ent{Name: "package/sda", Type: tar.TypeBlock}, ent{Name: "package/p", Type: tar.TypeFifo}),
			root:     "package",
			files:    map[string]string{"a.js": "a"},
			skipped:  map[string]Reason{"package/tty": ReasonDevice, "package/sda": ReasonDevice, "package/p": ReasonFIFO},
			warnings: []WarningCode{WarnSpecialFile, WarnSpecialFile, WarnSpecialFile},
		},
		{
			name:     "uncompressed tar",
			tar:      nil, // filled below: the plain tar is read as is
			root:     "package",
			files:    map[string]string{"a.js": "a"},
			warnings: []WarningCode{WarnNotCompressed},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := gz(t, tt.tar)
			if tt.tar == nil {
				data = tarOf(t, file("package/a.js", "a"))
			}
			a := mustRead(t, data)
			if a.Root != tt.root {
				t.Errorf("root %q, want %q", a.Root, tt.root)
			}
			got := map[string]string{}
			for _, f := range a.Files {
				got[f.Path] = string(f.Data)
				if want, ok := tt.modes[f.Path]; ok && f.Mode != want {
					t.Errorf("%s: mode %v, want %v", f.Path, f.Mode, want)
				}
			}
			if !mapsEqual(got, tt.files) {
				t.Errorf("files = %q, want %q", got, tt.files)
			}
			sk := map[string]Reason{}
			for _, s := range a.Skipped {
				sk[s.Name] = s.Reason
			}
			if !mapsEqual(sk, tt.skipped) {
				t.Errorf("skipped = %v, want %v", sk, tt.skipped)
			}
			if got := codes(a); !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings = %v, want %v", a.Warnings, tt.warnings)
			}
		})
	}
}

func mapsEqual[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestPathTraversal: names that would escape the extraction folder never
// become Files, and each is reported.
func TestPathTraversal(t *testing.T) {
	tests := []struct {
		name    string
		escapes bool
	}{
		{"package/../../../../etc/passwd", true},
		{"../../../etc/cron.d/x", true}, // the stripped first component is "..": the rest still climbs
		{"package/lib/../../../x.js", true},
		{"package/lib/../index.js", false}, // stays inside, but npm refuses any ".."
		{`package/..\..\evil.js`, true},
		{`package/C:..\evil.js`, true},
		{"package/lib/..", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustRead(t, tgz(t, file("package/index.js", "ok"), file(tt.name, "payload")))
			if got := paths(a); !slices.Equal(got, []string{"index.js"}) {
				t.Errorf("files = %q", got)
			}
			if len(a.Skipped) != 1 || a.Skipped[0].Reason != ReasonUnsafePath || a.Skipped[0].Escapes != tt.escapes || a.Skipped[0].Path != "" {
				t.Errorf("skipped = %+v", a.Skipped)
			}
			if !slices.Equal(codes(a), []WarningCode{WarnUnsafePath}) {
				t.Errorf("warnings = %v", a.Warnings)
			}
		})
	}
	// A NUL byte in a PAX path: archive/tar refuses the header.
	_, err := read(t, gz(t, rawTar(
		rawEntry(rawHeader("PaxHeaders/x", tar.TypeXHeader, int64(len(paxData("path", "package/a\x00.js"))), nil), paxData("path", "package/a\x00.js")),
		rawEntry(rawHeader("package/a", tar.TypeReg, 1, nil), "a"))), Limits{})
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("NUL in a PAX path: %v, want ErrCorrupt", err)
	}
}

func TestSplitName(t *testing.T) {
	tests := []struct {
		in       string
		rel      string
		problem  bool
		absolute bool
	}{
		{"package/a/b.js", "a/b.js", false, false},
		{"package/a//./b.js", "a/b.js", false, false},
		{"package/a/", "a", false, false},
		{"package", "", false, false},
		{"package/", "", false, false},
		{"/etc/passwd", "etc/passwd", false, true},
		{"package/\\\\srv\\share\\x.js", "x.js", false, true},
		{"package///?/C:/x.js", "x.js", false, true},
		{"package/c:x.js", "x.js", false, true},
		{"package/a\x00b", "", true, false},
		{"package/\xff.js", "", true, false},
		{"package/a/../b", "", true, false},
	}
	for _, tt := range tests {
		e := splitName(tt.in)
		if e.rel != tt.rel || (e.problem != "") != tt.problem || e.absolute != tt.absolute {
			t.Errorf("splitName(%q) = %+v", tt.in, e)
		}
	}
}

// TestLinks: links are never followed or installed; those leaving the
// package are flagged.
func TestLinks(t *testing.T) {
	a := mustRead(t, tgz(t,
		file("package/index.js", "x"),
		ent{Name: "package/passwd", Type: tar.TypeSymlink, Link: "../../../../etc/passwd"},
		ent{Name: "package/abs", Type: tar.TypeSymlink, Link: "/etc/shadow"},
		ent{Name: "package/lib/alias.js", Type: tar.TypeSymlink, Link: "../index.js"},
		ent{Name: "package/lib/win", Type: tar.TypeSymlink, Link: `..\..\secret`},
		ent{Name: "package/hard", Type: tar.TypeLink, Link: "package/index.js"},
		ent{Name: "package/hard-out", Type: tar.TypeLink, Link: "package/../../etc/passwd"},
		ent{Name: "package/hard-abs", Type: tar.TypeLink, Link: "/etc/passwd"},
		// A file "through" the escaping link stays an in-memory file
		// named passwd/x: links are never materialised.
		file("package/passwd/x", "written into the archive, not /etc"),
	))
	if got := paths(a); !slices.Equal(got, []string{"index.js", "passwd/x"}) {
		t.Errorf("files = %q", got)
	}
	want := map[string]bool{"package/passwd": true, "package/abs": true, "package/lib/alias.js": false, "package/lib/win": true,
		"package/hard": false, "package/hard-out": true, "package/hard-abs": true}
	for _, s := range a.Skipped {
		esc, ok := want[s.Name]
		if !ok || s.Escapes != esc || (s.Reason != ReasonSymlink && s.Reason != ReasonHardlink) {
			t.Errorf("skipped %+v", s)
		}
		delete(want, s.Name)
	}
	if len(want) != 0 {
		t.Errorf("not skipped: %v", want)
	}
	var escapes, inside int
	for _, w := range a.Warnings {
		switch w.Code {
		case WarnLinkEscapes:
			escapes++
		case WarnLink:
			inside++
		}
	}
	if escapes != 5 || inside != 2 {
		t.Errorf("warnings %v", a.Warnings)
	}
}

func TestLimits(t *testing.T) {
	pkg := npmPackage(t)
	tests := []struct {
		name  string
		data  []byte
		lim   Limits
		limit Limit
	}{
		{"compressed", pkg, Limits{MaxCompressed: 100}, LimitCompressed},
		{"uncompressed", pkg, Limits{MaxUncompressed: 2048}, LimitUncompressed},
		{"declared size over the budget", tgz(t, file("package/big", strings.Repeat("x", 10000))), Limits{MaxUncompressed: 8192}, LimitUncompressed},
		{"entries", pkg, Limits{MaxEntries: 4}, LimitEntries},
		{"path length", tgz(t, ent{Name: "package/" + strings.Repeat("a", 300), Body: "x", Format: tar.FormatPAX}), Limits{MaxPathLen: 200}, LimitPathLen},
		{"link length", tgz(t, ent{Name: "package/l", Type: tar.TypeSymlink, Link: strings.Repeat("../", 100), Format: tar.FormatPAX}), Limits{MaxPathLen: 200}, LimitPathLen},
		{"ratio", tgz(t, file("package/zeros", strings.Repeat("\x00", 4<<20))), Limits{}, LimitRatio},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := read(t, tt.data, tt.lim)
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tt.limit {
				t.Fatalf("err = %v, want a %s LimitError", err, tt.limit)
			}
			if !strings.HasPrefix(err.Error(), "tarball: ") || le.Value <= le.Max {
				t.Errorf("message %q (value %v, max %v)", err, le.Value, le.Max)
			}
		})
	}
	t.Run("file size: skipped with its head, not an error", func(t *testing.T) {
		elf := "\x7fELF\x02\x01\x01" + strings.Repeat("z", 10000)
		a, err := read(t, tgz(t, file("package/package.json", "{}"), file("package/bin/tool", elf)), Limits{MaxFileSize: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Files) != 1 || len(a.Skipped) != 1 {
			t.Fatalf("files %q skipped %+v", paths(a), a.Skipped)
		}
		s := a.Skipped[0]
		if s.Reason != ReasonTooLarge || s.Path != "bin/tool" || s.Size != int64(len(elf)) || string(s.Head) != elf[:headSize] {
			t.Errorf("skipped %+v", s)
		}
		if !a.HasWarning(WarnTooLarge) {
			t.Errorf("warnings %v", a.Warnings)
		}
	})
	t.Run("zero limits are the defaults", func(t *testing.T) {
		if got := (Limits{MaxRatio: -1}).withDefaults(); got != DefaultLimits() {
			t.Errorf("%+v", got)
		}
	})
}

func TestFormatErrors(t *testing.T) {
	pkg := npmPackage(t)
	tarOnly := tarOf(t, file("package/a.js", strings.Repeat("a", 3000)))
	corrupt := bytes.Clone(pkg)
	corrupt[len(corrupt)-6] ^= 0xff // inside the CRC-32
	sparsePAX := paxData("GNU.sparse.major", "1", "GNU.sparse.minor", "0", "GNU.sparse.name", "package/s", "GNU.sparse.realsize", "10")
	tests := []struct {
		name string
		data []byte
		kind error
	}{
		{"empty", nil, ErrFormat},
		{"text", []byte("<html>not found</html>"), ErrFormat},
		{"random block", bytes.Repeat([]byte{0xa5}, 1024), ErrFormat},
		{"zip", []byte("PK\x03\x04rest"), ErrFormat},
		{"xz", []byte("\xfd7zXZ\x00rest"), ErrFormat},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0}, ErrUnsupported},
		{"gzip header only", pkg[:5], ErrTruncated},
		{"gzip cut in the middle", pkg[:len(pkg)/2], ErrTruncated},
		{"gzip without its trailer", pkg[:len(pkg)-4], ErrTruncated},
		{"tar cut inside a file", gz(t, tarOnly[:blockSize+1000]), ErrTruncated},
		{"plain tar cut inside a file", tarOnly[:blockSize+1000], ErrTruncated},
		{"bad CRC", corrupt, ErrCorrupt},
		{"bad deflate", append(bytes.Clone(pkg[:10]), bytes.Repeat([]byte{0xff}, 64)...), ErrCorrupt},
		{"invalid tar header", gz(t, bytes.Repeat([]byte("x"), 1024)), ErrCorrupt},
		{"concatenated gzip members", append(bytes.Clone(pkg), gz(t, tarOf(t, file("package/index.js", "evil")))...), ErrTrailingData},
		{"garbage after gzip", append(bytes.Clone(pkg), "garbage"...), ErrTrailingData},
		{"sparse file", gz(t, rawTar(rawEntry(rawHeader("package/s", tar.TypeGNUSparse, 0, func(b []byte) {
			copy(b[257:265], "ustar  \x00")
			copy(b[483:495], "00000001000\x00")
		}), ""))), ErrUnsupported},
		{"PAX sparse file", gz(t, rawTar(
			rawEntry(rawHeader("x", tar.TypeXHeader, int64(len(sparsePAX)), nil), sparsePAX),
			rawEntry(rawHeader("package/GNUSparseFile.0/s", tar.TypeReg, 522, nil), "1\n0\n10\n"+strings.Repeat("\x00", 512-7)+"0123456789"),
		)), ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := read(t, tt.data, Limits{})
			var fe *FormatError
			if !errors.Is(err, tt.kind) || !errors.As(err, &fe) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			if !strings.HasPrefix(err.Error(), "tarball: ") {
				t.Errorf("message %q", err)
			}
		})
	}
	t.Run("bad CRC keeps the gzip error", func(t *testing.T) {
		if _, err := read(t, corrupt, Limits{}); !errors.Is(err, gzip.ErrChecksum) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestTolerated(t *testing.T) {
	t.Run("NULs after the gzip stream", func(t *testing.T) {
		a := mustRead(t, append(npmPackage(t), make([]byte, 4096)...))
		if len(a.Files) != 5 || !slices.Equal(codes(a), []WarningCode{WarnTrailingData}) {
			t.Errorf("files %q warnings %v", paths(a), a.Warnings)
		}
	})
	t.Run("data after the tar end marker", func(t *testing.T) {
		a := mustRead(t, gz(t, append(tarOf(t, file("package/a.js", "a")), "hidden after the end"...)))
		if len(a.Files) != 1 || !slices.Equal(codes(a), []WarningCode{WarnTrailingData}) {
			t.Errorf("files %q warnings %v", paths(a), a.Warnings)
		}
	})
	t.Run("no end marker", func(t *testing.T) {
		b := tarOf(t, file("package/a.js", "a"))
		a := mustRead(t, gz(t, b[:2*blockSize]))
		if len(a.Files) != 1 || len(a.Warnings) != 0 {
			t.Errorf("files %q warnings %v", paths(a), a.Warnings)
		}
	})
	t.Run("many warnings are capped", func(t *testing.T) {
		var es []ent
		for range maxWarnings + 10 {
			es = append(es, file("package/same.js", "x"))
		}
		a := mustRead(t, tgz(t, es...))
		if len(a.Warnings) != maxWarnings || a.WarningsDropped != 9 {
			t.Errorf("%d warnings, %d dropped", len(a.Warnings), a.WarningsDropped)
		}
	})
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestInputErrors(t *testing.T) {
	boom := errors.New("connection reset")
	pkg := npmPackage(t)
	_, err := Read(context.Background(), io.MultiReader(bytes.NewReader(pkg[:100]), failingReader{boom}), Limits{})
	var fe *FormatError
	if !errors.Is(err, boom) || errors.As(err, &fe) {
		t.Errorf("err = %v, want the input's error", err)
	}
	// Failing before the format can be recognised.
	_, err = Read(context.Background(), io.MultiReader(bytes.NewReader(pkg[:3]), failingReader{boom}), Limits{})
	if !errors.Is(err, boom) || errors.As(err, &fe) {
		t.Errorf("err = %v, want the input's error", err)
	}
}

// cancelAfter cancels a context once n bytes have been read through it.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, bytes.NewReader(npmPackage(t)), Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: %v", err)
	}
	// Cancelled in the middle of a long stream of entries.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	src := zeroFilesBomb(t, "package/f", 1<<20, 1000).open()
	_, err := Read(ctx, &cancelAfter{r: src, n: 4096, cancel: cancel}, Limits{MaxRatio: 1e9, MaxUncompressed: 1 << 40})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled during: %v", err)
	}
}

func TestGetWithoutIndex(t *testing.T) {
	a := &Archive{Files: []File{{Path: "a/b.js", Data: []byte("x")}}}
	if f, ok := a.Get("./a/b.js"); !ok || string(f.Data) != "x" {
		t.Error("Get on a hand-built Archive")
	}
	if _, err := a.PackageJSON(); !errors.Is(err, ErrNoPackageJSON) {
		t.Errorf("PackageJSON: %v", err)
	}
	a.Skipped = []Skipped{{Path: "package.json", Reason: ReasonTooLarge}}
	if _, err := a.PackageJSON(); !errors.Is(err, ErrNoPackageJSON) || !strings.Contains(err.Error(), "too-large") {
		t.Errorf("PackageJSON: %v", err)
	}
}
