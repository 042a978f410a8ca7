//go:build unix

package nodemodules

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFIFO makes sure a FIFO where a package.json or a node_modules folder
// should be cannot hang Read: opening one for reading blocks until a
// writer comes.
func TestFIFO(t *testing.T) {
	for _, tc := range []struct {
		fifo    string
		wantErr error
	}{
		{"node_modules/a/node_modules", nil}, // not a folder: nothing installed there
		{"node_modules/@s/c", nil},           // not a package
		{"node_modules/b/package.json", errNotRegular},
	} {
		t.Run(tc.fifo, func(t *testing.T) {
			root := t.TempDir()
			build(t, root, map[string]string{
				"node_modules/a/package.json": pj("a", "1.0.0"),
				"node_modules/b/":             "/",
				"node_modules/@s/":            "/",
			})
			if err := syscall.Mkfifo(filepath.Join(root, tc.fifo), 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := Read(context.Background(), root)
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Errorf("err = %v, want %v", err, tc.wantErr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Read blocked on a FIFO")
			}
		})
	}
}
