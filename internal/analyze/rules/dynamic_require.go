package rules

import (
	"regexp"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// ComputedRequire catches modules loaded by a name computed at run time.
var ComputedRequire = &Rule{
	ID:       "VGL-A026",
	Name:     "computed-module-load",
	Severity: High,
	Category: CatDynamicCode,
	Summary: "require(), module.require() or import() of a specifier computed at run time — info (a fact, no " +
		"points); medium in a " +
		"file an install script runs; high when the specifier is decoded at run time (base64, char codes, a " +
		"string table) or the file downloads from a fixed URL and writes files (load what was just dropped). " +
		"Specifiers built from the package's own paths (__dirname, path.join/resolve, process.cwd(), " +
		"relative prefixes, import.meta.url) are ignored.",
	Why: "A computed specifier hides which code runs from every reader and tool, and loading a file the package " +
		"just downloaded is how droppers start their second stage.",
	FalsePositives: "Plugin loaders (require(pluginName)), lazy loading and bundler runtimes compute specifiers " +
		"all the time (most packages of the benign set do): that is why the plain case only informs.",
	Check: checkComputedRequire,
}

// ownPath: a specifier built from the package's own location.
var ownPath = regexp.MustCompile("__dirname|__filename|\\bpath\\b|\\b(?:join|resolve|relative|normalize|dirname)\\(|cwd\\(|import\\.meta|" +
	"fileURLToPath|pathToFileURL|^['\"`]\\.{0,2}/|^['\"`]@?[a-z0-9_.-]+/?['\"`]\\s*\\+")

// requireOrigin finds the origin of the require call behind an import.
func requireOrigin(f *facts.FileFacts, imp *js.Import) js.Origin {
	for i := range f.JS.Calls {
		c := &f.JS.Calls[i]
		if c.Pos == imp.Pos && (c.Callee == "require" || c.Callee == "module.require" || c.Callee == "process.mainModule.require") {
			return c.Arg(0).Origin
		}
	}
	return 0
}

// hiddenDecode: decoded at run time from text in the file, not passed
// through a helper's parameter (see js.FromParameter).
func hiddenDecode(o js.Origin, codeSink bool) bool {
	return decodedFor(o, codeSink) && o&js.FromParameter == 0
}

func checkComputedRequire(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		var worst *Finding
		dropper := -1
		for i := range f.JS.Imports {
			imp := &f.JS.Imports[i]
			if !imp.Computed || ownPath.MatchString(imp.Expr) {
				continue
			}
			how := "require"
			if imp.Dynamic {
				how = "import()"
			}
			sev, why := Info, ""
			if f.InstallTime {
				sev, why = Medium, installNote(f)
			}
			if o := requireOrigin(f, imp); hiddenDecode(o, false) {
				sev, why = High, " decoded at run time ("+o.String()+")"
			} else {
				if dropper < 0 {
					dropper = 0
					if fetchesWithConstantURL(f) && writesFiles(f) {
						dropper = 1
					}
				}
				if dropper == 1 {
					sev, why = High, " in a file that downloads from a fixed URL and writes files"
				}
			}
			if worst == nil || sev.Rank() > worst.Severity.Rank() {
				fd := at(sev, f, imp.Pos, "%s of a specifier computed at run time (%s)%s", how, Sanitize(imp.Expr, 60), why)
				worst = &fd
			}
		}
		if worst != nil {
			out = append(out, *worst)
		}
	})
	return out
}
