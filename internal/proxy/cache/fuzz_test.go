package cache

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseIntegrity: any accepted integrity re-parses from its canonical
// form to the same key, and its file names hold only [a-z0-9-] and parse
// back.
func FuzzParseIntegrity(f *testing.F) {
	data := []byte("seed")
	for _, s := range []string{
		sha512SRI(data), sha1SRI(data), sha1SRI(data) + " " + sha512SRI(data), "md5-AAAA", "",
		"sha512-../../x", hex.EncodeToString(make([]byte, 20)), sha512SRI(data) + "?opt", "sha1-\n" + sha1SRI(data)[5:],
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := parseIntegrity(s)
		if err != nil {
			return
		}
		back, err := parseIntegrity(k.String())
		if err != nil || back.alg != k.alg || !bytes.Equal(back.digest, k.digest) {
			t.Fatalf("canonical form %q of %q does not round-trip: %v", k.String(), s, err)
		}
		name := tarballFileName(k, 42)
		if strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Fatalf("file name %q holds other characters", name)
		}
		nk, size, err := parseTarballFileName(name)
		if err != nil || nk.String() != k.String() || size != 42 {
			t.Fatalf("file name %q does not parse back: %v", name, err)
		}
	})
}

// FuzzParseTarballFileName: an accepted name is exactly the name its parse
// would produce, so a directory cannot hold two names for one tarball.
func FuzzParseTarballFileName(f *testing.F) {
	k, _ := parseIntegrity(sha512SRI([]byte("seed")))
	for _, s := range []string{tarballFileName(k, 0), tarballFileName(k, 123456), "sha1-00-1", "x", ".tmp-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		k, size, err := parseTarballFileName(name)
		if err != nil {
			return
		}
		if again := tarballFileName(k, size); again != name {
			t.Fatalf("%q parses to a key named %q", name, again)
		}
	})
}

// FuzzParseSidecar: an accepted sidecar re-encodes to one that parses to
// the same metadata (what PutDocument writes, Open reads back).
func FuzzParseSidecar(f *testing.F) {
	good, _ := encodeSidecar(sampleMeta())
	f.Add(good, sampleMeta().Key)
	f.Add([]byte(`{"v":1,"key":"k","gen":"0000000000000000","size":0,"fetchedAt":"0001-01-01T00:00:00Z"}`), "k")
	f.Add([]byte(`{"v":1,"key":"k\u0000","gen":"0000000000000000","size":9223372036854775807,"fetchedAt":"2026-01-01T00:00:00+14:00"}`), "k\x00")
	if golden, err := os.ReadFile(filepath.Join("testdata", "sidecar.golden.json")); err == nil {
		f.Add(golden, sampleMeta().Key)
	}
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		m, err := parseSidecar("f.meta", keyHash(key), data)
		if err != nil {
			return
		}
		enc, err := encodeSidecar(m)
		if err != nil {
			t.Fatalf("accepted sidecar does not encode: %v", err)
		}
		back, err := parseSidecar("f.meta", keyHash(key), enc)
		if err != nil {
			t.Fatalf("re-encoded sidecar %s does not parse: %v", enc, err)
		}
		if !back.FetchedAt.Equal(m.FetchedAt) {
			t.Fatalf("FetchedAt %v became %v", m.FetchedAt, back.FetchedAt)
		}
		back.FetchedAt = m.FetchedAt
		if *back != *m {
			t.Fatalf("sidecar changed on a round trip: %+v → %+v", m, back)
		}
		if !isBodyFileName(bodyFileName(keyHash(key), m.Gen)) {
			t.Fatalf("generation %q makes an unrecognised body name", m.Gen)
		}
	})
}
