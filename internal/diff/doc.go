// Package diff says what changed between two releases of a package: the
// files added, removed and changed (with bounded line diffs of text
// files), package.json field by field, the capabilities that appear or
// disappear (network, process execution, environment access, filesystem
// writes, dynamic code, obfuscation…), the analysis findings that are new
// or gone, and — when the registry's packument is at hand — the signals
// around the publication itself: a changed publisher, changed maintainers,
// a trust downgrade (provenance or trusted publishing lost), odd publish
// times.
//
// Compare is the whole job; Fold turns a Diff into extra, explained
// points on the newer release's analysis report, for
// `vigil analyze --against-previous`: a behaviour a package always had
// weighs less than one that arrived with this release.
//
// Nothing here prints, fetches (except AgainstPrevious, through the
// Fetcher it is handed) or executes package code. Text taken from a
// package (hunk lines, package.json values, signal messages) is sanitised
// with rules.Sanitize and bounded when the Diff is built; paths and names
// are kept verbatim because they are identities, so printers must
// sanitise those.
package diff
