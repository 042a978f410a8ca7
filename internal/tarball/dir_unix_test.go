//go:build unix

package tarball

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestReadDirFIFO: a named pipe is listed, never opened (opening one blocks
// until a writer appears).
func TestReadDirFIFO(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"index.js": "x"})
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan struct{})
	var a *Archive
	var err error
	go func() {
		a, err = ReadDir(context.Background(), dir, Limits{})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ReadDir blocked on a FIFO")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Files) != 1 || len(a.Skipped) != 1 || a.Skipped[0].Reason != ReasonFIFO || !a.HasWarning(WarnSpecialFile) {
		t.Errorf("files %q skipped %+v warnings %v", paths(a), a.Skipped, a.Warnings)
	}
}
