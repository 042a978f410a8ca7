package npmlock

import (
	"context"
	"slices"
	"testing"
)

func TestAttachRootManifest(t *testing.T) {
	// debug is both a direct dependency and required by express: version 1
	// alone cannot tell, the manifest can.
	lock := []byte(`{"name":"app","version":"1.0.0","lockfileVersion":1,"requires":true,"dependencies":{
  "debug":{"version":"2.6.9","resolved":"https://registry.npmjs.org/debug/-/debug-2.6.9.tgz","integrity":"sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==","requires":{"ms":"2.0.0"}},
  "express":{"version":"4.21.2","resolved":"https://registry.npmjs.org/express/-/express-4.21.2.tgz","integrity":"sha512-28HqgMZAmih1Czt9ny7qr6ek2qddF4FclbMzwhCREB6OFfH+rXAnuNCwo1/wFvrtbgsQDb4kSbX9de9lFbrXnA==","requires":{"debug":"2.6.9"}},
  "ms":{"version":"2.0.0","resolved":"https://registry.npmjs.org/ms/-/ms-2.0.0.tgz","integrity":"sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A=="},
  "@scope/tool":{"version":"1.0.0","dev":true,"resolved":"https://registry.npmjs.org/@scope/tool/-/tool-1.0.0.tgz","integrity":"sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A=="}
}}`)
	g, err := Reader{}.Parse(context.Background(), "package-lock.json", lock)
	if err != nil {
		t.Fatal(err)
	}
	direct := func() []string {
		var out []string
		for _, i := range g.Importers[0].Dependencies {
			out = append(out, g.Packages[i].Name)
		}
		slices.Sort(out)
		return out
	}
	if got := direct(); slices.Contains(got, "debug") {
		t.Fatalf("without the manifest debug cannot be known direct, got %v", got)
	}
	manifest := []byte(`{"name":"app","dependencies":{"debug":"^2.6.9","express":"^4.21.2"},"devDependencies":{"@scope/tool":"1.0.0","missing":"1"}}`)
	if err := AttachRootManifest(g, manifest); err != nil {
		t.Fatal(err)
	}
	if got, want := direct(), []string{"@scope/tool", "debug", "express"}; !slices.Equal(got, want) {
		t.Errorf("direct = %v, want %v", got, want)
	}
	for _, p := range g.Packages {
		if p.Name == "debug" && !p.Direct {
			t.Error("debug not marked Direct")
		}
		if p.Name == "ms" && p.Direct {
			t.Error("ms marked Direct")
		}
	}
	if err := AttachRootManifest(g, []byte("{")); err == nil {
		t.Error("bad manifest accepted")
	}
}

func TestTopLevelName(t *testing.T) {
	for key, want := range map[string]string{
		"node_modules/debug":                      "debug",
		"node_modules/@babel/core":                "@babel/core",
		"node_modules/express/node_modules/debug": "",
		"node_modules/@babel/core/node_modules/x": "",
		"packages/web":                            "",
	} {
		got, ok := topLevelName(key)
		if got != want || ok != (want != "") {
			t.Errorf("topLevelName(%q) = %q, %v", key, got, ok)
		}
	}
}
