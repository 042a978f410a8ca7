package store

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// The schema is versioned in code: migrations/<backend>/NNNN_name.sql,
// numbered from 1 without gaps, applied in order inside one transaction
// at Open and recorded in schema_version. A file, once released, is never
// edited; a change is a new file.
//
//go:embed migrations
var migrationFS embed.FS

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer Vigil than this one: writing to it could corrupt what that version
// expects, so the store refuses it.
var ErrSchemaTooNew = errors.New("store schema is newer than this vigil")

// SchemaError details ErrSchemaTooNew.
type SchemaError struct {
	Have, Known int
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("store schema version %d is newer than this vigil knows (%d): upgrade vigil", e.Have, e.Known)
}

func (e *SchemaError) Unwrap() error { return ErrSchemaTooNew }

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the backend's migrations in order.
func migrations(b Backend) ([]migration, error) {
	dir := path.Join("migrations", string(b))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("reading embedded migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("embedded migration %s/%s: want NNNN_name.sql", dir, e.Name())
		}
		if v != len(ms)+1 {
			return nil, fmt.Errorf("embedded migration %s/%s: version %d, want %d (no gaps)", dir, e.Name(), v, len(ms)+1)
		}
		body, err := migrationFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading embedded migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	return ms, nil
}

// SchemaVersion is the newest schema version this binary knows for b.
func SchemaVersion(b Backend) int {
	ms, err := migrations(b)
	if err != nil {
		return 0
	}
	return len(ms)
}

// pending returns the migrations after have, or a *SchemaError when the
// database is newer than all of them.
func pending(ms []migration, have int) ([]migration, error) {
	if have > len(ms) {
		return nil, &SchemaError{Have: have, Known: len(ms)}
	}
	return ms[have:], nil
}
