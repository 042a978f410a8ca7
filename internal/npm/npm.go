// Package npm holds npm's vocabulary: package names, versions with semver
// precedence, integrity strings and purls. It imports nothing of Vigil's.
package npm

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// PackageVersion names one published release: debug@4.4.2.
type PackageVersion struct {
	Name    string
	Version string
}

func (p PackageVersion) String() string { return p.Name + "@" + p.Version }

// Scope returns "@scope" for a scoped name and "" otherwise.
func Scope(name string) string {
	if strings.HasPrefix(name, "@") {
		if i := strings.IndexByte(name, '/'); i > 0 {
			return name[:i]
		}
	}
	return ""
}

// ValidateName reports whether name could be a package name on the npm
// registry (new or legacy rules: case is tolerated, as old packages have it).
func ValidateName(name string) error {
	if name == "" {
		return errors.New("empty package name")
	}
	if len(name) > 214 {
		return fmt.Errorf("package name %.40q… is longer than 214 characters", name)
	}
	rest := name
	if strings.HasPrefix(name, "@") {
		i := strings.IndexByte(name, '/')
		if i < 2 || i == len(name)-1 {
			return fmt.Errorf("package name %q: a scoped name is @scope/name", name)
		}
		if err := validPart(name[1:i]); err != nil {
			return fmt.Errorf("package name %q: scope: %w", name, err)
		}
		rest = name[i+1:]
	}
	if err := validPart(rest); err != nil {
		return fmt.Errorf("package name %q: %w", name, err)
	}
	return nil
}

func validPart(s string) error {
	if s[0] == '.' || s[0] == '_' {
		return errors.New("must not start with . or _")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~!*'()", c) >= 0:
		default:
			return fmt.Errorf("character %q is not allowed", c)
		}
	}
	return nil
}

// PURL returns the package URL of an npm package version, e.g.
// pkg:npm/%40babel/core@7.29.0 (the @ of a scope is percent-encoded, as the
// purl specification requires for the namespace).
func PURL(name, version string) string {
	var b strings.Builder
	b.WriteString("pkg:npm/")
	if scope := Scope(name); scope != "" {
		b.WriteString("%40")
		b.WriteString(url.PathEscape(scope[1:]))
		b.WriteByte('/')
		name = name[len(scope)+1:]
	}
	b.WriteString(url.PathEscape(name))
	if version != "" {
		b.WriteByte('@')
		b.WriteString(url.PathEscape(version))
	}
	return b.String()
}

// ParsePURL reads an npm purl back into name and version. ok is false for
// other ecosystems or malformed purls.
func ParsePURL(purl string) (name, version string, ok bool) {
	rest, found := strings.CutPrefix(purl, "pkg:npm/")
	if !found {
		return "", "", false
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i > 0 {
		version, rest = rest[i+1:], rest[:i]
	}
	name, err := url.PathUnescape(rest)
	if err != nil || name == "" {
		return "", "", false
	}
	if version != "" {
		if version, err = url.PathUnescape(version); err != nil {
			return "", "", false
		}
	}
	return name, version, true
}
