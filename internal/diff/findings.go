package diff

import (
	"github.com/vigil-sec/vigil/internal/analyze"
)

// findingKey identifies a finding across releases without its position:
// the same rule in the same file saying the same thing, wherever the line
// moved to.
type findingKey struct {
	rule, file, text string
}

// compareFindings pairs B's findings with A's: first by rule, file and
// evidence, then by rule, file and message (a minifier renamed a variable
// in the excerpt, the behaviour is the same). Each A finding pairs with at
// most one B finding, and a B finding more severe than its A counterpart
// does not pair (an escalation is new). What stays unpaired is new in B or
// gone from A.
func compareFindings(a, b []analyze.Finding) (added, gone []analyze.Finding) {
	usedA := make([]bool, len(a))
	pairedB := make([]bool, len(b))
	for _, keyOf := range []func(analyze.Finding) (findingKey, bool){
		func(f analyze.Finding) (findingKey, bool) {
			return findingKey{f.Rule, f.File, f.Evidence}, f.Evidence != ""
		},
		func(f analyze.Finding) (findingKey, bool) { return findingKey{f.Rule, f.File, f.Message}, true },
	} {
		index := map[findingKey][]int{}
		for i, f := range a {
			if k, ok := keyOf(f); ok && !usedA[i] {
				index[k] = append(index[k], i)
			}
		}
		for j, f := range b {
			if pairedB[j] {
				continue
			}
			k, ok := keyOf(f)
			if !ok {
				continue
			}
			for n, i := range index[k] {
				if usedA[i] || f.Severity.Rank() > a[i].Severity.Rank() {
					continue
				}
				usedA[i], pairedB[j] = true, true
				index[k] = append(index[k][:n:n], index[k][n+1:]...)
				break
			}
		}
	}
	added, gone = []analyze.Finding{}, []analyze.Finding{}
	for j, f := range b {
		if !pairedB[j] {
			added = append(added, f)
		}
	}
	for i, f := range a {
		if !usedA[i] {
			gone = append(gone, f)
		}
	}
	return added, gone
}
