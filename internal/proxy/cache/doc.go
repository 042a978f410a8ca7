// Package cache is the registry proxy's on-disk cache: upstream documents
// (packuments) with the validators needed to revalidate them, and tarballs
// addressed by their SRI integrity.
//
// Layout under Options.Dir (created 0o700):
//
//	.lock                              flock: one process per directory
//	docs/<sha256(key)>.meta            JSON sidecar: key, body generation, size, validators
//	docs/<sha256(key)>.<gen>.body      the body, byte for byte as received
//	tarballs/<alg>-<hex digest>-<size> the tarball's bytes, verified before they got this name
//	docs/.tmp-*, tarballs/.tmp-*       writes in progress; any found at Open are debris of a crash
//
// Nothing a client or the upstream controls becomes a path: document keys are
// hashed, integrity strings are parsed strictly and re-encoded as hex.
//
// Crash safety: every file is written under a temporary name, fsynced, and
// renamed into place, so a name only ever points at complete bytes. A
// document's body is renamed first under a fresh generation name, then its
// sidecar (the commit point) is renamed over the old one; a crash in between
// leaves an unreferenced body that Open removes. Open also drops entries
// whose size disagrees with what their name or sidecar records (a truncated
// file), sidecars that do not parse, and every temporary file.
//
// Readers open a file and keep its descriptor: replacing or evicting an
// entry unlinks the old name but never disturbs a read in progress.
//
// Recency for LRU eviction is kept in memory and persisted cheaply as the
// data file's mtime, at most once per entry per persistInterval and for
// every entry used since at Close; Open rebuilds the order from the mtimes.
package cache
