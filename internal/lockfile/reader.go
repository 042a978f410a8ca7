package lockfile

import (
	"context"
)

// MaxFileSize bounds what a reader accepts; the largest real lockfiles are a
// few tens of megabytes.
const MaxFileSize = 256 << 20

// Reader parses one lockfile format. Readers are pure: they get the file's
// bytes and its path (for messages and Locations) and do no I/O of their own.
type Reader interface {
	// Name is a short identifier such as "package-lock" or "pnpm".
	Name() string
	// Matches is a cheap test on the file's base name.
	Matches(base string) bool
	// Parse reads data, the whole content of the file at path.
	Parse(ctx context.Context, path string, data []byte) (*Graph, error)
}
