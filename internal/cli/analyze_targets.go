package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile/readers"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/report"
)

// targetKind says how a TARGET is read.
type targetKind string

const (
	kindTarball     targetKind = report.AnalyzeKindTarball
	kindFolder      targetKind = report.AnalyzeKindFolder
	kindRegistry    targetKind = report.AnalyzeKindRegistry
	kindLockfile    targetKind = report.AnalyzeKindLockfile
	kindNodeModules targetKind = report.AnalyzeKindNodeModules
)

// isProject reports kinds that expand into every dependency.
func (k targetKind) isProject() bool { return k == kindLockfile || k == kindNodeModules }

type analyzeTarget struct {
	arg           string
	kind          targetKind
	name, version string // for kindRegistry
}

// classifyTarget decides what a TARGET is. An existing file or folder wins
// over name@version, so ./pkg@1.0.0 stays a path. For folders (documented
// in the command's help):
//   - a folder named node_modules, or any folder with --deps, is a project:
//     every package installed in it is analysed;
//   - a folder that holds a node_modules folder is a project too, unless it
//     is itself inside a node_modules folder — then it is an installed
//     package whose nested node_modules holds its own dependencies, and it
//     is analysed as one package, as a folder without node_modules is.
//
// A file is a lockfile or SBOM when a lockfile reader claims its name, and
// a package tarball otherwise.
func classifyTarget(a string, deps bool) (analyzeTarget, error) {
	if st, err := os.Stat(a); err == nil {
		if !st.IsDir() {
			if readers.For(a) != nil || readers.IsBinaryBunLock(a) {
				return analyzeTarget{arg: a, kind: kindLockfile}, nil
			}
			return analyzeTarget{arg: a, kind: kindTarball}, nil
		}
		abs, err := filepath.Abs(a)
		if err != nil {
			return analyzeTarget{}, usagef("%s: %v", a, err)
		}
		if filepath.Base(abs) == "node_modules" {
			return analyzeTarget{arg: a, kind: kindNodeModules}, nil
		}
		hasNodeModules := isDir(filepath.Join(a, "node_modules"))
		switch {
		case deps && !hasNodeModules:
			return analyzeTarget{}, usagef("%s: --deps, but the folder has no node_modules folder (install the project first, or analyse its lockfile)", a)
		case deps, hasNodeModules && !insideNodeModules(abs):
			return analyzeTarget{arg: a, kind: kindNodeModules}, nil
		}
		return analyzeTarget{arg: a, kind: kindFolder}, nil
	}
	if strings.HasSuffix(a, ".tgz") || strings.HasSuffix(a, ".tar.gz") || (strings.ContainsAny(a, `/\`) && !strings.HasPrefix(a, "@")) {
		return analyzeTarget{}, usagef("%s: no such file or folder", a)
	}
	if readers.For(a) != nil {
		return analyzeTarget{}, usagef("%s: no such lockfile", a)
	}
	at := strings.LastIndex(a, "@")
	if at <= 0 || at == len(a)-1 {
		return analyzeTarget{}, usagef("%s: not a file, a folder or name@version", a)
	}
	name, version := a[:at], a[at+1:]
	if err := npm.ValidateName(name); err != nil {
		return analyzeTarget{}, usagef("%s: %v", a, err)
	}
	return analyzeTarget{arg: a, kind: kindRegistry, name: name, version: version}, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// insideNodeModules reports whether an absolute folder path lies inside a
// node_modules folder.
func insideNodeModules(abs string) bool {
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if filepath.Base(dir) == "node_modules" {
			return true
		}
		if parent := filepath.Dir(dir); parent == dir {
			return false
		}
	}
}
