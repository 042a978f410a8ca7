package tarball

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadDir(t *testing.T) {
	base := t.TempDir()
	pkg := filepath.Join(base, "pkg")
	writeTree(t, base, map[string]string{"secret.txt": "outside"})
	writeTree(t, pkg, map[string]string{
		"package.json":    `{"name":"demo"}`,
		"index.js":        "module.exports = 1\n",
		"lib/util/sum.js": "module.exports = (a, b) => a + b\n",
		"bin/cli.js":      "#!/usr/bin/env node\n",
		"big.bin":         "\x7fELF" + strings.Repeat("x", 5000),
	})
	if err := os.Chmod(filepath.Join(pkg, "bin/cli.js"), 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"escape": "../secret.txt", "abs": filepath.Join(base, "secret.txt"), "lib/alias.js": "../index.js"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(pkg, name)); err != nil {
			t.Skipf("symlinks unavailable: %v", err)
		}
	}
	a, err := ReadDir(context.Background(), pkg, Limits{MaxFileSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(a), []string{"bin/cli.js", "index.js", "lib/util/sum.js", "package.json"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if f, _ := a.Get("bin/cli.js"); f.Mode != 0o755 {
		t.Errorf("bin/cli.js mode %v", f.Mode)
	}
	if pj, err := a.PackageJSON(); err != nil || string(pj) != `{"name":"demo"}` {
		t.Errorf("PackageJSON = %s, %v", pj, err)
	}
	got := map[string]Skipped{}
	for _, s := range a.Skipped {
		got[s.Name] = s
	}
	if s := got["escape"]; s.Reason != ReasonSymlink || !s.Escapes {
		t.Errorf("escape: %+v", s)
	}
	if s := got["abs"]; s.Reason != ReasonSymlink || !s.Escapes {
		t.Errorf("abs: %+v", s)
	}
	if s := got["lib/alias.js"]; s.Reason != ReasonSymlink || s.Escapes {
		t.Errorf("lib/alias.js: %+v", s)
	}
	if s := got["big.bin"]; s.Reason != ReasonTooLarge || s.Size != 5004 || string(s.Head[:4]) != "\x7fELF" || len(s.Head) != headSize {
		t.Errorf("big.bin: %+v", s)
	}
	if s := got["lib"]; s.Reason != ReasonDirectory {
		t.Errorf("lib: %+v", s)
	}
	var esc int
	for _, w := range a.Warnings {
		if w.Code == WarnLinkEscapes {
			esc++
		}
	}
	if esc != 2 || !a.HasWarning(WarnLink) || !a.HasWarning(WarnTooLarge) {
		t.Errorf("warnings %v", a.Warnings)
	}
	// No file outside the folder was read.
	for _, f := range a.Files {
		if strings.Contains(string(f.Data), "outside") {
			t.Errorf("%s holds data from outside the folder", f.Path)
		}
	}
}

func TestReadDirLimits(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.js": strings.Repeat("a", 600), "b.js": strings.Repeat("b", 600), "c/d.js": "d"})
	tests := []struct {
		lim   Limits
		limit Limit
	}{
		{Limits{MaxEntries: 3}, LimitEntries},
		{Limits{MaxUncompressed: 1000}, LimitUncompressed},
		{Limits{MaxPathLen: 3}, LimitPathLen},
	}
	for _, tt := range tests {
		_, err := ReadDir(context.Background(), dir, tt.lim)
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != tt.limit {
			t.Errorf("%+v: err = %v, want %s", tt.lim, err, tt.limit)
		}
	}
	if _, err := ReadDir(context.Background(), filepath.Join(dir, "missing"), Limits{}); err == nil || !strings.HasPrefix(err.Error(), "tarball: ") {
		t.Errorf("missing folder: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadDir(ctx, dir, Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
