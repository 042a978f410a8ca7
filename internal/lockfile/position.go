package lockfile

import (
	"bytes"
	"sort"
)

// LineIndex turns byte offsets into 1-based line and column numbers. It is
// built once per file so that readers which only know offsets (JSON
// decoders) can still point at a line.
type LineIndex struct {
	starts []int // byte offset at which each line starts
}

func NewLineIndex(data []byte) *LineIndex {
	starts := make([]int, 1, bytes.Count(data, []byte{'\n'})+1)
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &LineIndex{starts: starts}
}

// Position returns the 1-based line and column of byte offset off.
func (x *LineIndex) Position(off int) (line, col int) {
	i := sort.Search(len(x.starts), func(i int) bool { return x.starts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, off - x.starts[i] + 1
}
