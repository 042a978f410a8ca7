// Package config reads vigil.yaml: the project's local blocklist, the
// ignores it accepts (each with a reason, optionally expiring), the
// registries its lockfiles may resolve from, the install policy
// (internal/policy) and the proxy's settings. Unknown keys are rejected so
// a typo never silently disables a rule, and every error names the file
// and line (ParseError).
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
)

// FileName is the config file looked up in the scanned project's folder.
const FileName = "vigil.yaml"

// DefaultRegistries are the hosts whose tarball URLs are not reported as
// "resolved from an unexpected host".
var DefaultRegistries = []string{"https://registry.npmjs.org/", "https://registry.yarnpkg.com/"}

// Config is the parsed vigil.yaml.
type Config struct {
	// Path is the file it came from ("" for defaults).
	Path string `yaml:"-"`
	// Registries lists the registry base URLs lockfiles may resolve from.
	Registries []string `yaml:"registries"`
	// Blocklist names packages or versions the organisation forbids.
	Blocklist []BlockEntry `yaml:"blocklist"`
	// Ignores accepts findings the team has reviewed.
	Ignores []Ignore `yaml:"ignore"`
	// Policy decides allow/warn/block per package version.
	Policy Policy `yaml:"policy"`
	// Proxy configures 'vigil proxy'.
	Proxy Proxy `yaml:"proxy"`
}

// BlockEntry forbids a package, a version range of it, or a whole scope.
type BlockEntry struct {
	// Package is a name ("evil-pkg"), or a scope ("@evil-scope/*").
	Package string `yaml:"package"`
	// Versions is an npm range; empty means every version.
	Versions string `yaml:"versions"`
	Reason   string `yaml:"reason"`
	// Severity defaults to critical.
	Severity string `yaml:"severity"`

	rng npm.Range
}

// Ignore accepts one finding id, optionally only for one package, until an
// optional date.
type Ignore struct {
	ID      string `yaml:"id"`
	Package string `yaml:"package"`
	Reason  string `yaml:"reason"`
	// Until is a date (2026-12-31) or RFC 3339 time after which the ignore
	// stops applying, so accepted risk is revisited.
	Until string `yaml:"until"`

	until time.Time
}

// Default returns the configuration used when no vigil.yaml exists.
func Default() *Config {
	return &Config{
		Registries: append([]string(nil), DefaultRegistries...),
		Policy:     DefaultPolicy(),
		Proxy:      DefaultProxy(),
	}
}

// Find looks for vigil.yaml in dir; a missing file yields Default().
func Find(dir string) (*Config, error) {
	path := filepath.Join(dir, FileName)
	c, err := Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), nil
	}
	return c, err
}

// Load reads and validates one config file. A problem in the file is a
// *ParseError naming it, the line and the setting.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(data)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.File = path
			return nil, pe
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse decodes and validates vigil.yaml content and fills in defaults.
// Errors are *ParseError.
func Parse(data []byte) (*Config, error) {
	c := &Config{}
	l := &locator{data: data}
	if len(strings.TrimSpace(string(data))) > 0 {
		if err := decode(data, c, l); err != nil {
			return nil, err
		}
	}
	if err := c.validate(l); err != nil {
		return nil, err
	}
	c.Policy.ApplyDefaults()
	if err := c.Policy.validate(l); err != nil {
		return nil, err
	}
	c.Proxy.applyDefaults()
	if err := c.Proxy.validate(l); err != nil {
		return nil, err
	}
	return c, nil
}

// validate checks the registries, blocklist and ignores.
func (c *Config) validate(l *locator) error {
	if len(c.Registries) == 0 {
		c.Registries = append([]string(nil), DefaultRegistries...)
	}
	for i, r := range c.Registries {
		if !strings.HasPrefix(r, "https://") && !strings.HasPrefix(r, "http://") {
			return l.errorf(fmt.Sprintf("registries[%d]", i), "%q is not an http(s) URL", r)
		}
		if !strings.HasSuffix(r, "/") {
			c.Registries[i] = r + "/"
		}
	}
	for i := range c.Blocklist {
		b := &c.Blocklist[i]
		field := fmt.Sprintf("blocklist[%d]", i)
		if b.Package == "" {
			return l.errorf(field+".package", "package is required")
		}
		if b.Reason == "" {
			return l.errorf(field+".reason", "reason is required: say why %s is blocked", b.Package)
		}
		if scope, ok := strings.CutSuffix(b.Package, "/*"); ok {
			if err := validateScope(scope); err != nil {
				return l.errorf(field+".package", "%v", err)
			}
		} else if err := npm.ValidateName(b.Package); err != nil {
			return l.errorf(field+".package", "%v", err)
		}
		switch b.Severity {
		case "":
			b.Severity = "critical"
		case "low", "medium", "high", "critical":
		default:
			return l.errorf(field+".severity", "(%s) severity %q is not low, medium, high or critical", b.Package, b.Severity)
		}
		rng, err := npm.ParseRange(b.Versions)
		if err != nil {
			return l.errorf(field+".versions", "(%s) %v", b.Package, err)
		}
		b.rng = rng
	}
	for i := range c.Ignores {
		ig := &c.Ignores[i]
		field := fmt.Sprintf("ignore[%d]", i)
		if ig.ID == "" {
			return l.errorf(field+".id", "id is required")
		}
		if strings.TrimSpace(ig.Reason) == "" {
			return l.errorf(field+".reason", "(%s) reason is required: say why this finding is accepted", ig.ID)
		}
		if ig.Until != "" {
			t, err := parseDate(ig.Until)
			if err != nil {
				return l.errorf(field+".until", "(%s) %v", ig.ID, err)
			}
			ig.until = t
		}
	}
	return nil
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2006-01-02) nor an RFC 3339 time", s)
	}
	// A date means "through the end of that day" in UTC.
	return t.Add(24*time.Hour - time.Nanosecond), nil
}

// Blocked returns the blocklist entry that forbids name@version, if any.
func (c *Config) Blocked(name, version string) (BlockEntry, bool) {
	for _, b := range c.Blocklist {
		if scope, ok := strings.CutSuffix(b.Package, "/*"); ok {
			if npm.Scope(name) == scope {
				return b, true
			}
			continue
		}
		if b.Package == name && b.rng.Contains(version) {
			return b, true
		}
	}
	return BlockEntry{}, false
}

// Expired reports whether the ignore's Until has passed at now.
func (ig Ignore) Expired(now time.Time) bool {
	return !ig.until.IsZero() && now.After(ig.until)
}

// Matches reports whether the ignore covers a finding id (or one of its
// aliases) on the named package.
func (ig Ignore) Matches(id string, aliases []string, pkg string) bool {
	if ig.Package != "" && ig.Package != pkg {
		return false
	}
	if ig.ID == id {
		return true
	}
	for _, a := range aliases {
		if ig.ID == a {
			return true
		}
	}
	return false
}

// String names the ignore for "unused ignore" messages.
func (ig Ignore) String() string {
	if ig.Package != "" {
		return ig.ID + " (" + ig.Package + ")"
	}
	return ig.ID
}
