package proxy

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/vigil-sec/vigil/internal/npm"
)

// routeKind is what a registry request path asks for.
type routeKind int

const (
	routePackument routeKind = iota + 1 // /<name>
	routeVersion                        // /<name>/<version or dist-tag>
	routeTarball                        // /<name>/-/<file>.tgz
	routeSpecial                        // /-/<anything>: ping, search, audit, login…
)

// route is a parsed registry path.
type route struct {
	kind routeKind
	name string
	// spec is the version or dist-tag of a routeVersion request.
	spec string
	// file is a tarball's file name, version the version it names
	// ("<basename>-<version>.tgz"), empty when the name does not follow
	// the registry's convention.
	file, version string
	// special is the path after "/-/" of a routeSpecial request.
	special string
}

// parseRoute reads an escaped request path (URL.EscapedPath), so that a
// scope's %2f is told apart from a literal slash. Both forms of a scoped
// name are accepted: /@scope%2fname (what npm sends for packuments) and
// /@scope/name (what tarball URLs and some clients use).
func parseRoute(escaped string) (route, error) {
	p := strings.TrimPrefix(escaped, "/")
	if p == "-" || strings.HasPrefix(p, "-/") {
		special, err := url.PathUnescape(strings.TrimPrefix(strings.TrimPrefix(p, "-"), "/"))
		if err != nil {
			return route{}, fmt.Errorf("path %q: %w", escaped, err)
		}
		return route{kind: routeSpecial, special: special}, nil
	}
	raw := strings.Split(p, "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return route{}, fmt.Errorf("path %q: %w", escaped, err)
		}
		segs[i] = u
	}
	var name string
	var rest []string
	switch {
	case strings.HasPrefix(segs[0], "@") && strings.Contains(segs[0], "/"):
		name, rest = segs[0], segs[1:]
	case strings.HasPrefix(segs[0], "@"):
		if len(segs) < 2 {
			return route{}, fmt.Errorf("path %q: a scope without a package name", escaped)
		}
		name, rest = segs[0]+"/"+segs[1], segs[2:]
	default:
		name, rest = segs[0], segs[1:]
	}
	if err := npm.ValidateName(name); err != nil {
		return route{}, fmt.Errorf("path %q: %w", escaped, err)
	}
	if len(rest) > 0 && rest[len(rest)-1] == "" { // a trailing slash
		rest = rest[:len(rest)-1]
	}
	switch {
	case len(rest) == 0:
		return route{kind: routePackument, name: name}, nil
	case len(rest) == 1:
		if strings.ContainsAny(rest[0], "/") || rest[0] == "-" {
			break
		}
		return route{kind: routeVersion, name: name, spec: rest[0]}, nil
	case rest[0] == "-":
		// The file is the last segment: some registries (Verdaccio) put the
		// scope in between, /@scope/name/-/@scope/name-1.0.0.tgz.
		file := rest[len(rest)-1]
		if file == "" || strings.ContainsAny(file, "/\\") {
			break
		}
		return route{kind: routeTarball, name: name, file: file, version: versionFromFile(name, file)}, nil
	}
	return route{}, fmt.Errorf("path %q: not a registry path", escaped)
}

// versionFromFile returns the version in a conventional tarball file name,
// <basename>-<version>.tgz, or "" when file is not one.
func versionFromFile(name, file string) string {
	base := name
	if i := strings.IndexByte(name, '/'); i >= 0 {
		base = name[i+1:]
	}
	v, ok := strings.CutPrefix(file, base+"-")
	if !ok {
		return ""
	}
	v, ok = strings.CutSuffix(v, ".tgz")
	if !ok || v == "" {
		return ""
	}
	return v
}

// tarballPath is the conventional path of a version's tarball on this
// proxy, relative to its public URL: <name>/-/<basename>-<version>.tgz,
// the scope's slash literal (as registry.npmjs.org writes dist.tarball).
func tarballPath(name, version string) string {
	base := name
	prefix := ""
	if scope := npm.Scope(name); scope != "" {
		base = name[len(scope)+1:]
		prefix = url.PathEscape(scope) + "/"
	}
	return prefix + url.PathEscape(base) + "/-/" + url.PathEscape(base+"-"+version+".tgz")
}
