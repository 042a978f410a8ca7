//go:build unix

package tarball

import "syscall"

const nonblock = syscall.O_NONBLOCK
