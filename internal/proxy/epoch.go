package proxy

import (
	"hash/fnv"
	"sync/atomic"
)

// packageEpochs version each package's cached evaluations and filtered
// documents. A new verdict moves its package to a new epoch before the
// old entries are dropped, and every cache key carries the epoch the
// evaluation started in: a request that evaluated before the verdict and
// stores its result afterwards stores it under the old epoch, where no
// later request looks, instead of bringing the outdated document back.
// Packages share a fixed set of counters by hash — bounded memory; a
// collision only costs a recomputation.
type packageEpochs [1024]atomic.Uint64

func (p *packageEpochs) slot(name string) *atomic.Uint64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return &p[h.Sum32()%uint32(len(p))]
}

// of is name's current epoch.
func (p *packageEpochs) of(name string) uint64 { return p.slot(name).Load() }

// bump moves name to a new epoch.
func (p *packageEpochs) bump(name string) { p.slot(name).Add(1) }
