package cache

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func sampleMeta() *docMeta {
	return &docMeta{
		Version: sidecarVersion, Key: "https://registry.npmjs.org|@scope/pkg|full", Gen: "0123456789abcdef", Size: 1234,
		ContentType: "application/json", ETag: `W/"abc"`, LastModified: "Tue, 01 Dec 2026 10:00:00 GMT",
		FetchedAt: time.Date(2026, 12, 1, 10, 0, 5, 123456789, time.UTC),
	}
}

// TestSidecarGolden pins the on-disk sidecar format: a change that breaks
// reading caches written by earlier versions shows up here.
func TestSidecarGolden(t *testing.T) {
	golden := filepath.Join("testdata", "sidecar.golden.json")
	got, err := encodeSidecar(sampleMeta())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("sidecar encoding changed:\n got %s\nwant %s", got, want)
	}
	m, err := parseSidecar(golden, keyHash(sampleMeta().Key), want)
	if err != nil {
		t.Fatalf("golden sidecar does not parse: %v", err)
	}
	if *m != *sampleMeta() {
		t.Errorf("golden sidecar parsed as %+v", m)
	}
}

func TestParseSidecarRejects(t *testing.T) {
	good, err := encodeSidecar(sampleMeta())
	if err != nil {
		t.Fatal(err)
	}
	hash := keyHash(sampleMeta().Key)
	replace := func(old, new string) []byte { return []byte(strings.Replace(string(good), old, new, 1)) }
	tests := []struct {
		name     string
		data     []byte
		hash     string
		wantText string // in the error
	}{
		{"empty", nil, hash, "EOF"},
		{"not JSON", []byte("\x00\x01garbage"), hash, "invalid character"},
		{"truncated", good[:len(good)/2], hash, "unexpected EOF"},
		{"unknown field", replace(`"v":1`, `"v":1,"extra":true`), hash, "unknown field"},
		{"trailing data", append(append([]byte{}, good...), "{}"...), hash, "data after"},
		{"trailing brace", append(append([]byte{}, good...), "}"...), hash, "data after"},
		{"version 2", replace(`"v":1`, `"v":2`), hash, "version 2"},
		{"another key's name", good, keyHash("other"), "not to the file's name"},
		{"empty key", replace(`"key":"https://registry.npmjs.org|@scope/pkg|full"`, `"key":""`), keyHash(""), "empty"},
		{"short generation", replace(`0123456789abcdef`, `0123`), hash, "generation"},
		{"path in generation", replace(`0123456789abcdef`, `../../../../etc/`), hash, "generation"},
		{"upper-case generation", replace(`0123456789abcdef`, `0123456789ABCDEF`), hash, "generation"},
		{"negative size", replace(`"size":1234`, `"size":-1`), hash, "negative size"},
		{"size not a number", replace(`"size":1234`, `"size":"1234"`), hash, "cannot unmarshal"},
		{"bad time", replace(`2026-12-01T10:00:05.123456789Z`, `yesterday`), hash, "parsing time"},
		{"huge ETag", replace(`W/\"abc\"`, strings.Repeat("e", maxHeaderLen+1)), hash, "ETag is"},
		{"too large", append(append([]byte{}, good...), bytes.Repeat([]byte(" "), maxSidecarSize)...), hash, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseSidecar("x.meta", tt.hash, tt.data)
			if err == nil {
				t.Fatalf("accepted: %+v", m)
			}
			if !strings.Contains(err.Error(), tt.wantText) || !strings.HasPrefix(err.Error(), "x.meta: ") {
				t.Errorf("error %q: want the file name and %q", err, tt.wantText)
			}
		})
	}
}
