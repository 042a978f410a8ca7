package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/store"
)

// storeFlags locate the store (download log and quarantine list) for the
// commands that share it: downloads, quarantine and the proxy.
type storeFlags struct {
	dsn string
}

func (f *storeFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.dsn, "store", "", "the store: an SQLite file path or sqlite:// DSN, or a postgres:// URL (default: $VIGIL_STORE, else store.db in the user data folder, e.g. ~/.local/share/vigil)")
}

// resolve returns the DSN from --store, $VIGIL_STORE or the default.
func (f *storeFlags) resolve(e *env) (string, error) {
	if f.dsn != "" {
		return f.dsn, nil
	}
	if d := e.getenv("VIGIL_STORE"); d != "" {
		return d, nil
	}
	return store.DefaultDSN()
}

// open opens the store for writing, creating it when needed.
func (f *storeFlags) open(ctx context.Context, e *env) (store.Store, error) {
	dsn, err := f.resolve(e)
	if err != nil {
		return nil, err
	}
	d, err := store.ParseDSN(dsn)
	if err != nil {
		return nil, usagef("--store: %v", err)
	}
	e.logger.Debug("opening the store", "backend", d.Backend, "location", d.String())
	s, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	return s, nil
}

// openExisting opens the store for a command that only reads it. A SQLite
// file that does not exist yet is not created: nil, nil means "nothing
// recorded", and a note on stderr names the path, so a mistyped --store
// is noticed rather than silently answered with an empty list.
func (f *storeFlags) openExisting(ctx context.Context, e *env) (store.Store, error) {
	dsn, err := f.resolve(e)
	if err != nil {
		return nil, err
	}
	d, err := store.ParseDSN(dsn)
	if err != nil {
		return nil, usagef("--store: %v", err)
	}
	if d.Backend == store.SQLite {
		if _, err := os.Stat(d.Path); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(e.stderr, "vigil: no store at %s yet: nothing has been recorded there\n", d.Path)
			return nil, nil
		}
	}
	return f.open(ctx, e)
}

// storeError turns the store's invalid-input errors into usage errors.
func storeError(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return usageError{err}
	}
	return err
}

// parsePackageSpec splits NAME[@RANGE] ("debug@4.4.2", "@scope/pkg@^1",
// "@scope/*") into a name and a version or range, validating both.
// wildcard allows "@scope/*".
func parsePackageSpec(spec string, wildcard bool) (name, versions string, err error) {
	spec = strings.TrimSpace(spec)
	name, versions = spec, ""
	if i := strings.LastIndexByte(spec, '@'); i > 0 {
		name, versions = spec[:i], strings.TrimSpace(spec[i+1:])
		if versions == "" {
			return "", "", fmt.Errorf("%q: nothing after '@' (write NAME or NAME@RANGE)", spec)
		}
	}
	if strings.HasSuffix(name, "/*") {
		if !wildcard {
			return "", "", fmt.Errorf("%q: a scope pattern is not allowed here; give a package name", spec)
		}
		if err := store.ValidatePattern(name); err != nil {
			return "", "", fmt.Errorf("%q: %w", spec, err)
		}
		if versions != "" {
			return "", "", fmt.Errorf("%q: a scope entry covers every version of every package in it; drop @%s", spec, versions)
		}
		return name, "", nil
	}
	if err := npm.ValidateName(name); err != nil {
		return "", "", fmt.Errorf("%q: %w", spec, err)
	}
	if versions != "" {
		if _, err := npm.ParseRange(versions); err != nil {
			return "", "", fmt.Errorf("%q: %w", spec, err)
		}
	}
	return name, versions, nil
}

// Time formats parseTime accepts besides RFC 3339; all are UTC.
var timeLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"}

// parseTime reads an RFC 3339 time ("2025-09-08T13:16:00Z"), the same
// without a zone or seconds (UTC), or a date ("2025-09-08", midnight UTC).
// endOfDay moves a bare date to the end of that day, which is what a date
// means as an upper bound: --until 2025-09-08 includes the 8th.
func parseTimeFlag(s string, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339 (2025-09-08T13:16:00Z) or a date (2025-09-08)", s)
}
