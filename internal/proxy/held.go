package proxy

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
)

// heldRegistry remembers, per package, the versions the latest evaluation
// held back, for the admin API's GET /held: a cooldown or a quarantine
// must never silently change what gets installed.
type heldRegistry struct {
	mu  sync.Mutex
	max int
	m   map[string]heldPackage
}

// heldPackage is one package's held-back versions as of EvaluatedAt.
type heldPackage struct {
	Name        string            `json:"name"`
	EvaluatedAt time.Time         `json:"evaluated_at"`
	Versions    []policy.Decision `json:"versions"`
	// Until is the earliest moment one of them may be released (a
	// cooldown ends); zero when none is time-bound.
	Until time.Time `json:"until,omitzero"`
}

func newHeldRegistry(max int) *heldRegistry {
	return &heldRegistry{max: max, m: map[string]heldPackage{}}
}

// update replaces name's entry with e's held versions.
func (h *heldRegistry) update(e *evaluation, now time.Time) {
	held := e.held()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(held) == 0 {
		delete(h.m, e.name)
		return
	}
	if _, ok := h.m[e.name]; !ok && len(h.m) >= h.max {
		// Drop the oldest evaluation to make room.
		var oldest string
		var at time.Time
		for k, v := range h.m {
			if oldest == "" || v.EvaluatedAt.Before(at) {
				oldest, at = k, v.EvaluatedAt
			}
		}
		delete(h.m, oldest)
	}
	p := heldPackage{Name: e.name, EvaluatedAt: now, Versions: held}
	for _, d := range held {
		for _, r := range d.Reasons {
			if !r.Until.IsZero() && (p.Until.IsZero() || r.Until.Before(p.Until)) {
				p.Until = r.Until
			}
		}
	}
	h.m[e.name] = p
}

// list returns every package with held versions, by name; entries whose
// every reason has expired by now are left out.
func (h *heldRegistry) list(now time.Time) []heldPackage {
	h.mu.Lock()
	out := make([]heldPackage, 0, len(h.m))
	for _, p := range h.m {
		out = append(out, p)
	}
	h.mu.Unlock()
	out = slices.DeleteFunc(out, func(p heldPackage) bool { return !stillHeld(p, now) })
	slices.SortFunc(out, func(a, b heldPackage) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// stillHeld: some version has a reason without an end, or one not yet past.
func stillHeld(p heldPackage, now time.Time) bool {
	for _, d := range p.Versions {
		if len(d.Reasons) == 0 {
			return true
		}
		for _, r := range d.Reasons {
			if r.Until.IsZero() || now.Before(r.Until) {
				return true
			}
		}
	}
	return false
}
