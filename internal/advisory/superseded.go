package advisory

import (
	"encoding/json"
	"fmt"
	"slices"
)

// dropSupersededRanges removes ranges that a source of an
// ossf/malicious-packages record later replaced.
//
// That project merges every report it imports about a package into one
// record and keeps each report's ranges in the affected list. A source
// (GitHub's malware feed, typically) often first files "introduced: 0" —
// every version — while it investigates, then narrows it to the compromised
// releases; both versions of its report stay in
// database_specific["malicious-packages-origins"] with their
// modified_time, and both ranges stay in affected. Read literally, the
// record then marks every release of @ctrl/tinycolor or ngx-toastr as
// malware, including the clean ones most projects have installed.
//
// A range is dropped only when an older version of one origin (same source
// and id) asserted it and no current origin still does, and only when the
// affected entry keeps some range or version list afterwards: narrowing
// must never empty a malware record.
func (r *Record) dropSupersededRanges() {
	if len(r.DatabaseSpecific) == 0 {
		return
	}
	var ds struct {
		Origins []struct {
			Source   string  `json:"source"`
			ID       string  `json:"id"`
			Modified string  `json:"modified_time"`
			Ranges   []Range `json:"ranges"`
		} `json:"malicious-packages-origins"`
	}
	if json.Unmarshal(r.DatabaseSpecific, &ds) != nil || len(ds.Origins) < 2 {
		return
	}
	type originKey struct{ source, id string }
	latest := make(map[originKey]string)
	for _, o := range ds.Origins {
		if o.ID == "" {
			continue
		}
		k := originKey{o.Source, o.ID}
		if o.Modified > latest[k] { // RFC 3339 in UTC sorts as text
			latest[k] = o.Modified
		}
	}
	current := make(map[string]bool)
	superseded := make(map[string]bool)
	for _, o := range ds.Origins {
		isCurrent := o.ID == "" || o.Modified == latest[originKey{o.Source, o.ID}]
		for _, rg := range o.Ranges {
			if isCurrent {
				current[rangeKey(rg)] = true
			} else {
				superseded[rangeKey(rg)] = true
			}
		}
	}
	if len(superseded) == 0 {
		return
	}
	for i := range r.Affected {
		a := &r.Affected[i]
		kept := slices.DeleteFunc(slices.Clone(a.Ranges), func(rg Range) bool {
			k := rangeKey(rg)
			return superseded[k] && !current[k]
		})
		if len(kept) == len(a.Ranges) || (len(kept) == 0 && len(a.Versions) == 0) {
			continue
		}
		a.Ranges = kept
	}
}

// rangeKey identifies a range by its type and events, in order.
func rangeKey(rg Range) string {
	return fmt.Sprintf("%s%q", rg.Type, rg.Events)
}
