# Vigil — `make` alone prints this help.
GO           ?= go
STATICCHECK  := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME     ?= 30s
BIN          := bin/vigil
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS      := -s -w -X github.com/vigil-sec/vigil/internal/cli.Version=$(VERSION)

.DEFAULT_GOAL := help
.PHONY: help build test lint fmt fuzz bench bench-scan bench-proxy clients ci clean

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/vigil
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/vigil

test: ## run all tests (what CI runs)
	$(GO) test ./...

lint: ## gofmt check, go vet and staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fmt: ## format all Go files
	gofmt -w $$(git ls-files '*.go')

fuzz: ## run every fuzz target for FUZZTIME each (default 30s)
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run "^$$" -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 3s $$pkg || exit 1; \
	  done; \
	done

bench: ## run the Go benchmarks (readers, matching)
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-scan: build ## vigil scan vs osv-scanner side by side (needs ../shared)
	@test -d ../shared/bench || (echo "../shared/bench is absent: this benchmark needs the evaluation corpus"; exit 1)
	bash ../shared/bench/scan-vs-osv-scanner.sh $(BIN)

bench-proxy: build ## vigil proxy vs Verdaccio side by side (needs ../shared, wrk, Verdaccio)
	bash bench/proxy-vs-verdaccio.sh $(abspath $(BIN))

clients: ## install the real pnpm/yarn/bun the proxy's end-to-end tests drive
	bash scripts/install-clients.sh

ci: ## what .ci/run runs
	bash .ci/run

clean: ## remove build output
	rm -rf bin
