package diff

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/registry"
)

// linePackument is a synthetic package in the registry's real format
// (testdata/line.packument.json): token publishes, provenance, trusted
// publishing from 1.2.0, then a 1.2.1 backport and 2.0.1 from a laptop,
// a takeover after 3.4 years (2.0.2, by a new maintainer), a burst seven
// minutes later (2.0.3, the old account with a new email), and a 0.3.x
// line of its own.
func linePackument(t *testing.T) *registry.Packument {
	t.Helper()
	data, err := os.ReadFile("testdata/line.packument.json")
	if err != nil {
		t.Fatal(err)
	}
	pk, err := registry.ParsePackument(data)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

func signalsFor(pk *registry.Packument, a, b string) []Signal {
	pa := &prepared{Side: Side{Name: pk.Name, Version: a}}
	pb := &prepared{Side: Side{Name: pk.Name, Version: b, Packument: pk, Manifest: pk.Manifest(b)}}
	return registrySignals(pa, pb, SignalOptions{}.withDefaults())
}

func TestRegistrySignals(t *testing.T) {
	pk := linePackument(t)
	tests := []struct {
		a, b string
		// want maps each expected signal kind to its reference and words
		// its message must contain; no other signal may appear.
		want map[SignalKind][]string
	}{
		{a: "1.1.0", b: "1.2.0", want: map[SignalKind][]string{
			SignalPublisherChanged: {"1.1.0", "GitHub Actions", "trusted publishing via github", "alice <alice@example.com>"},
		}},
		{a: "1.2.0", b: "1.2.1", want: map[SignalKind][]string{
			SignalTrustDowngrade:   {"1.2.0", "1.2.1 was published with neither provenance nor trusted publishing", "1.x line with trusted publishing"},
			SignalPublisherChanged: {"1.2.0", "alice"},
			SignalBackPublish:      {"2.0.0", "80 days after the higher 2.0.0"},
		}},
		{a: "2.0.1", b: "2.0.2", want: map[SignalKind][]string{
			SignalTrustDowngrade:    {"2.0.0", "2.0.0, the most recent earlier release of the 2.x line", "1 release(s) of the line published since then lack it too"},
			SignalPublisherChanged:  {"2.0.1", "mallory <mallory@example.net>"},
			SignalMaintainerAdded:   {"2.0.1", "mallory"},
			SignalMaintainerRemoved: {"2.0.1", "bob"},
			SignalDormantRevival:    {"2.0.1", "3.4 years after the package's previous release (2.0.1, 2019-12-01)"},
		}},
		{a: "2.0.2", b: "2.0.3", want: map[SignalKind][]string{
			SignalTrustDowngrade:   {"2.0.0", "2 release(s)"},
			SignalPublisherChanged: {"2.0.2", "alice <alice@example.org>", "mallory"},
			SignalPublishBurst:     {"2.0.2", "7 minutes after 2.0.2"},
		}},
		// The same account with another email is a publisher change too.
		{a: "2.0.1", b: "2.0.3", want: map[SignalKind][]string{
			SignalTrustDowngrade:    {"2.0.0"},
			SignalPublisherChanged:  {"2.0.1", "same account alice with another email: alice@example.org", "alice@example.com"},
			SignalMaintainerAdded:   {"2.0.1", "mallory"},
			SignalMaintainerRemoved: {"2.0.1", "bob"},
		}},
		// 0.x lines are per minor: 0.3.0's provenance is 0.3.1's reference,
		// and 1.x's trust is not 0.3.x's business.
		{a: "0.3.0", b: "0.3.1", want: map[SignalKind][]string{
			SignalTrustDowngrade: {"0.3.0", "0.3.x line with provenance"},
		}},
		// A is not in the packument (a local tarball): the publisher is
		// compared with B's previous release.
		{a: "9.9.9-local", b: "2.0.1", want: map[SignalKind][]string{
			SignalTrustDowngrade:   {"2.0.0"},
			SignalPublisherChanged: {"2.0.0", "GitHub Actions"},
		}},
		// A new major from the same account, trust unchanged: nothing.
		{a: "0.3.1", b: "1.0.0", want: map[SignalKind][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.a+"→"+tt.b, func(t *testing.T) {
			got := signalsFor(pk, tt.a, tt.b)
			seen := map[SignalKind]bool{}
			for _, s := range got {
				words, ok := tt.want[s.Kind]
				if !ok {
					t.Errorf("unexpected signal %s: %s", s.Kind, s.Message)
					continue
				}
				seen[s.Kind] = true
				if s.Reference != words[0] {
					t.Errorf("%s: reference %q, want %q", s.Kind, s.Reference, words[0])
				}
				for _, w := range words[1:] {
					if !strings.Contains(s.Message, w) {
						t.Errorf("%s: message %q lacks %q", s.Kind, s.Message, w)
					}
				}
				if s.Points != SignalPoints[s.Kind] {
					t.Errorf("%s: %d points, want %d", s.Kind, s.Points, SignalPoints[s.Kind])
				}
			}
			for k := range tt.want {
				if !seen[k] {
					t.Errorf("missing signal %s (got %+v)", k, got)
				}
			}
		})
	}
}

func TestRegistrySignalsWithoutPackument(t *testing.T) {
	got := registrySignals(&prepared{Side: Side{Version: "1.0.0"}}, &prepared{Side: Side{Version: "1.0.1"}}, SignalOptions{}.withDefaults())
	if len(got) != 0 {
		t.Errorf("signals without a packument: %+v", got)
	}
}

func TestSignalThresholds(t *testing.T) {
	pk := linePackument(t)
	pa := &prepared{Side: Side{Version: "2.0.1"}}
	pb := &prepared{Side: Side{Version: "2.0.2", Packument: pk, Manifest: pk.Manifest("2.0.2")}}
	for _, s := range registrySignals(pa, pb, SignalOptions{DormantAfter: 5 * 365 * 24 * time.Hour}.withDefaults()) {
		if s.Kind == SignalDormantRevival {
			t.Errorf("dormant after 3.4 years with a 5-year threshold: %s", s.Message)
		}
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30 seconds", 7 * time.Minute: "7 minutes", 5 * time.Hour: "5 hours",
		80 * 24 * time.Hour: "80 days", 3 * 365 * 24 * time.Hour: "3.0 years",
	} {
		if got := span(d); got != want {
			t.Errorf("span(%v) = %q, want %q", d, got, want)
		}
	}
}
