// Tool module pinning the Gateway API and Istio API modules whose CRD YAML
// hack/ensure-gateway-crds.sh copies into the cache for the tests under
// test/kube. A module of its own so the main go.mod never depends on them.
module github.com/infergate/infergate/hack/gateway-crds

go 1.26.8

require (
	istio.io/api v1.32.0
	sigs.k8s.io/gateway-api v1.6.3
)
