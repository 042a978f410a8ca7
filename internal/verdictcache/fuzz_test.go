package verdictcache

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/vigil-sec/vigil/internal/analyze"
)

// FuzzDecode feeds arbitrary entry files to the decoder: it must never
// panic, and whatever it accepts must be a complete verdict for the key
// and engine asked for.
func FuzzDecode(f *testing.F) {
	good, err := json.Marshal(envelope{Format: formatVersion, Engine: "e", Key: "k", Entry: sampleEntry(analyze.Clean)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":1,"engine":"e","key":"k","entry":{"report":{"verdict":"clean","findings":[]}}}`))
	f.Add([]byte(`{"format":1,"engine":"e","key":"k","entry":{"report":null}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decode(data, "e", "k")
		if err != nil {
			return
		}
		if e.Report == nil || e.Report.Findings == nil {
			t.Fatalf("accepted an entry without a report: %q", data)
		}
		switch e.Report.Verdict {
		case analyze.Clean, analyze.Suspicious, analyze.Malicious:
		default:
			t.Fatalf("accepted verdict %q", e.Report.Verdict)
		}
		// What was accepted round-trips through Put and Get.
		c, err := Open(t.TempDir(), "e", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Put(context.Background(), "k", e); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Get(context.Background(), "k"); !ok {
			t.Fatalf("accepted entry does not survive a round trip: %q", data)
		}
	})
}
