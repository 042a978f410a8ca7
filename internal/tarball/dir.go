package tarball

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// ReadDir reads an unpacked package folder (a node_modules/<name> folder,
// or a checkout) into an Archive with the same limits and the same
// File/Skipped/Warning vocabulary as Read. Paths are relative to dir, with
// no top-level folder stripped. Symbolic links are never followed: they are
// listed in Skipped and flagged when they point outside dir; all access
// goes through os.Root, so a link swapped in while reading cannot lead
// outside either. Nested node_modules folders are read like any other
// folder: whether they hold bundled dependencies is for the caller to
// decide.
//
// MaxCompressed and MaxRatio do not apply; MaxUncompressed caps the total
// size of the files loaded.
func ReadDir(ctx context.Context, dir string, lim Limits) (*Archive, error) {
	lim = lim.withDefaults()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("tarball: %w", err)
	}
	defer root.Close()
	a := &Archive{}
	seen := map[string]int{}
	var total int64
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		a.Entries++
		if a.Entries > lim.MaxEntries {
			return &LimitError{Limit: LimitEntries, Max: float64(lim.MaxEntries), Value: float64(a.Entries)}
		}
		if len(p) > lim.MaxPathLen {
			return &LimitError{Limit: LimitPathLen, Max: float64(lim.MaxPathLen), Value: float64(len(p)), Path: p}
		}
		rec := Skipped{Name: p, Path: p}
		switch typ := d.Type(); {
		case typ.IsDir():
			rec.Type, rec.Reason = tar.TypeDir, ReasonDirectory
		case typ&fs.ModeSymlink != 0:
			target, err := root.Readlink(p)
			if err != nil {
				return err
			}
			rec.Type, rec.Reason, rec.Linkname = tar.TypeSymlink, ReasonSymlink, target
			rec.Escapes = linkEscapes(path.Dir(p), target)
			if rec.Escapes {
				a.warn(WarnLinkEscapes, p, "a symlink to %q, outside the package; not followed", truncate(target, 120))
			} else {
				a.warn(WarnLink, p, "a symlink to %q; not followed", truncate(target, 120))
			}
		case typ.IsRegular():
			f, skipped, err := readDirFile(root, p, lim)
			if err != nil {
				return err
			}
			if skipped != nil {
				a.Skipped = append(a.Skipped, *skipped)
				if skipped.Reason == ReasonTooLarge {
					a.warn(WarnTooLarge, p, "%d bytes, over the %d-byte file size limit: contents not loaded", skipped.Size, lim.MaxFileSize)
				} else {
					a.warn(WarnSpecialFile, p, "changed into a special file while being read")
				}
				return nil
			}
			total += f.Size
			if total > lim.MaxUncompressed {
				return &LimitError{Limit: LimitUncompressed, Max: float64(lim.MaxUncompressed), Value: float64(total), Path: p}
			}
			if strings.IndexByte(p, '\\') >= 0 {
				a.warn(WarnBackslash, p, "contains a backslash, a path separator on Windows")
			}
			seen[p] = len(a.Files)
			a.Files = append(a.Files, *f)
			return nil
		case typ&fs.ModeNamedPipe != 0:
			rec.Type, rec.Reason = tar.TypeFifo, ReasonFIFO
			a.warn(WarnSpecialFile, p, "a named pipe")
		default:
			rec.Type, rec.Reason = tar.TypeChar, ReasonDevice
			a.warn(WarnSpecialFile, p, "a device file or socket")
		}
		a.Skipped = append(a.Skipped, rec)
		return nil
	})
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			return nil, le
		}
		return nil, fmt.Errorf("tarball: reading %s: %w", dir, err)
	}
	a.CompressedSize, a.UncompressedSize = total, total
	a.finish(seen)
	return a, nil
}

// readDirFile loads one regular file, or describes why it was not loaded.
func readDirFile(root *os.Root, p string, lim Limits) (*File, *Skipped, error) {
	// O_NONBLOCK: if the file was replaced by a FIFO since it was listed,
	// opening it must not block until a writer appears.
	fh, err := root.OpenFile(p, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &Skipped{Name: p, Path: p, Type: tar.TypeFifo, Reason: ReasonFIFO}, nil
	}
	size := info.Size()
	mode := fs.FileMode(0o644)
	if info.Mode().Perm()&0o111 != 0 {
		mode = 0o755
	}
	if size > lim.MaxFileSize {
		head := make([]byte, min(size, headSize))
		n, err := io.ReadFull(fh, head)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, err
		}
		return nil, &Skipped{Name: p, Path: p, Type: tar.TypeReg, Reason: ReasonTooLarge, Size: size, Head: head[:n]}, nil
	}
	// The file may grow between Stat and ReadAll: read one byte more than
	// the limit to notice.
	data, err := io.ReadAll(io.LimitReader(fh, lim.MaxFileSize+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > lim.MaxFileSize {
		return nil, &Skipped{Name: p, Path: p, Type: tar.TypeReg, Reason: ReasonTooLarge, Size: int64(len(data)), Head: bytes.Clone(data[:min(len(data), headSize)])}, nil
	}
	return &File{Path: p, Mode: mode, Size: int64(len(data)), Data: data}, nil, nil
}
