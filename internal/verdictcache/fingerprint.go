package verdictcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/tarball"
)

// EngineVersion names the analysis engine's behaviour beyond what
// Fingerprint can see: bump it when fact extraction, a rule's logic or the
// archive reader changes without any rule's metadata, weight or
// combination changing, so verdicts of the old logic are not served.
const EngineVersion = "2026-11-29.1"

// Fingerprint identifies the analysis engine whose verdicts may be shared:
// EngineVersion, every rule's id, name, severity and category, the
// severity weights, the verdict thresholds, the combinations and the
// default archive limits, plus any extra strings (the binary's version).
// Adding, removing or re-weighting a rule changes it, and with it every
// cache key.
func Fingerprint(rs []*rules.Rule, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "engine %s\n", EngineVersion)
	for _, e := range extra {
		fmt.Fprintf(&b, "extra %q\n", e)
	}
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, fmt.Sprintf("rule %q %q %s %s\n", r.ID, r.Name, r.Severity, r.Category))
	}
	slices.Sort(ids)
	for _, line := range ids {
		b.WriteString(line)
	}
	sevs := make([]string, 0, len(analyze.Weights))
	for s, w := range analyze.Weights {
		sevs = append(sevs, fmt.Sprintf("weight %s %d\n", s, w))
	}
	slices.Sort(sevs)
	for _, line := range sevs {
		b.WriteString(line)
	}
	fmt.Fprintf(&b, "thresholds %d %d\n", analyze.SuspiciousAt, analyze.MaliciousAt)
	for _, c := range analyze.Combinations {
		fmt.Fprintf(&b, "combination %q %d %t", c.Name, c.Points, c.InstallTime)
		for _, g := range c.All {
			fmt.Fprintf(&b, " [%s %v]", g.Min, g.Cats)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "limits %+v\n", tarball.DefaultLimits())
	sum := sha256.Sum256([]byte(b.String()))
	return "vgl-engine-" + hex.EncodeToString(sum[:16])
}

// DefaultDir is where verdicts are kept: $VIGIL_CACHE_DIR when set (tests
// and CI point it at a scratch folder), else <user cache dir>/vigil/analyze
// (~/.cache/vigil/analyze on Linux).
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("VIGIL_CACHE_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("verdict cache: no user cache folder (set VIGIL_CACHE_DIR): %w", err)
	}
	return filepath.Join(base, "vigil", "analyze"), nil
}
