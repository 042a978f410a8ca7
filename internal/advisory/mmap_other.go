//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package advisory

import "os"

// mapFile reads the file where mmap is not wired up.
func mapFile(path string) ([]byte, func() error, error) {
	data, err := os.ReadFile(path)
	return data, func() error { return nil }, err
}
