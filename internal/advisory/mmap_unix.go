//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package advisory

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps a file read-only. Database generations are written once
// and never modified in place (an import writes a new generation and
// unlinks old ones, which leaves existing mappings valid), so the mapping
// stays consistent for the life of the DB.
func mapFile(path string) ([]byte, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := st.Size()
	if size == 0 {
		return nil, func() error { return nil }, nil
	}
	if size != int64(int(size)) {
		return nil, nil, fmt.Errorf("%s: %d bytes cannot be mapped", path, size)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		// Some filesystems cannot map; reading is the fallback.
		data, err = os.ReadFile(path)
		return data, func() error { return nil }, err
	}
	return data, func() error { return syscall.Munmap(data) }, nil
}
