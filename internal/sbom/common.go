package sbom

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
)

// ctxCheckEvery is how many components or packages a reader handles
// between two looks at its context.
const ctxCheckEvery = 256

// maxNesting bounds how deep CycloneDX components may nest. Real BOMs nest
// a handful of levels; the bound keeps hostile input from recursing without
// end.
const maxNesting = 64

// npmPURL is what an SBOM says about one npm package: its purl read back.
type npmPURL struct {
	name, version string
	vcsURL        string // the vcs_url qualifier (npm sbom writes it for git dependencies)
	downloadURL   string // the download_url qualifier
}

// isNPMPURL is a cheap test: does s claim to be an npm purl? The purl type
// is case-insensitive ("pkg:NPM/x" is valid).
func isNPMPURL(s string) bool {
	return len(s) >= 8 && strings.EqualFold(s[:8], "pkg:npm/")
}

// parseNPMPURL reads an npm purl. Both the encoded namespace the purl
// specification requires (pkg:npm/%40scope/name@1.0.0) and the unencoded
// "@scope" many tools write are accepted. The error says what is wrong; the
// caller adds where.
func parseNPMPURL(s string) (npmPURL, error) {
	s = "pkg:npm/" + s[8:]
	name, version, ok := npm.ParsePURL(s)
	if !ok {
		return npmPURL{}, fmt.Errorf("malformed npm purl %q", s)
	}
	if err := npm.ValidateName(name); err != nil {
		return npmPURL{}, fmt.Errorf("purl %q: %w", s, err)
	}
	p := npmPURL{name: name, version: version}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		q := s[i+1:]
		if j := strings.IndexByte(q, '#'); j >= 0 {
			q = q[:j]
		}
		for _, kv := range strings.Split(q, "&") {
			k, v, _ := strings.Cut(kv, "=")
			// PathUnescape, not QueryUnescape: a literal '+' (git+https)
			// is a plus, not a space, in a purl.
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
			switch strings.ToLower(k) {
			case "vcs_url":
				p.vcsURL = v
			case "download_url":
				p.downloadURL = v
			}
		}
	}
	return p, nil
}

// hashRank orders the algorithms npm's SRI strings can hold, strongest
// last; others (MD5, SHA-3, BLAKE) cannot be compared with npm's integrity
// and are ignored.
var hashRank = map[string]int{"sha1": 1, "sha256": 2, "sha384": 3, "sha512": 4}

// sriAlgorithm maps an SBOM's algorithm name (CycloneDX "SHA-512", SPDX
// "SHA512", either case) to the SRI one ("sha512"), or "" if npm has no
// use for it.
func sriAlgorithm(alg string) string {
	a := strings.ToLower(strings.ReplaceAll(alg, "-", ""))
	if _, ok := hashRank[a]; ok {
		return a
	}
	return ""
}

// digestSize is the byte length of each digest, to reject truncated hex.
var digestSize = map[string]int{"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}

type hexHash struct {
	alg, hex string
	index    int // position in the SBOM's list, for messages
}

// integrityFromHex turns the strongest npm-usable hex digest into an SRI
// string ("sha512-<base64>"). A digest of a known algorithm that is not
// valid hex of the right length is an error: an SBOM that mangles hashes
// cannot be trusted to vouch for a tarball.
func integrityFromHex(hashes []hexHash) (string, *hexHash, error) {
	var best *hexHash
	var bestAlg string
	for i := range hashes {
		h := &hashes[i]
		alg := sriAlgorithm(h.alg)
		if alg == "" {
			continue
		}
		d, err := hex.DecodeString(strings.TrimSpace(h.hex))
		if err != nil || len(d) != digestSize[alg] {
			return "", h, fmt.Errorf("expected a %s digest of %d hex digits, found %q", h.alg, 2*digestSize[alg], truncate(h.hex, 40))
		}
		if best == nil || hashRank[alg] > hashRank[bestAlg] {
			best, bestAlg = h, alg
		}
	}
	if best == nil {
		return "", nil, nil
	}
	d, _ := hex.DecodeString(strings.TrimSpace(best.hex))
	return bestAlg + "-" + base64.StdEncoding.EncodeToString(d), nil, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// sourceOf says where a package's bytes come from, judged from the URL an
// SBOM gives for it. Without one, the registry is the only sensible
// assumption: that is where npm purls point by definition.
func sourceOf(resolved string, git bool) lockfile.Source {
	if git {
		return lockfile.SourceGit
	}
	r := strings.ToLower(resolved)
	switch {
	case r == "":
		return lockfile.SourceRegistry
	case strings.HasPrefix(r, "git+"), strings.HasPrefix(r, "git:"), strings.HasPrefix(r, "git@"),
		strings.HasPrefix(r, "github:"), strings.HasPrefix(r, "gitlab:"), strings.HasPrefix(r, "bitbucket:"),
		strings.HasPrefix(r, "gist:"):
		return lockfile.SourceGit
	case strings.HasPrefix(r, "file:"):
		return lockfile.SourceFile
	case strings.HasPrefix(r, "link:"):
		return lockfile.SourceLink
	case strings.HasPrefix(r, "http://"), strings.HasPrefix(r, "https://"):
		// Registries serve tarballs at <registry>/<name>/-/<file>.tgz
		// (npm, Verdaccio, Artifactory, GitHub Packages alike).
		if strings.Contains(r, "/-/") {
			return lockfile.SourceRegistry
		}
		return lockfile.SourceTarball
	}
	return lockfile.SourceRegistry
}

// edgeKind says what kind of dependency an SBOM relationship records; the
// bits combine when the same pair is related more than once.
type edgeKind uint8

const (
	edgeProd edgeKind = 0
	edgeDev  edgeKind = 1 << iota
	edgeOptional
	edgePeer
	edgeContains // SPDX CONTAINS: a part of, not necessarily a dependency
)

type edge struct {
	to   int32
	kind edgeKind
}

// uniqueKeys hands out lockfile.Package keys, which must be unique within
// a Graph even when an SBOM repeats a bom-ref or SPDXID (both are required
// to be unique, but a scanner must not drop a package because its producer
// was sloppy).
type uniqueKeys map[string]int

func (u uniqueKeys) take(key string) string {
	n := u[key]
	u[key] = n + 1
	if n == 0 {
		return key
	}
	for {
		n++
		k := key + "#" + strconv.Itoa(n)
		if u[k] == 0 {
			u[k] = 1
			return k
		}
	}
}

// setDependencies turns the collected edges into Package.Dependencies and
// Importer.Dependencies: deduplicated, in document order, without
// self-loops, and marks the packages importers reach directly.
func setDependencies(g *lockfile.Graph, pkgEdges, impEdges [][]edge) {
	for i := range g.Packages {
		g.Packages[i].Dependencies = targets(pkgEdges[i], int32(i))
	}
	for i := range g.Importers {
		g.Importers[i].Dependencies = targets(impEdges[i], -1)
		for _, d := range g.Importers[i].Dependencies {
			g.Packages[d].Direct = true
		}
	}
}

func targets(edges []edge, self int32) []int {
	if len(edges) == 0 {
		return nil
	}
	out := make([]int, 0, len(edges))
	for _, e := range edges {
		if e.to != self {
			out = append(out, int(e.to))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dep is the lockfile kind of an edge: SPDX CONTAINS says "a part of",
// which is taken for a plain dependency.
func (k edgeKind) dep() lockfile.DepKind {
	var d lockfile.DepKind
	if k&edgeDev != 0 {
		d |= lockfile.KindDev
	}
	if k&edgeOptional != 0 {
		d |= lockfile.KindOptional
	}
	if k&edgePeer != 0 {
		d |= lockfile.KindPeer
	}
	return d
}

// setFlagsFromKinds derives npm's dev/optional/devOptional/peer flags from
// typed edges with lockfile.ComputeFlags. An SBOM may relate one pair more
// than once (DEPENDS_ON and DEV_DEPENDENCY_OF); the pair is one edge of the
// Graph, and that edge is dev, optional or peer only when every
// relationship says so. Packages no importer reaches get no flag: the SBOM
// does not say.
func setFlagsFromKinds(g *lockfile.Graph, pkgEdges, impEdges [][]edge) {
	var roots []lockfile.Edge
	for _, es := range impEdges {
		for _, e := range es {
			roots = append(roots, lockfile.Edge{To: int(e.to), Kind: e.kind.dep()})
		}
	}
	// kinds[start[i]+k] is the kind of g.Packages[i].Dependencies[k],
	// which setDependencies sorted.
	start := make([]int, len(g.Packages)+1)
	for i := range g.Packages {
		start[i+1] = start[i] + len(g.Packages[i].Dependencies)
	}
	kinds := make([]lockfile.DepKind, start[len(g.Packages)])
	for i := range kinds {
		kinds[i] = lockfile.KindDev | lockfile.KindOptional | lockfile.KindPeer
	}
	for i, es := range pkgEdges {
		deps := g.Packages[i].Dependencies
		for _, e := range es {
			if k, ok := slices.BinarySearch(deps, int(e.to)); ok {
				kinds[start[i]+k] &= e.kind.dep()
			}
		}
	}
	lockfile.ComputeFlags(g, roots, func(from, k int) lockfile.DepKind { return kinds[start[from]+k] })
}
