package cli

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/tarball"
)

// npmCache reads tarballs from npm's content-addressed cache (cacache):
// <dir>/content-v2/<algorithm>/<2 hex>/<2 hex>/<rest of the hex digest>,
// where dir is the _cacache folder. It only reads — npm owns the folder —
// and returns bytes only when they hash to the integrity asked for, so a
// damaged or tampered entry is never analysed in place of the real one.
type npmCache struct {
	dir string // "" when there is none
}

// npmCacheDir is the _cacache folder to read: --npm-cache, else npm's own
// setting ($npm_config_cache, which npm also reads), else ~/.npm/_cacache.
func npmCacheDir(e *env, flag string) string {
	if flag != "" {
		return flag
	}
	if d := e.getenv("npm_config_cache"); d != "" {
		return filepath.Join(d, "_cacache")
	}
	if d := e.getenv("NPM_CONFIG_CACHE"); d != "" {
		return filepath.Join(d, "_cacache")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".npm", "_cacache")
}

// contentPath is where cacache keeps the content with this digest. The
// algorithm comes from npm.ParseIntegrity's closed list and the digest is
// hex, so the path never leaves dir.
func (c npmCache) contentPath(i npm.Integrity) (string, error) {
	if len(i.Digest) < 3 {
		return "", fmt.Errorf("integrity %q: digest too short", i.String())
	}
	switch i.Algorithm {
	case "sha1", "sha256", "sha384", "sha512":
	default:
		return "", fmt.Errorf("integrity %q: unknown algorithm", i.String())
	}
	h := hex.EncodeToString(i.Digest)
	return filepath.Join(c.dir, "content-v2", i.Algorithm, h[:2], h[2:4], h[4:]), nil
}

// read returns the content with integrity i, its path, and an error
// wrapping fs.ErrNotExist when the cache does not hold it. Content over max
// bytes or whose digest differs is an error.
func (c npmCache) read(i npm.Integrity, max int64) ([]byte, string, error) {
	p, err := c.contentPath(i)
	if err != nil {
		return nil, "", err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, p, err
	}
	defer f.Close()
	h := newDigest(i.Algorithm)
	data, err := io.ReadAll(io.TeeReader(io.LimitReader(f, max+1), h))
	if err != nil {
		return nil, p, fmt.Errorf("reading %s: %w", p, err)
	}
	if int64(len(data)) > max {
		return nil, p, &tarball.LimitError{Limit: tarball.LimitCompressed, Max: float64(max), Value: float64(len(data))}
	}
	if got := h.Sum(nil); subtle.ConstantTimeCompare(got, i.Digest) != 1 {
		return nil, p, fmt.Errorf("%s: content does not match its integrity %s (got %s-%s)", p, i.String(), i.Algorithm, hex.EncodeToString(got))
	}
	return data, p, nil
}

func newDigest(alg string) hash.Hash {
	switch alg {
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	case "sha384":
		return sha512.New384()
	}
	return sha512.New()
}
