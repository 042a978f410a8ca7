package proxy

import (
	"container/list"
	"sync"
)

// lru is a map bounded by the total size of its values, evicting the
// least recently used. Values are immutable once added: readers share them
// without copying.
type lru[V any] struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	order    *list.List // front: most recent
	items    map[string]*list.Element
}

type lruItem[V any] struct {
	key   string
	value V
	size  int64
}

func newLRU[V any](maxBytes int64) *lru[V] {
	return &lru[V]{maxBytes: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

func (c *lru[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*lruItem[V]).value, true
	}
	var zero V
	return zero, false
}

// add stores value under key. A value larger than the whole budget is not
// kept (it would evict everything and then itself).
func (c *lru[V]) add(key string, value V, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.bytes -= el.Value.(*lruItem[V]).size
		c.order.Remove(el)
		delete(c.items, key)
	}
	if size > c.maxBytes {
		return
	}
	c.items[key] = c.order.PushFront(&lruItem[V]{key: key, value: value, size: size})
	c.bytes += size
	for c.bytes > c.maxBytes {
		el := c.order.Back()
		it := el.Value.(*lruItem[V])
		c.order.Remove(el)
		delete(c.items, it.key)
		c.bytes -= it.size
	}
}

// size returns the bytes held.
func (c *lru[V]) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}
