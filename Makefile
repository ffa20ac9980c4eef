# infergate — build and test entry points. `make test` is the one command CI
# and a new contributor run; it installs what the tests need when missing.

GO        ?= go
CACHE     ?= $(HOME)/.cache/infergate
TOOLS_BIN := $(CACHE)/bin
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(TOOLS_BIN)/staticcheck-$(STATICCHECK_VERSION)
# promtool built from the Prometheus Go module with Kubernetes discovery only
# (Debian's package leaves Kubernetes discovery out, so its promtool cannot
# check the configs `infergate monitoring prometheus-config` writes).
PROMETHEUS_MODULE_VERSION := v0.316.0
UPSTREAM_PROMTOOL := $(TOOLS_BIN)/promtool-$(PROMETHEUS_MODULE_VERSION)
export INFERGATE_UPSTREAM_PROMTOOL := $(UPSTREAM_PROMTOOL)
# Kubernetes control plane for the tests under test/kube and internal/kubetest:
# kube-apiserver and kube-controller-manager built from the Go module proxy
# (tool module hack/kube), cached by version; etcd from Debian.
KUBE_VERSION := v1.37.2
export INFERGATE_KUBE_BIN_DIR := $(CACHE)/kube/$(KUBE_VERSION)
# Manifest renderers for the deploy/ tests under test/kube: kustomize and
# helm built from the Go module proxy (tool module hack/render), cached by
# version; the versions must match hack/render/go.mod.
KUSTOMIZE_VERSION := v5.8.2
HELM_VERSION := v4.3.1
export INFERGATE_KUSTOMIZE := $(TOOLS_BIN)/kustomize-$(KUSTOMIZE_VERSION)
export INFERGATE_HELM := $(TOOLS_BIN)/helm-$(HELM_VERSION)
# CRDs of the Gateway API (standard channel) and Istio for the deploy/ tests
# under test/kube: copied from the Go modules the tool module hack/gateway-crds
# pins, cached by version; the versions must match hack/gateway-crds/go.mod.
GATEWAY_API_VERSION := v1.6.3
ISTIO_API_VERSION := v1.32.0
export INFERGATE_GATEWAY_CRDS := $(CACHE)/crds
# Jaeger for the tracing tests: the all-in-one v2 binary built from the Go
# module proxy (tool module hack/jaeger), cached by version; the version must
# match hack/jaeger/go.mod.
JAEGER_VERSION := v1.75.0
export INFERGATE_JAEGER := $(TOOLS_BIN)/jaeger-$(JAEGER_VERSION)
FUZZTIME  ?= 30s

.PHONY: all build test chaos tools chromium prometheus kube render-tools gateway-crds jaeger crds monitoring-crds check fmt-check vet staticcheck unit allocs fuzz fuzz-long bench clean

all: build

build:
	$(GO) build -o bin/infergate ./cmd/infergate

## test: every gate CI runs — formatting, vet, staticcheck, race tests
## (unit, integration, fuzz seed corpora), the allocation gates and a
## one-minute chaos run.
test: tools check unit allocs chaos

## chaos: `infergate bench --suite chaos` for one minute, without -race:
## simulator and gateway processes under load while replicas are killed,
## stopped, answer 503 bursts and stall; fails when a check fails (report
## in reports/chaos-make).
chaos: build
	./bin/infergate bench --suite chaos --duration 1m --out reports/chaos-make

## tools: install what the tests need from outside the module, when
## missing (idempotent; cached on the machine, never in the repository).
tools: chromium prometheus kube render-tools gateway-crds jaeger $(UPSTREAM_PROMTOOL)

## chromium: Debian's chromium, for the dashboard's headless-browser test.
chromium:
	@bash hack/ensure-chromium.sh

## prometheus: Debian's prometheus and promtool, for the observability tests
## (they start their own Prometheus on a free loopback port, never :9090).
prometheus:
	@sh hack/ensure-prometheus.sh

## kube: kube-apiserver and kube-controller-manager $(KUBE_VERSION) (about 12
## minutes to build the first time, then cached) and Debian's etcd-server.
kube:
	@KUBE_VERSION=$(KUBE_VERSION) GO=$(GO) sh hack/ensure-kube.sh

## render-tools: kustomize $(KUSTOMIZE_VERSION) and helm $(HELM_VERSION) (about 4
## minutes to build the first time, then cached).
render-tools:
	@KUSTOMIZE_VERSION=$(KUSTOMIZE_VERSION) HELM_VERSION=$(HELM_VERSION) GO=$(GO) \
	  INFERGATE_TOOLS_BIN=$(TOOLS_BIN) sh hack/ensure-render-tools.sh

## gateway-crds: the Gateway API $(GATEWAY_API_VERSION) and Istio API
## $(ISTIO_API_VERSION) CRDs (downloaded from the Go module proxy, seconds).
gateway-crds:
	@GATEWAY_API_VERSION=$(GATEWAY_API_VERSION) ISTIO_API_VERSION=$(ISTIO_API_VERSION) GO=$(GO) \
	  sh hack/ensure-gateway-crds.sh

## jaeger: Jaeger $(JAEGER_VERSION) (about 3 minutes to build the first time,
## then cached), for the tracing tests.
jaeger:
	@JAEGER_VERSION=$(JAEGER_VERSION) GO=$(GO) INFERGATE_JAEGER=$(INFERGATE_JAEGER) sh hack/ensure-jaeger.sh

## crds: regenerate api/*/zz_generated.deepcopy.go and deploy/crds/ with
## controller-gen after changing the API types, and copy the CRDs into the
## Helm chart (deploy/helm/infergate/crds).
crds:
	@sh hack/gen-crds.sh

## monitoring-crds: regenerate the prometheus-operator ServiceMonitor CRD the
## test control plane installs (test/kube/testdata/crds).
monitoring-crds:
	@sh hack/gen-monitoring-crds.sh

$(UPSTREAM_PROMTOOL):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install -trimpath -tags remove_all_sd,enable_kubernetes_sd github.com/prometheus/prometheus/cmd/promtool@$(PROMETHEUS_MODULE_VERSION)
	mv $(TOOLS_BIN)/promtool $(UPSTREAM_PROMTOOL)

check: fmt-check vet staticcheck

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

$(STATICCHECK):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS_BIN)/staticcheck $(STATICCHECK)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

## unit: race-enabled tests of every package, including the integration
## tests under test/ (real simulator and gateway processes on loopback) and
## each fuzz target's seed corpus.
unit: tools
	$(GO) test -race -shuffle=on -timeout 20m ./...

## allocs: allocation gates and the worst-case /metrics size, built without
## -race (the race detector changes allocation counts and is too slow for
## the size test).
allocs:
	$(GO) test -run 'Alloc|WorstCase' -count=1 ./internal/...

## fuzz: run every fuzz target for FUZZTIME each.
## fuzz-long: the same for minutes each (3m unless given on the command
## line, e.g. `make fuzz-long FUZZTIME=10m`): over an hour for all targets.
fuzz-long: FUZZTIME = 3m
fuzz fuzz-long:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## bench: the micro-benchmarks quoted in the README.
bench:
	$(GO) test -run '^$$' -bench 'BenchmarkPick|BenchmarkParseRequest|BenchmarkParseModelServerMetrics|BenchmarkProxy' -benchmem ./internal/...

clean:
	rm -rf bin
