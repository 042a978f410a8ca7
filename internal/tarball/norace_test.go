//go:build !race

package tarball

const raceEnabled = false
