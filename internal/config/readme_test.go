package config

import (
	"os"
	"regexp"
	"testing"
)

// TestReadmeExample parses the vigil.yaml example the README shows, so
// the front door never documents a key the parser rejects.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)### vigil\\.yaml\n+```yaml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ```yaml block under ### vigil.yaml")
	}
	cfg, err := Parse(m[1])
	if err != nil {
		t.Fatalf("the README's vigil.yaml example does not parse: %v", err)
	}
	if len(cfg.Blocklist) == 0 || len(cfg.Ignores) == 0 {
		t.Errorf("example lost its blocklist or ignores: %+v", cfg)
	}
	if cfg.Policy.MinReleaseAge.Duration.Std() <= 0 || !cfg.Policy.Analysis.OnFirstRequest {
		t.Errorf("example's policy section did not apply: %+v", cfg.Policy)
	}
}
