package analyze

import (
	"github.com/vigil-sec/vigil/internal/tarball"
)

// FromArchive turns a tarball read by package tarball into the files
// analysed. Files too large to load (tarball.ReasonTooLarge) are not
// analysed; the archive's Skipped list says which.
func FromArchive(a *tarball.Archive, name, version, integrity string) Package {
	p := Package{Name: name, Version: version, Integrity: integrity, Files: make([]File, 0, len(a.Files))}
	for _, f := range a.Files {
		p.Files = append(p.Files, File{Path: f.Path, Mode: f.Mode, Data: f.Data})
	}
	return p
}
