package tarball

import (
	"errors"
	"fmt"
)

// Limits bound the work and memory one untrusted tarball may cost. A zero
// field takes its default, so the zero Limits is DefaultLimits(); there is
// deliberately no way to switch a limit off.
type Limits struct {
	// MaxCompressed caps the bytes read from the input (the .tgz itself).
	MaxCompressed int64
	// MaxUncompressed caps the decompressed tar stream: headers, file data
	// and padding. Loaded file data is part of that stream, so it also caps
	// the memory an Archive holds.
	MaxUncompressed int64
	// MaxRatio caps decompressed/compressed bytes, checked continuously once
	// ratioGrace bytes have been inflated, so a decompression bomb stops
	// after about a mebibyte instead of after MaxUncompressed.
	MaxRatio float64
	// MaxEntries caps the tar entries of any type (files, directories,
	// links...).
	MaxEntries int
	// MaxPathLen caps the length in bytes of an entry's name and link
	// target as stored in the archive.
	MaxPathLen int
	// MaxFileSize is the largest regular file whose contents are loaded.
	// Larger files are not an error: they are listed in Archive.Skipped
	// with ReasonTooLarge and the first bytes of their contents (Head),
	// because real packages ship large native binaries (bun, node, SWC).
	MaxFileSize int64
}

// Defaults, measured against 605 real registry tarballs (an npm cache and
// the clean set of the evaluation corpus, 2025): the largest unpacked was
// next@16 at 199 MB in 8,711 files, the largest single file a 125 MB node
// binary, the highest whole-archive compression ratio 14.6 and the longest
// name 122 bytes.
const (
	DefaultMaxCompressed   = 128 << 20 // next@16 is 44 MB compressed
	DefaultMaxUncompressed = 256 << 20 // next@16 is 199 MB; also the memory ceiling
	DefaultMaxRatio        = 100       // real tarballs stay under 15; zeros inflate ~1030:1
	DefaultMaxEntries      = 100_000   // the biggest icon sets have tens of thousands of files
	DefaultMaxPathLen      = 1024      // real names stay far below; Linux PATH_MAX is 4096
	DefaultMaxFileSize     = 32 << 20  // the largest real JavaScript files are ~10 MB
)

// ratioGrace is how much must be inflated before MaxRatio applies: tiny
// archives are mostly tar padding and reach ratios of 100 or more
// legitimately (a 10 KiB tar record from 60 compressed bytes).
const ratioGrace = 1 << 20

// headSize is how much of a too-large file is kept in Skipped.Head: enough
// to recognise ELF/PE/Mach-O headers, a shebang or the start of a script.
const headSize = 4096

// DefaultLimits returns the limits used when a Limits field is zero.
func DefaultLimits() Limits {
	return Limits{
		MaxCompressed:   DefaultMaxCompressed,
		MaxUncompressed: DefaultMaxUncompressed,
		MaxRatio:        DefaultMaxRatio,
		MaxEntries:      DefaultMaxEntries,
		MaxPathLen:      DefaultMaxPathLen,
		MaxFileSize:     DefaultMaxFileSize,
	}
}

// withDefaults replaces zero and negative fields by their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxCompressed <= 0 {
		l.MaxCompressed = d.MaxCompressed
	}
	if l.MaxUncompressed <= 0 {
		l.MaxUncompressed = d.MaxUncompressed
	}
	if !(l.MaxRatio > 0) { // also catches NaN
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxPathLen <= 0 {
		l.MaxPathLen = d.MaxPathLen
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = d.MaxFileSize
	}
	return l
}

// Limit names one of the bounds in Limits.
type Limit string

const (
	LimitCompressed   Limit = "compressed size"
	LimitUncompressed Limit = "uncompressed size"
	LimitRatio        Limit = "compression ratio"
	LimitEntries      Limit = "entry count"
	LimitPathLen      Limit = "path length"
)

// LimitError reports that reading stopped because the input crossed a
// limit. Value is what had been reached (or, for a declared file size, what
// would have been reached) when reading stopped.
type LimitError struct {
	Limit Limit
	Max   float64
	Value float64
	Path  string // the entry concerned, when there is one
}

func (e *LimitError) Error() string {
	var s string
	switch e.Limit {
	case LimitRatio:
		s = fmt.Sprintf("tarball: compression ratio %.0f:1 exceeds the limit of %.0f:1 (a decompression bomb?)", e.Value, e.Max)
	case LimitEntries:
		s = fmt.Sprintf("tarball: more than %.0f entries", e.Max)
	case LimitPathLen:
		s = fmt.Sprintf("tarball: a name of %.0f bytes exceeds the path length limit of %.0f", e.Value, e.Max)
	default:
		s = fmt.Sprintf("tarball: %s exceeds the limit of %.0f bytes (reached %.0f)", e.Limit, e.Max, e.Value)
	}
	if e.Path != "" {
		s += fmt.Sprintf(" at entry %q", truncate(e.Path, 120))
	}
	return s
}

// Sentinel errors, matched with errors.Is; every error Read returns for bad
// input is a *LimitError or a *FormatError wrapping one of these.
var (
	// ErrFormat: the input is neither a gzip-compressed nor a plain tar.
	ErrFormat = errors.New("not a tarball")
	// ErrTruncated: the input ends in the middle of the gzip or tar stream.
	ErrTruncated = errors.New("truncated tarball")
	// ErrCorrupt: invalid deflate data, a bad gzip checksum, an invalid tar
	// header.
	ErrCorrupt = errors.New("corrupt tarball")
	// ErrTrailingData: bytes after the gzip stream, including a second
	// concatenated gzip member, which npm would go on to read but Vigil
	// does not.
	ErrTrailingData = errors.New("data after the end of the gzip stream")
	// ErrAmbiguous: npm's tar reader (node-tar) would read the archive
	// differently from Go's archive/tar, so what Vigil analyses might not
	// be what npm installs.
	ErrAmbiguous = errors.New("tar archive that npm would read differently")
	// ErrUnsupported: valid archives that npm never produces and Vigil
	// refuses to interpret (sparse files, zstd/bzip2/xz compression...).
	ErrUnsupported = errors.New("unsupported tarball")
	// ErrNoPackageJSON: the archive has no package.json at its root.
	ErrNoPackageJSON = errors.New("no package.json at the package root")
)

// FormatError is malformed or refused input. Kind is one of the sentinel
// errors above; Err, when set, is the underlying decoder error.
type FormatError struct {
	Kind   error
	Detail string
	Offset int64 // compressed bytes read when the problem was found; -1 when unknown
	Err    error
}

func (e *FormatError) Error() string {
	s := "tarball: " + e.Kind.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (after %d compressed bytes)", e.Offset)
	}
	return s
}

func (e *FormatError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
