package analyze

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/detection.md")

const (
	detectionDoc = "../../docs/detection.md"
	beginMarker  = "<!-- BEGIN GENERATED: go test ./internal/analyze -run TestDetectionDoc -update -->\n"
	endMarker    = "<!-- END GENERATED -->\n"
)

// TestDetectionDoc keeps docs/detection.md in step with the rules'
// metadata and the scoring tables.
func TestDetectionDoc(t *testing.T) {
	doc, err := os.ReadFile(detectionDoc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		t.Fatalf("%s: generated-section markers missing", detectionDoc)
	}
	var gen bytes.Buffer
	if err := WriteMarkdown(&gen); err != nil {
		t.Fatal(err)
	}
	want := s[:i+len(beginMarker)] + gen.String() + s[j:]
	if want == s {
		return
	}
	if *update {
		if err := os.WriteFile(detectionDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date: run go test ./internal/analyze -run TestDetectionDoc -update", detectionDoc)
}
