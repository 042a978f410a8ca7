package store_test

import (
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/storetest"
)

// sqliteBackend gives each test its own database file.
var sqliteBackend = storetest.Backend{
	Name: "sqlite",
	NewDSN: func(t *testing.T) string {
		return "sqlite://" + filepath.Join(t.TempDir(), "store.db")
	},
	Exec: func(t *testing.T, dsn, query string) {
		t.Helper()
		db := rawSQLite(t, dsn)
		if _, err := db.ExecContext(t.Context(), query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	},
	QueryInt: func(t *testing.T, dsn, query string) int {
		t.Helper()
		var n int
		if err := rawSQLite(t, dsn).QueryRowContext(t.Context(), query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	},
}

// rawSQLite opens the file behind dsn without the store, to inspect or
// tamper with it.
func rawSQLite(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	d, err := store.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+url.PathEscape(d.Path)+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, sqliteBackend)
}

// TestSQLiteFile checks what the store does to the file itself: WAL mode
// (persistent in the file, so any reader sees it), owner-only permissions
// (the log names machines and users), parent folders created, and a path
// with URI metacharacters opening the file it names.
func TestSQLiteFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "dir ?#%")
	path := filepath.Join(dir, "store?.db")
	// In the URL form the path is percent-encoded, as in any URL.
	for _, dsn := range []string{path, "sqlite://" + (&url.URL{Path: path}).EscapedPath() + "?synchronous=normal"} {
		s, err := store.Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Contains(names, "store?.db") {
		t.Fatalf("database not created under the literal name; folder holds %q", names)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("database mode %v, want 0600", st.Mode().Perm())
	}
	var mode string
	if err := rawSQLite(t, path).QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}
