package store

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Backend names a store implementation.
type Backend string

const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// DSN is a parsed store location.
type DSN struct {
	Backend Backend
	// Path is the SQLite database file (cleaned; relative paths stay
	// relative to the working directory).
	Path string
	// Synchronous is SQLite's synchronous setting, "full" unless the DSN
	// asks for "normal" (see docs/store.md for what each survives).
	Synchronous string
	// URL is the PostgreSQL connection string, passed to pgx unchanged
	// apart from the options Vigil consumes itself (pool_max_conns).
	URL string
	// MaxConns caps the PostgreSQL connection pool; 0 means the default.
	MaxConns int
}

// ParseDSN reads a store DSN: "sqlite:///abs/path.db", "sqlite://rel.db",
// a plain file path, or a "postgres://" / "postgresql://" URL. SQLite DSNs
// accept one option, ?synchronous=full|normal; PostgreSQL URLs accept
// pool_max_conns besides everything pgx understands.
func ParseDSN(dsn string) (DSN, error) {
	if strings.TrimSpace(dsn) == "" {
		return DSN{}, errors.New("empty store DSN")
	}
	if strings.ContainsRune(dsn, 0) {
		return DSN{}, errors.New("store DSN contains a NUL byte")
	}
	scheme, rest, hasScheme := strings.Cut(dsn, "://")
	if hasScheme && !validScheme(scheme) {
		// "C:\\x" has no "://", so only real URL-looking inputs land here.
		hasScheme = false
	}
	if !hasScheme {
		return sqliteDSN(dsn, "")
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		path, query, _ := strings.Cut(rest, "?")
		if path == "" {
			return DSN{}, fmt.Errorf("store DSN %q: no database file after sqlite://", dsn)
		}
		if p, err := url.PathUnescape(path); err == nil {
			path = p
		} else {
			return DSN{}, fmt.Errorf("store DSN %q: %w", dsn, err)
		}
		return sqliteDSN(path, query)
	case "postgres", "postgresql":
		return postgresDSN(dsn)
	}
	return DSN{}, fmt.Errorf("store DSN %q: unsupported scheme %q (want sqlite:// or postgres://, or a file path)", dsn, scheme)
}

// validScheme reports whether s looks like a URL scheme (RFC 3986: a
// letter, then letters, digits, +, - or .).
func validScheme(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func sqliteDSN(path, query string) (DSN, error) {
	d := DSN{Backend: SQLite, Path: filepath.Clean(path), Synchronous: "full"}
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return DSN{}, fmt.Errorf("store DSN %q: give a database file path (in-memory and file: URI databases are not supported)", path)
	}
	if query == "" {
		return d, nil
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return DSN{}, fmt.Errorf("store DSN options %q: %w", query, err)
	}
	for key, vs := range values {
		switch key {
		case "synchronous":
			switch v := strings.ToLower(vs[len(vs)-1]); v {
			case "full", "normal":
				d.Synchronous = v
			default:
				return DSN{}, fmt.Errorf("store DSN option synchronous=%q: want full or normal", vs[len(vs)-1])
			}
		default:
			return DSN{}, fmt.Errorf("store DSN option %q is unknown for SQLite (known: synchronous)", key)
		}
	}
	return d, nil
}

func postgresDSN(dsn string) (DSN, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return DSN{}, fmt.Errorf("store DSN: %w", err)
	}
	d := DSN{Backend: Postgres}
	q := u.Query()
	if v := q.Get("pool_max_conns"); v != "" {
		n, err := parsePositive(v)
		if err != nil {
			return DSN{}, fmt.Errorf("store DSN option pool_max_conns=%q: %w", v, err)
		}
		d.MaxConns = n
		q.Del("pool_max_conns")
		u.RawQuery = q.Encode()
	}
	d.URL = u.String()
	return d, nil
}

func parsePositive(s string) (int, error) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || n > 1<<20 {
			return 0, errors.New("want a positive integer")
		}
		n = n*10 + int(s[i]-'0')
	}
	if n == 0 {
		return 0, errors.New("want a positive integer")
	}
	return n, nil
}

// String renders the DSN without a PostgreSQL password, for messages.
func (d DSN) String() string {
	if d.Backend == SQLite {
		return d.Path
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// DefaultDSN is where the store lives when neither --store nor
// $VIGIL_STORE says: $VIGIL_STORE if set, else store.db in the user data
// folder: $XDG_DATA_HOME/vigil, ~/.local/share/vigil on Linux and other
// Unix systems, and os.UserConfigDir()/vigil on macOS (~/Library/Application
// Support) and Windows (%AppData%). It is a data folder, not a cache: the
// download log and quarantine list must not be cleaned away.
func DefaultDSN() (string, error) {
	return defaultDSN(os.Getenv, runtime.GOOS, os.UserHomeDir, os.UserConfigDir)
}

func defaultDSN(getenv func(string) string, goos string, home, config func() (string, error)) (string, error) {
	if v := getenv("VIGIL_STORE"); v != "" {
		return v, nil
	}
	if v := getenv("XDG_DATA_HOME"); v != "" && filepath.IsAbs(v) {
		return filepath.Join(v, "vigil", "store.db"), nil
	}
	var dir string
	var err error
	switch goos {
	case "darwin", "ios", "windows", "plan9":
		dir, err = config()
	default:
		dir, err = home()
		if err == nil {
			dir = filepath.Join(dir, ".local", "share")
		}
	}
	if err != nil {
		return "", fmt.Errorf("finding the user data folder for the store (set $VIGIL_STORE or --store): %w", err)
	}
	return filepath.Join(dir, "vigil", "store.db"), nil
}
