package verdictcache

import (
	"context"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"slices"
	"syscall"
)

// trustedFS are the filesystems (statfs magic numbers) whose change times
// the kernel keeps for every change: local filesystems. Network and FUSE
// filesystems are left out (attribute caches may serve stale metadata,
// and a FUSE server reports what it likes), as is anything unknown.
var trustedFS = map[uint32]string{
	0xEF53:     "ext2/3/4",
	0x58465342: "xfs",
	0x9123683E: "btrfs",
	0x01021994: "tmpfs",
	0x794C7630: "overlayfs",
	0x2FC12FC1: "zfs",
	0xF2F52010: "f2fs",
	0xCA451A4E: "bcachefs",
}

// statWalk hashes the metadata of every entry under abs into h. Each
// directory is opened inside its parent without following symlinks (an
// os.Root per directory) and each entry is lstat'ed by name within it, so
// the walk sees what tarball.ReadDir sees and nothing outside. It reports
// whether an entry changed at or after racyAfter (ns).
func statWalk(ctx context.Context, abs string, h hash.Hash, racyAfter int64, maxEntries int) (racy bool, err error) {
	root, err := os.OpenRoot(abs)
	if err != nil {
		return false, err
	}
	defer root.Close()
	self, err := root.Open(".")
	if err != nil {
		return false, err
	}
	var sfs syscall.Statfs_t
	if rc, err := self.SyscallConn(); err == nil {
		cerr := rc.Control(func(fd uintptr) { err = syscall.Fstatfs(int(fd), &sfs) })
		if err == nil {
			err = cerr
		}
	}
	info, serr := self.Stat()
	self.Close()
	if err != nil {
		return false, &fs.PathError{Op: "statfs", Path: abs, Err: err}
	}
	if serr != nil {
		return false, serr
	}
	if _, ok := trustedFS[uint32(sfs.Type)]; !ok {
		return false, fmt.Errorf("%w (filesystem type %#x)", ErrStatUnsupported, uint32(sfs.Type))
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return false, ErrStatUnsupported
	}
	w := walker{ctx: ctx, h: h, dev: uint64(st.Dev), racyAfter: racyAfter, max: maxEntries}
	fmt.Fprintf(h, "root %d %d\n", uint64(st.Dev), uint64(st.Ino))
	err = w.dir(root, ".")
	return w.racy, err
}

type walker struct {
	ctx       context.Context
	h         hash.Hash
	dev       uint64
	racyAfter int64
	max, n    int
	racy      bool
}

// dir hashes the entries of the directory d (named rel), in byte order,
// descending into subdirectories.
func (w *walker) dir(d *os.Root, rel string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	f, err := d.Open(".")
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("reading %s: %w", rel, err)
	}
	slices.Sort(names)
	for _, name := range names {
		w.n++
		if w.max > 0 && w.n > w.max {
			return errTooManyEntries
		}
		p := name
		if rel != "." {
			p = rel + "/" + name
		}
		info, err := d.Lstat(name)
		if err != nil {
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return ErrStatUnsupported
		}
		if uint64(st.Dev) != w.dev {
			return fmt.Errorf("%w (%s is on another filesystem)", ErrStatUnsupported, p)
		}
		if info.IsDir() {
			// A directory's own times move when entries come and go, and
			// its entries are listed: its identity is enough.
			fmt.Fprintf(w.h, "dir %q %o %d\n", p, st.Mode, uint64(st.Ino))
			sub, err := d.OpenRoot(name)
			if err != nil {
				return err
			}
			err = w.dir(sub, p)
			sub.Close()
			if err != nil {
				return err
			}
			continue
		}
		mtime, ctime := st.Mtim.Nano(), st.Ctim.Nano()
		fmt.Fprintf(w.h, "entry %q %o %d %d %d %d\n", p, st.Mode, st.Size, mtime, ctime, uint64(st.Ino))
		if mtime >= w.racyAfter || ctime >= w.racyAfter {
			w.racy = true
		}
	}
	return nil
}
