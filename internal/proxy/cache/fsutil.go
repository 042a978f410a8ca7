package cache

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// tempPrefix starts the name of every file being written. Only this process
// writes in the directory (Open holds its lock), so any such file found at
// Open was left by a crash.
const tempPrefix = ".tmp-"

func isTemp(name string) bool { return strings.HasPrefix(name, tempPrefix) }

// createTemp creates a temporary file in dir, mode 0o600.
func createTemp(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary file: %w", err)
	}
	return f, nil
}

// finishTemp flushes f to stable storage and closes it, so that a rename
// publishes complete bytes; on failure it removes f.
func finishTemp(f *os.File) error {
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	return nil
}

// writeTemp writes data to a new temporary file in dir, flushed and closed,
// and returns its path.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := createTemp(dir)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	if err := finishTemp(f); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// syncDir makes renames and removals in dir durable. Some systems cannot
// fsync a directory; there the rename is as durable as the OS makes it.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	err = d.Sync()
	d.Close()
	if err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// removeFile removes path; one that is already gone is not an error.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
