package cache

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParseIntegrity(t *testing.T) {
	data := []byte("tarball bytes")
	s512 := sha512SRI(data)
	s1 := sha1SRI(data)
	sum256 := sha256.Sum256(data)
	s256 := "sha256-" + base64.StdEncoding.EncodeToString(sum256[:])
	b64 := strings.TrimPrefix(s512, "sha512-")
	hexSHA1 := func() string {
		d, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s1, "sha1-"))
		return hex.EncodeToString(d)
	}()
	withPlusOrSlash := s512
	for i := 0; !strings.ContainsAny(withPlusOrSlash, "+/"); i++ {
		withPlusOrSlash = sha512SRI([]byte{byte(i)})
	}
	// Flip the last base64 digit's low bits: same bytes under lax decoding,
	// refused under strict decoding (non-zero padding bits).
	nonCanonical := s512[:len(s512)-3] + string(rune(s512[len(s512)-3]+1)) + "=="

	tests := []struct {
		name, in string
		want     string // canonical SRI; "" when an error is expected
		wantStem string
	}{
		{"sha512", s512, s512, ""},
		{"sha1 SRI", s1, s1, ""},
		{"sha256", s256, s256, ""},
		{"hex shasum", hexSHA1, s1, "sha1-" + hexSHA1},
		{"upper-case hex shasum", strings.ToUpper(hexSHA1), s1, "sha1-" + hexSHA1},
		{"strongest of several", s1 + " " + s512, s512, ""},
		{"same digest twice", s512 + " " + s512, s512, ""},

		{"empty", "", "", ""},
		{"unknown algorithm", "md5-" + b64, "", ""},
		{"upper-case algorithm", "SHA512-" + b64, "", ""},
		{"no dash", "sha512" + b64, "", ""},
		{"short digest", "sha512-" + b64[:84] + "==", "", ""},
		{"digest of another algorithm", "sha512-" + strings.TrimPrefix(s1, "sha1-"), "", ""},
		{"unpadded", strings.TrimSuffix(s512, "=="), "", ""},
		{"URL alphabet", strings.NewReplacer("+", "-", "/", "_").Replace(withPlusOrSlash), "", ""},
		{"line break in base64", s512[:20] + "\n" + s512[20:len(s512)-1], "", ""},
		{"non-zero padding bits", nonCanonical, "", ""},
		{"SRI options", s512 + "?foo", "", ""},
		{"leading space", " " + s512, "", ""},
		{"trailing newline", s512 + "\n", "", ""},
		{"two spaces", s1 + "  " + s512, "", ""},
		{"tab separator", s1 + "\t" + s512, "", ""},
		{"conflicting digests", s512 + " " + sha512SRI([]byte("other")), "", ""},
		{"path traversal", "sha512-../../../../etc/passwd", "", ""},
		{"slash digest", "sha512-" + strings.Repeat("/", 85) + "w==", "", ""}, // valid base64: / is a digit
		{"40 characters, not hex", strings.Repeat("z", 40), "", ""},
		{"too long", strings.Repeat(s512+" ", 20), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := parseIntegrity(tt.in)
			if tt.name == "slash digest" { // all-slash is a valid digest: it must come out as hex
				if err != nil {
					t.Fatalf("parseIntegrity: %v", err)
				}
				if strings.ContainsAny(k.stem(), "/.") {
					t.Fatalf("stem %q holds path characters", k.stem())
				}
				return
			}
			if tt.want == "" {
				if err == nil {
					t.Fatalf("parseIntegrity(%q) = %s, want an error", tt.in, k)
				}
				if !errors.Is(err, ErrInvalidIntegrity) {
					t.Fatalf("error %v does not wrap ErrInvalidIntegrity", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseIntegrity(%q): %v", tt.in, err)
			}
			if got := k.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if tt.wantStem != "" && k.stem() != tt.wantStem {
				t.Errorf("stem %s, want %s", k.stem(), tt.wantStem)
			}
		})
	}
}

func TestTarballFileName(t *testing.T) {
	k, err := parseIntegrity(sha512SRI([]byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	name := tarballFileName(k, 1234)
	back, size, err := parseTarballFileName(name)
	if err != nil || back.String() != k.String() || size != 1234 {
		t.Fatalf("round trip of %s: %s, %d, %v", name, back, size, err)
	}
	stem := k.stem()
	for _, bad := range []string{
		"", stem, stem + "-", stem + "-01", stem + "--1", stem + "-+1", stem + "-1x", stem + "-99999999999999999999",
		strings.ToUpper(stem) + "-1", "md5-" + stem[7:] + "-1", "sha512-" + stem[8:] + "-1", stem + "-1-2",
	} {
		if _, _, err := parseTarballFileName(bad); err == nil {
			t.Errorf("parseTarballFileName(%q) accepted", bad)
		}
	}
}
