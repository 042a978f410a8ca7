// Package sbom reads CycloneDX and SPDX JSON SBOMs into lockfile.Graph, so
// that an SBOM can be scanned like a lockfile, and writes a CycloneDX 1.6
// BOM of what Vigil found.
//
// Reading: both readers implement lockfile.Reader. They walk the JSON with
// encoding/json's streaming Decoder (walk.go) instead of decoding whole
// documents, for three reasons: every package gets the line and column of
// its object, which reports and SARIF need; a malformed file gets a
// lockfile.ParseError that names the field and points at the value; and
// the many sections Vigil does not use are skipped unbuilt, so a BOM is
// not rejected for a license or vulnerability entry it never reads.
// cyclonedx-go's decoder has none of these properties, so it is used for
// writing only.
//
// What becomes a package: a CycloneDX component or an SPDX package with an
// npm purl (pkg:npm/%40scope/name@1.2.3, or with an unencoded @scope). Name
// and version come from the purl; the integrity is the strongest of the
// SHA-512/384/256/1 hashes as an SRI string; the resolved URL is the
// distribution reference (CycloneDX) or download location (SPDX), else a
// download_url or vcs_url purl qualifier, and gives the Source. Everything
// else is skipped, and so are edges through it, with one exception: a
// non-npm element that depends on npm packages (a sub-application of a
// monorepo BOM, the folder syft scanned) becomes an importer of its own.
//
// Known limits: npm sbom lists the project's own workspace packages as
// ordinary components, with nothing to tell them from registry packages,
// so they are read as SourceRegistry. SPDX 3 (JSON-LD), tag-value and
// RDF, and CycloneDX XML and protobuf are not read.
package sbom
