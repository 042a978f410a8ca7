//go:build unix

package nodemodules

import "syscall"

// A hostile tree can hold a FIFO named package.json or node_modules, on
// which a plain open blocks for ever: files are opened non-blocking and
// folders with O_DIRECTORY, which fails at once on anything else.
const (
	openFileFlags = syscall.O_NONBLOCK
	openDirFlags  = syscall.O_NONBLOCK | syscall.O_DIRECTORY
)
