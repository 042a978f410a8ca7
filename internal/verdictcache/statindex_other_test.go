//go:build !linux

package verdictcache

import (
	"context"
	"errors"
	"testing"
)

// Without trustworthy change times, no folder is fingerprinted: all are
// hashed.
func TestStatFolderUnsupported(t *testing.T) {
	if _, err := StatFolder(context.Background(), t.TempDir(), "", 0); !errors.Is(err, ErrStatUnsupported) {
		t.Errorf("StatFolder: %v, want ErrStatUnsupported", err)
	}
}
