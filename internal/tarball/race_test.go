//go:build race

package tarball

// raceEnabled: the race detector multiplies allocations, so the
// allocation bounds of the hostile tests do not apply.
const raceEnabled = true
