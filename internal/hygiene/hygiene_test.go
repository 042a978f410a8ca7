package hygiene

import (
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
)

const (
	sha512A = "sha512-IQeXCZhGRpFiLI3MYlCGLjNssUBiE8G21RMyNH35KFsxIvhrMeh5jXuG82woDZrYX9pgqHs+GF5js2Ducn4y4A=="
	sha512B = "sha512-zdF0QA7WaeXHn3sERgZ6VHIZZS+Lf4DJpAOikwFM5DZi01IygJHJtafoLkRr4yoyqlOrs3a2u/Bc2qtnxIpBNw=="
	sha1    = "sha1-Vo/mkcWAVB/vPJ5Rd8K/D6MpcSI="
)

func pkg(name, version string, src lockfile.Source, resolved, integrity string) lockfile.Package {
	return lockfile.Package{PackageVersion: npm.PackageVersion{Name: name, Version: version}, Source: src, Resolved: resolved, Integrity: integrity}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		format lockfile.Format
		pkg    lockfile.Package
		want   []string
	}{
		{"clean registry package", lockfile.FormatPackageLockV3,
			pkg("debug", "4.4.1", lockfile.SourceRegistry, "https://registry.npmjs.org/debug/-/debug-4.4.1.tgz", sha512A), nil},
		{"other host", lockfile.FormatPackageLockV3,
			pkg("debug", "4.4.1", lockfile.SourceRegistry, "https://evil.example.com/debug/-/debug-4.4.1.tgz", sha512A), []string{"VGL-H001"}},
		{"plain http on another host", lockfile.FormatPackageLockV3,
			pkg("debug", "4.4.1", lockfile.SourceRegistry, "http://mirror.example.com/debug-4.4.1.tgz", sha512A), []string{"VGL-H002", "VGL-H001"}},
		{"host match ignores case", lockfile.FormatYarnV1,
			pkg("debug", "4.4.1", lockfile.SourceRegistry, "https://Registry.Yarnpkg.com/debug/-/debug-4.4.1.tgz", sha512A), nil},
		{"missing integrity", lockfile.FormatPackageLockV3,
			pkg("debug", "4.4.1", lockfile.SourceRegistry, "https://registry.npmjs.org/debug/-/debug-4.4.1.tgz", ""), []string{"VGL-H003"}},
		{"berry records no tarball integrity", lockfile.FormatYarnBerry,
			pkg("debug", "4.4.1", lockfile.SourceRegistry, "debug@npm:4.4.1", ""), nil},
		{"sha1 only", lockfile.FormatYarnV1,
			pkg("debug", "4.4.1", lockfile.SourceRegistry, "https://registry.yarnpkg.com/debug/-/debug-4.4.1.tgz", sha1), []string{"VGL-H004"}},
		{"git", lockfile.FormatPackageLockV3,
			pkg("x", "1.0.0", lockfile.SourceGit, "git+ssh://git@github.com/a/x.git#abc", ""), []string{"VGL-H005"}},
		{"tarball url", lockfile.FormatPackageLockV3,
			pkg("x", "1.0.0", lockfile.SourceTarball, "https://example.com/x-1.0.0.tgz", sha512A), []string{"VGL-H006"}},
		{"file", lockfile.FormatPackageLockV3,
			pkg("x", "1.0.0", lockfile.SourceFile, "file:../x", ""), []string{"VGL-H007"}},
		{"workspace is ours", lockfile.FormatPackageLockV3,
			pkg("@acme/web", "1.0.0", lockfile.SourceWorkspace, "packages/web", ""), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &lockfile.Graph{Format: tt.format, Packages: []lockfile.Package{tt.pkg}}
			var got []string
			for _, is := range Check(g, []string{"https://registry.npmjs.org/", "https://registry.yarnpkg.com/"}) {
				got = append(got, is.Rule.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("rules = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConflicts(t *testing.T) {
	reg := "https://registry.npmjs.org/x/-/x-1.0.0.tgz"
	g1 := &lockfile.Graph{Packages: []lockfile.Package{
		pkg("x", "1.0.0", lockfile.SourceRegistry, reg, sha512A),
		pkg("y", "1.0.0", lockfile.SourceRegistry, reg, sha512A),
	}}
	g2 := &lockfile.Graph{Packages: []lockfile.Package{
		pkg("x", "1.0.0", lockfile.SourceRegistry, reg, sha512B), // differs: conflict
		pkg("y", "1.0.0", lockfile.SourceRegistry, reg, sha1),    // other algorithm: not comparable
		pkg("y", "1.0.0", lockfile.SourceRegistry, reg, sha512A), // same: fine
	}}
	got := Conflicts([]*lockfile.Graph{g1, nil, g2})
	if len(got) != 1 || got[0].Package.Name != "x" || len(got[0].Integrity) != 2 {
		t.Fatalf("Conflicts = %+v", got)
	}
}
