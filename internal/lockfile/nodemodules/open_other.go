//go:build !unix

package nodemodules

const (
	openFileFlags = 0
	openDirFlags  = 0
)
