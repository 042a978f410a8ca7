package npm

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Integrity is one Subresource Integrity hash as npm records it
// ("sha512-<base64>") or a legacy hex sha1 shasum.
type Integrity struct {
	Algorithm string // sha512, sha384, sha256 or sha1
	Digest    []byte
}

var digestSize = map[string]int{"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}

// ParseIntegrity parses an SRI string. When it lists several hashes
// (space-separated), the strongest is returned. A 40-character hex string is
// taken as a sha1 shasum, as yarn v1 records them in resolved URL fragments.
func ParseIntegrity(s string) (Integrity, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Integrity{}, fmt.Errorf("empty integrity")
	}
	if len(s) == 40 && !strings.Contains(s, "-") {
		d, err := hex.DecodeString(s)
		if err == nil {
			return Integrity{Algorithm: "sha1", Digest: d}, nil
		}
	}
	var best Integrity
	for _, field := range strings.Fields(s) {
		alg, b64, ok := strings.Cut(field, "-")
		if !ok {
			return Integrity{}, fmt.Errorf("integrity %q: want ALGORITHM-BASE64", field)
		}
		size, known := digestSize[alg]
		if !known {
			return Integrity{}, fmt.Errorf("integrity %q: unknown algorithm %q", field, alg)
		}
		if i := strings.IndexByte(b64, '?'); i >= 0 { // SRI options
			b64 = b64[:i]
		}
		d, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return Integrity{}, fmt.Errorf("integrity %q: %w", field, err)
		}
		if len(d) != size {
			return Integrity{}, fmt.Errorf("integrity %q: %s digest has %d bytes, want %d", field, alg, len(d), size)
		}
		if best.Algorithm == "" || digestSize[alg] > digestSize[best.Algorithm] {
			best = Integrity{Algorithm: alg, Digest: d}
		}
	}
	return best, nil
}

// String renders the SRI form, e.g. "sha512-…".
func (i Integrity) String() string {
	if i.Algorithm == "" {
		return ""
	}
	return i.Algorithm + "-" + base64.StdEncoding.EncodeToString(i.Digest)
}

// Strong reports whether the hash is SHA-512, the algorithm npm has used
// since npm 5; sha1 is broken and weaker SRI algorithms are unusual.
func (i Integrity) Strong() bool { return i.Algorithm == "sha512" }
