//go:build !unix

package tarball

// nonblock is 0 off Unix, where there are no FIFOs to block on.
const nonblock = 0
