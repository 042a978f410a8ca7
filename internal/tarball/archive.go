// Package tarball reads untrusted npm package tarballs (.tgz) and unpacked
// package folders into memory, within limits, without writing anything to
// disk and without executing anything.
//
// The reader's job is to show the analyser exactly the files npm would
// install, and nothing it would not. npm (pacote) extracts with node-tar,
// stripping the first path component of every entry whatever its name,
// dropping links, devices and entries whose path contains "..", and letting
// the last of two entries with the same path win; Read does the same and
// records everything it did not load in Archive.Skipped and everything
// unusual in Archive.Warnings. Where node-tar and Go's archive/tar would
// read the bytes differently, Read refuses the archive (ErrAmbiguous)
// rather than analyse a file set npm would not install.
package tarball

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Archive is the contents of one package.
type Archive struct {
	// Root is the top-level folder of the first entry ("package" for
	// tarballs made by npm, sometimes the package name or "node"); empty
	// for ReadDir.
	Root string
	// Files are the regular files npm would install, sorted by Path, one
	// per path (the last entry of a duplicated path wins).
	Files []File
	// Skipped lists every entry not in Files, with the reason, in archive
	// order.
	Skipped []Skipped
	// Warnings are anomalies worth an analyser's attention: npm's own
	// packer never produces them. At most maxWarnings are kept;
	// WarningsDropped counts the rest.
	Warnings        []Warning
	WarningsDropped int
	// CompressedSize and UncompressedSize are the bytes read from the input
	// and the length of the decompressed tar stream (for ReadDir, both are
	// the total size of the regular files). Entries counts every entry.
	CompressedSize   int64
	UncompressedSize int64
	Entries          int

	index map[string]int
}

// File is one regular file.
type File struct {
	// Path is relative to the package root, slash-separated, cleaned: never
	// absolute, never containing "." or ".." elements or a NUL byte.
	Path string
	// Mode is 0o644, or 0o755 when the archive gave any execute bit: like
	// npm, odd modes (0000, 0777, setuid) are normalised.
	Mode fs.FileMode
	Size int64
	Data []byte
}

// Reason says why an entry is in Skipped.
type Reason string

const (
	ReasonDirectory       Reason = "directory"        // npm creates directories implicitly
	ReasonSymlink         Reason = "symlink"          // npm never installs links
	ReasonHardlink        Reason = "hardlink"         // npm never installs links
	ReasonDevice          Reason = "device"           // character/block devices, sockets
	ReasonFIFO            Reason = "fifo"             // named pipes
	ReasonOutsidePackage  Reason = "outside-package"  // no top-level folder: npm does not install it
	ReasonUnsafePath      Reason = "unsafe-path"      // "..", NUL, invalid UTF-8: npm refuses it
	ReasonTooLarge        Reason = "too-large"        // over MaxFileSize; Head has its first bytes
	ReasonUnsupportedType Reason = "unsupported-type" // vendor tar types npm ignores
	ReasonPAXGlobal       Reason = "pax-global-header"
)

// Skipped is an entry whose contents are not in Files.
type Skipped struct {
	Name     string // the name as stored in the archive
	Path     string // normalised like File.Path; empty when unsafe or outside the package
	Type     byte   // the tar type flag (tar.TypeDir, tar.TypeSymlink...)
	Reason   Reason
	Linkname string // link target as stored, for links
	// Escapes is set for links whose target, resolved from the link,
	// leaves the package root, and for entries whose own path does.
	Escapes bool
	Size    int64  // declared size
	Head    []byte // first bytes of a too-large file
}

// WarningCode classifies a Warning.
type WarningCode string

const (
	WarnNotCompressed   WarningCode = "not-compressed"   // a plain tar: npm accepts it, npm pack never makes it
	WarnForeignRoot     WarningCode = "foreign-root"     // entry under another top-level folder than the first
	WarnOutsidePackage  WarningCode = "outside-package"  // entry npm does not install (no top-level folder)
	WarnAbsolutePath    WarningCode = "absolute-path"    // npm strips the root and installs it
	WarnUnsafePath      WarningCode = "unsafe-path"      // "..", NUL or invalid UTF-8: skipped
	WarnBackslash       WarningCode = "backslash-path"   // a separator on Windows, a name character elsewhere
	WarnDuplicate       WarningCode = "duplicate"        // the same path twice; the last wins
	WarnLink            WarningCode = "link"             // a link inside the package (npm drops it)
	WarnLinkEscapes     WarningCode = "link-escapes"     // a link whose target leaves the package
	WarnSpecialFile     WarningCode = "special-file"     // device or FIFO
	WarnUnsupportedType WarningCode = "unsupported-type" // vendor tar types npm ignores
	WarnSetuid          WarningCode = "setuid"           // setuid/setgid bits on a file
	WarnTooLarge        WarningCode = "too-large"        // file not loaded: over MaxFileSize
	WarnTrailingData    WarningCode = "trailing-data"    // non-zero bytes after the tar end marker, or NULs after gzip
)

// Warning is one anomaly, about one entry when Path is set.
type Warning struct {
	Code    WarningCode
	Path    string // the entry's name as stored in the archive
	Message string
}

func (w Warning) String() string {
	if w.Path == "" {
		return fmt.Sprintf("%s: %s", w.Code, w.Message)
	}
	return fmt.Sprintf("%s: %q: %s", w.Code, truncate(w.Path, 120), w.Message)
}

// maxWarnings bounds Warnings: a hostile archive of 100,000 duplicates
// needs one warning to be recognised, not 100,000.
const maxWarnings = 1000

func (a *Archive) warn(code WarningCode, name, format string, args ...any) {
	if len(a.Warnings) >= maxWarnings {
		a.WarningsDropped++
		return
	}
	a.Warnings = append(a.Warnings, Warning{Code: code, Path: name, Message: fmt.Sprintf(format, args...)})
}

// HasWarning reports whether a warning with the code was recorded.
func (a *Archive) HasWarning(code WarningCode) bool {
	return slices.ContainsFunc(a.Warnings, func(w Warning) bool { return w.Code == code })
}

// Get returns the file at p, a path relative to the package root ("./"
// prefixes and redundant separators are accepted).
func (a *Archive) Get(p string) (*File, bool) {
	p = path.Clean(strings.TrimPrefix(p, "/"))
	if a.index != nil {
		i, ok := a.index[p]
		if !ok {
			return nil, false
		}
		return &a.Files[i], true
	}
	for i := range a.Files { // an Archive built by hand has no index
		if a.Files[i].Path == p {
			return &a.Files[i], true
		}
	}
	return nil, false
}

// PackageJSON returns the contents of the package.json at the package
// root.
func (a *Archive) PackageJSON() ([]byte, error) {
	if f, ok := a.Get("package.json"); ok {
		return f.Data, nil
	}
	for _, s := range a.Skipped {
		if s.Path == "package.json" {
			return nil, fmt.Errorf("tarball: package.json was not loaded (%s): %w", s.Reason, ErrNoPackageJSON)
		}
	}
	return nil, ErrNoPackageJSON
}

// finish sorts Files and turns seen (Path → index before sorting) into the
// index, reusing the map: with a million entries a second one would cost
// tens of megabytes.
func (a *Archive) finish(seen map[string]int) {
	slices.SortFunc(a.Files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	for i, f := range a.Files {
		seen[f.Path] = i
	}
	a.index = seen
}
