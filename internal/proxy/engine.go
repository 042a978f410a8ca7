package proxy

import (
	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/registry"
)

// EngineDecider applies a policy.Engine: its Filter plan is the proxy's
// Evaluation.
type EngineDecider struct {
	Engine *policy.Engine
}

// Evaluate implements Decider.
func (d EngineDecider) Evaluate(pk *registry.Packument) Evaluation {
	p := d.Engine.Filter(pk)
	removed := make(map[string]bool, len(p.Remove))
	for _, v := range p.Remove {
		removed[v] = true
	}
	return Evaluation{Decisions: p.Decisions, Removed: removed, DistTags: p.DistTags, ValidUntil: p.ValidUntil}
}
