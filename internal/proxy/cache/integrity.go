package cache

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidIntegrity is returned for an integrity string the cache will not
// use as a tarball's address.
var ErrInvalidIntegrity = errors.New("invalid integrity")

// maxIntegrityLen bounds what parseIntegrity looks at; a real SRI string
// with every algorithm listed is under 300 bytes.
const maxIntegrityLen = 1024

// digestSizes are the SRI algorithms a tarball may be addressed by, with
// their digest sizes. npm writes sha512 (and sha1 for packages published
// before npm 5); sha256 and sha384 are valid SRI and cost nothing to allow.
var digestSizes = map[string]int{"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}

// tarballKey is a parsed, validated integrity: the address of a tarball.
type tarballKey struct {
	alg    string
	digest []byte
}

// String renders the canonical SRI form ("sha512-<base64>").
func (k tarballKey) String() string {
	return k.alg + "-" + base64.StdEncoding.EncodeToString(k.digest)
}

// stem is the file name without the size suffix: only [a-z0-9-].
func (k tarballKey) stem() string { return k.alg + "-" + hex.EncodeToString(k.digest) }

// id is the key of the tarball in the cache's index.
func (k tarballKey) id() string { return "t/" + k.stem() }

// parseIntegrity validates an integrity string strictly. It accepts one or
// more space-separated SRI tokens ("sha512-<base64>"), each with a known
// algorithm, canonical padded standard base64 (no line breaks, zero padding
// bits) and the algorithm's digest length, and returns the strongest; or a
// 40-digit hex SHA-1 shasum, as packuments record for old versions. SRI
// options ("?…"), other whitespace and conflicting digests for one
// algorithm are refused.
func parseIntegrity(s string) (tarballKey, error) {
	if s == "" {
		return tarballKey{}, fmt.Errorf("%w: empty", ErrInvalidIntegrity)
	}
	if len(s) > maxIntegrityLen {
		return tarballKey{}, fmt.Errorf("%w: %d bytes long", ErrInvalidIntegrity, len(s))
	}
	if len(s) == 2*digestSizes["sha1"] && !strings.Contains(s, "-") {
		d, err := hex.DecodeString(s)
		if err != nil {
			return tarballKey{}, fmt.Errorf("%w: %q is neither SRI nor a hex shasum", ErrInvalidIntegrity, s)
		}
		return tarballKey{alg: "sha1", digest: d}, nil
	}
	var best tarballKey
	for token := range strings.SplitSeq(s, " ") {
		k, err := parseSRIToken(token)
		if err != nil {
			return tarballKey{}, err
		}
		switch {
		case best.alg == "" || digestSizes[k.alg] > digestSizes[best.alg]:
			best = k
		case k.alg == best.alg && !bytes.Equal(k.digest, best.digest):
			return tarballKey{}, fmt.Errorf("%w: two different %s digests", ErrInvalidIntegrity, k.alg)
		}
	}
	return best, nil
}

func parseSRIToken(token string) (tarballKey, error) {
	alg, b64, ok := strings.Cut(token, "-")
	if !ok {
		return tarballKey{}, fmt.Errorf("%w: %q: want ALGORITHM-BASE64", ErrInvalidIntegrity, token)
	}
	size, known := digestSizes[alg]
	if !known {
		return tarballKey{}, fmt.Errorf("%w: %q: unknown algorithm %q", ErrInvalidIntegrity, token, alg)
	}
	// base64 decoding skips CR and LF even in strict mode; comparing the
	// length with the canonical encoding's rules them (and anything else
	// non-canonical) out.
	if len(b64) != base64.StdEncoding.EncodedLen(size) {
		return tarballKey{}, fmt.Errorf("%w: %q: a %s digest is %d base64 characters, not %d",
			ErrInvalidIntegrity, token, alg, base64.StdEncoding.EncodedLen(size), len(b64))
	}
	d, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(d) != size {
		return tarballKey{}, fmt.Errorf("%w: %q: not canonical base64", ErrInvalidIntegrity, token)
	}
	return tarballKey{alg: alg, digest: d}, nil
}

// tarballFileName names a committed tarball: its key and its size, so that
// a file truncated behind the cache's back is recognised by a stat.
func tarballFileName(k tarballKey, size int64) string {
	return k.stem() + "-" + strconv.FormatInt(size, 10)
}

// parseTarballFileName is the inverse of tarballFileName; it accepts only
// what tarballFileName produces.
func parseTarballFileName(name string) (tarballKey, int64, error) {
	alg, rest, ok := strings.Cut(name, "-")
	if !ok {
		return tarballKey{}, 0, fmt.Errorf("tarball file %q: no algorithm", name)
	}
	size, known := digestSizes[alg]
	if !known {
		return tarballKey{}, 0, fmt.Errorf("tarball file %q: unknown algorithm %q", name, alg)
	}
	hexDigest, sizeText, ok := strings.Cut(rest, "-")
	if !ok || len(hexDigest) != 2*size || strings.ToLower(hexDigest) != hexDigest {
		return tarballKey{}, 0, fmt.Errorf("tarball file %q: want %s-<%d lowercase hex digits>-<size>", name, alg, 2*size)
	}
	d, err := hex.DecodeString(hexDigest)
	if err != nil {
		return tarballKey{}, 0, fmt.Errorf("tarball file %q: %w", name, err)
	}
	n, err := strconv.ParseInt(sizeText, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != sizeText {
		return tarballKey{}, 0, fmt.Errorf("tarball file %q: size %q is not a canonical decimal", name, sizeText)
	}
	return tarballKey{alg: alg, digest: d}, n, nil
}
