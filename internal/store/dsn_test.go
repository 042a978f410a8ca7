package store

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn     string
		want    DSN
		wantErr string
	}{
		{dsn: "sqlite:///var/lib/vigil/store.db", want: DSN{Backend: SQLite, Path: "/var/lib/vigil/store.db", Synchronous: "full"}},
		{dsn: "sqlite://store.db", want: DSN{Backend: SQLite, Path: "store.db", Synchronous: "full"}},
		{dsn: "sqlite://data/../store.db?synchronous=NORMAL", want: DSN{Backend: SQLite, Path: "store.db", Synchronous: "normal"}},
		{dsn: "sqlite:///tmp/a%20b%3F.db", want: DSN{Backend: SQLite, Path: "/tmp/a b?.db", Synchronous: "full"}},
		{dsn: "/var/lib/vigil/store.db", want: DSN{Backend: SQLite, Path: "/var/lib/vigil/store.db", Synchronous: "full"}},
		{dsn: "store.db", want: DSN{Backend: SQLite, Path: "store.db", Synchronous: "full"}},
		{dsn: "./dir with space/s.db", want: DSN{Backend: SQLite, Path: filepath.Clean("dir with space/s.db"), Synchronous: "full"}},
		{dsn: "postgres://vigil:secret@db.internal:5432/vigil?sslmode=require", want: DSN{Backend: Postgres, URL: "postgres://vigil:secret@db.internal:5432/vigil?sslmode=require"}},
		{dsn: "postgresql://db/vigil?pool_max_conns=16&sslmode=disable", want: DSN{Backend: Postgres, URL: "postgresql://db/vigil?sslmode=disable", MaxConns: 16}},
		{dsn: "", wantErr: "empty store DSN"},
		{dsn: "sqlite://", wantErr: "no database file"},
		{dsn: "sqlite://x.db?journal=off", wantErr: `option "journal" is unknown`},
		{dsn: "sqlite://x.db?synchronous=off", wantErr: "want full or normal"},
		{dsn: ":memory:", wantErr: "in-memory"},
		{dsn: "mysql://localhost/vigil", wantErr: `unsupported scheme "mysql"`},
		{dsn: "postgres://db/vigil?pool_max_conns=0", wantErr: "pool_max_conns"},
		{dsn: "postgres://db/vigil?pool_max_conns=x", wantErr: "pool_max_conns"},
		{dsn: "a\x00b", wantErr: "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			got, err := ParseDSN(tt.dsn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDSN(%q) = %+v, %v; want an error containing %q", tt.dsn, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDSN(%q) = %+v, %v; want %+v", tt.dsn, got, err, tt.want)
			}
		})
	}
}

func TestDSNStringHidesPassword(t *testing.T) {
	d, err := ParseDSN("postgres://vigil:hunter2@db/vigil")
	if err != nil {
		t.Fatal(err)
	}
	if s := d.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "db/vigil") {
		t.Errorf("String() = %q", s)
	}
}

func TestDefaultDSN(t *testing.T) {
	home := func() (string, error) { return "/home/ada", nil }
	config := func() (string, error) { return "/Users/ada/Library/Application Support", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	tests := []struct {
		name string
		env  map[string]string
		goos string
		home func() (string, error)
		want string
		err  bool
	}{
		{"VIGIL_STORE wins", map[string]string{"VIGIL_STORE": "postgres://db/v", "XDG_DATA_HOME": "/x"}, "linux", home, "postgres://db/v", false},
		{"XDG_DATA_HOME", map[string]string{"XDG_DATA_HOME": "/data"}, "linux", home, filepath.Join("/data", "vigil", "store.db"), false},
		{"relative XDG_DATA_HOME ignored, as the spec says", map[string]string{"XDG_DATA_HOME": "data"}, "linux", home, filepath.Join("/home/ada", ".local", "share", "vigil", "store.db"), false},
		{"linux", nil, "linux", home, filepath.Join("/home/ada", ".local", "share", "vigil", "store.db"), false},
		{"macOS", nil, "darwin", home, filepath.Join("/Users/ada/Library/Application Support", "vigil", "store.db"), false},
		{"no home", nil, "linux", noHome, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := defaultDSN(func(k string) string { return tt.env[k] }, tt.goos, tt.home, config)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("defaultDSN = %q, %v; want %q (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestMigrationsEmbedded(t *testing.T) {
	for _, b := range []Backend{SQLite, Postgres} {
		ms, err := migrations(b)
		if err != nil || len(ms) == 0 {
			t.Fatalf("%s migrations: %d, %v", b, len(ms), err)
		}
		if SchemaVersion(b) != len(ms) {
			t.Errorf("%s: SchemaVersion %d, %d migrations", b, SchemaVersion(b), len(ms))
		}
	}
	if SchemaVersion(SQLite) != SchemaVersion(Postgres) {
		t.Errorf("the backends' schemas diverged: sqlite %d, postgres %d migrations", SchemaVersion(SQLite), SchemaVersion(Postgres))
	}
	ms, _ := migrations(SQLite)
	if todo, err := pending(ms, 0); err != nil || len(todo) != len(ms) {
		t.Errorf("pending(0) = %d, %v", len(todo), err)
	}
	if todo, err := pending(ms, len(ms)); err != nil || len(todo) != 0 {
		t.Errorf("pending(latest) = %d, %v", len(todo), err)
	}
	var se *SchemaError
	if _, err := pending(ms, len(ms)+1); !errors.As(err, &se) || !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("pending(newer) = %v, want a SchemaError", err)
	}
}

// FuzzParseDSN: any input either parses into a usable DSN or is refused
// with an error; never a panic, never an SQLite DSN without a path.
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"sqlite:///a.db", "sqlite://a.db?synchronous=normal", "/x/y.db", "postgres://u:p@h:5/d?pool_max_conns=3",
		"postgresql://h/d", "C:\\data\\vigil.db", "sqlite://%zz", "x://y", "sqlite://a?b=c&synchronous=full", "::://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDSN(s)
		if err != nil {
			return
		}
		switch d.Backend {
		case SQLite:
			if d.Path == "" || (d.Synchronous != "full" && d.Synchronous != "normal") {
				t.Fatalf("ParseDSN(%q) = %+v", s, d)
			}
			_ = sqliteURI(d.Path)
		case Postgres:
			if d.URL == "" || d.MaxConns < 0 {
				t.Fatalf("ParseDSN(%q) = %+v", s, d)
			}
			_ = d.String()
		default:
			t.Fatalf("ParseDSN(%q): backend %q", s, d.Backend)
		}
	})
}
