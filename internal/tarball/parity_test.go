package tarball

import (
	"archive/tar"
	"errors"
	"strings"
	"testing"
)

// TestParity: archives that archive/tar and node-tar would frame or name
// differently are refused, so that a file cannot be hidden from the
// analysis while npm installs it. Each case also says what npm would see.
type parityCase struct {
	name string
	tar  []byte
	why  string // in the error message
}

// parityCases are archives that archive/tar and node-tar read
// differently; TestAgainstNodeTar confirms each against node-tar itself.
// Most smuggle package/evil.js past one of the two readers.
func parityCases(t testing.TB) []parityCase {
	body := "hello"
	file5 := func(fix func(b []byte)) []byte { return rawEntry(rawHeader("package/a.js", tar.TypeReg, 5, fix), body) }
	evil := string(rawEntry(rawHeader("package/evil.js", tar.TypeReg, 4, nil), "EVIL"))
	// hiding declares 1024 bytes of data holding evil.js's header and data.
	hiding := func(name string, typ byte, fix func(b []byte)) []byte {
		return rawEntry(rawHeader(name, typ, 1024, fix), evil)
	}
	signed := rawHeader("package/é.js", tar.TypeReg, 1024, nil)
	setChecksum(signed, true)
	pax := func(typ byte, data string) []byte {
		return rawEntry(rawHeader("PaxHeader", typ, int64(len(data)), nil), data)
	}
	return []parityCase{
		{"signed checksum", rawTar(rawEntry(signed, evil)), "signed"},
		{"size with a leading NUL", rawTar(hiding("package/a.js", tar.TypeReg, func(b []byte) { copy(b[124:136], "\x000000002000\x00") })), "size field"},
		{"base-256 field node-tar rejects", rawTar(hiding("package/a.js", tar.TypeReg, func(b []byte) { copy(b[100:108], []byte{0x81, 0, 0, 0, 0, 0, 1, 0xa4}) })), "base-256"},
		{"linkname on a file", rawTar(hiding("package/a.js", tar.TypeReg, func(b []byte) { copy(b[157:], "elsewhere") })), "link target"},
		{"symlink with data", rawTar(hiding("package/l", tar.TypeSymlink, func(b []byte) { copy(b[157:], "x") })), "declares 1024 bytes"},
		{"type 0 directory with data", rawTar(hiding("package/d/", tar.TypeReg, nil)), "ends in"},
		{"data without a name", rawTar(hiding("", tar.TypeReg, nil)), "without a name"},
		// node-tar gives a.js the global size and reads evil.js as its data.
		{"global PAX size", rawTar(pax(tar.TypeXGlobalHeader, paxData("size", "1024")), rawEntry(rawHeader("package/a.js", tar.TypeReg, 0, nil), ""), []byte(evil)), "global PAX"},
		{"PAX value with a newline", rawTar(pax(tar.TypeXHeader, paxData("path", "package/evil.js\nx")), file5(nil)), "newline"},
		{"two PAX headers", rawTar(pax(tar.TypeXHeader, paxData("path", "package/evil.js")), pax(tar.TypeXHeader, paxData("mtime", "1")), file5(nil)), "two"},
		{"GNU long name then PAX", rawTar(pax(tar.TypeGNULongName, "package/c.js\x00"), pax(tar.TypeXHeader, paxData("path", "package/evil.js")), file5(nil)), "precedence"},
		{"long-name size read differently", rawTar(rawEntry(rawHeader("././@LongLink", tar.TypeGNULongName, 13, func(b []byte) {
			copy(b[124:136], "\x000000000015\x00")
		}), "package/c.js\x00"), file5(nil)), "size field"},
		{"star prefix", rawTar(rawEntry(rawHeader("a.js", tar.TypeReg, 5, func(b []byte) {
			copy(b[345:476], "package/"+strings.Repeat("p", 123))
			copy(b[476:488], "14000000000\x00")
			copy(b[508:512], "tar\x00")
		}), body)), "node-tar"},
		{"prefix without the ustar version", rawTar(rawEntry(rawHeader("a.js", tar.TypeReg, 5, func(b []byte) {
			copy(b[257:265], "ustar\x00\x00\x00")
			copy(b[345:], "package")
		}), body)), "node-tar"},
	}
}

// TestParity: archives that archive/tar and node-tar would frame or name
// differently are refused, so that a file cannot be hidden from the
// analysis while npm installs it.
func TestParity(t *testing.T) {
	body := "hello"
	file5 := func(fix func(b []byte)) []byte { return rawEntry(rawHeader("package/a.js", tar.TypeReg, 5, fix), body) }
	pax := func(typ byte, data string) []byte {
		return rawEntry(rawHeader("PaxHeader", typ, int64(len(data)), nil), data)
	}
	tests := parityCases(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := read(t, gz(t, tt.tar), Limits{})
			if !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("err = %v, want ErrAmbiguous mentioning %q", err, tt.why)
			}
		})
	}

	// The same shapes, written the way both readers agree on, are fine.
	fine := []struct {
		name string
		tar  []byte
		path string
	}{
		{"unsigned checksum with UTF-8", rawTar(rawEntry(rawHeader("package/é.js", tar.TypeReg, 5, nil), body)), "é.js"},
		{"directory with a size", rawTar(rawEntry(rawHeader("package/d/", tar.TypeDir, 100, nil), ""), file5(nil)), "a.js"},
		{"PAX path", rawTar(pax(tar.TypeXHeader, paxData("path", "package/b.js")), file5(nil)), "b.js"},
		{"GNU long name", rawTar(pax(tar.TypeGNULongName, "package/c.js\x00"), file5(nil)), "c.js"},
		{"size with spaces", rawTar(file5(func(b []byte) { copy(b[124:136], "         5 \x00") })), "a.js"},
		{"base-256 size", rawTar(file5(func(b []byte) { copy(b[124:136], []byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}) })), "a.js"},
		{"ustar prefix", rawTar(rawEntry(rawHeader("a.js", tar.TypeReg, 5, func(b []byte) { copy(b[345:], "package") }), body)), "a.js"},
	}
	for _, tt := range fine {
		t.Run("ok/"+tt.name, func(t *testing.T) {
			a, err := read(t, gz(t, tt.tar), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if f, ok := a.Get(tt.path); !ok || string(f.Data) != body {
				t.Errorf("files %q", paths(a))
			}
		})
	}
}

func TestNumbers(t *testing.T) {
	tests := []struct {
		field      string
		goV, nodeV int64
		goOK, ok   bool
	}{
		{"00000000012\x00", 10, 10, true, true},
		{"12", 10, 10, true, true},
		{"  12  ", 10, 10, true, true},
		{"\x0012", 10, 0, true, false},
		{"12\x0034", 10, 10, true, true},
		{"", 0, 0, true, false},
		{"1 2", 0, 1, false, true},
		{"-1", 0, 0, false, false},
		{"-0", 0, 0, false, true},
		{"+7", 0, 7, false, true},
		{"0x10", 0, 0, false, true},
		{"\t12", 0, 10, false, true},
		{"9", 0, 0, false, false},
		{"\x80\x00\x00\x01\x00", 256, 256, true, true},
		{"\xff\xff\xff\xff", -1, -1, true, false},
	}
	for _, tt := range tests {
		g, gok := goNumber([]byte(tt.field))
		n, ok := nodeNumber([]byte(tt.field))
		if gok != tt.goOK || gok && g != tt.goV || ok != tt.ok || ok && n != tt.nodeV {
			t.Errorf("%q: go %d %v, node %d %v", tt.field, g, gok, n, ok)
		}
	}
	if !nodeThrows([]byte{0x81, 0, 0}) || nodeThrows([]byte{0x80, 0, 1}) || nodeThrows([]byte("123")) {
		t.Error("nodeThrows")
	}
	if !nodeThrows(append([]byte{0x80}, []byte{0x40, 0, 0, 0, 0, 0, 0, 0}...)) {
		t.Error("nodeThrows: values past 2^53 throw")
	}
}

func TestNodeName(t *testing.T) {
	blocks := [][]byte{
		rawHeader("package/a.js", tar.TypeReg, 0, nil),
		rawHeader("a.js", tar.TypeReg, 0, func(b []byte) { copy(b[345:], "package/lib") }),
		rawHeader("a.js", tar.TypeReg, 0, func(b []byte) { b[475] = 'x' }), // empty prefix, joined: "/a.js"
		rawHeader("a.js", tar.TypeReg, 0, func(b []byte) { copy(b[345:500], strings.Repeat("p", 155)) }),
		rawHeader("a.js", tar.TypeReg, 0, func(b []byte) { clear(b[257:]); copy(b[345:], "ignored") }),
	}
	want := []string{"package/a.js", "package/lib/a.js", "/a.js", strings.Repeat("p", 155) + "/a.js", "a.js"}
	for i, b := range blocks {
		if got := nodeName(b); got != want[i] {
			t.Errorf("nodeName #%d = %q, want %q", i, got, want[i])
		}
		if !nodeNameIs(b, want[i]) || nodeNameIs(b, want[i]+"x") || nodeNameIs(b, "x"+want[i]) {
			t.Errorf("nodeNameIs #%d", i)
		}
	}
}
