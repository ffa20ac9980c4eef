package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	v1 "github.com/infergate/infergate/api/v1"
	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/kubetest"
)

// The Gateway API and Istio CRDs the Gateway tests install, copied from
// their Go modules by hack/ensure-gateway-crds.sh (`make gateway-crds`) into
// $INFERGATE_GATEWAY_CRDS (the Makefile exports it) or
// <cache>/infergate/crds. The versions must match hack/gateway-crds/go.mod
// and the Makefile (TestGatewayCRDVersions).
const (
	gatewayCRDsEnv    = "INFERGATE_GATEWAY_CRDS"
	gatewayAPIVersion = "v1.6.3"
	istioAPIVersion   = "v1.32.0"
)

// gatewayClasses is each provider's GatewayClass.
var gatewayClasses = map[string]string{
	"gke":          "gke-l7-regional-external-managed",
	"istio":        "istio",
	"agentgateway": "agentgateway",
}

// gkeKinds are GKE's own kinds (networking.gke.io), whose CRDs exist only
// on GKE: no Go module publishes them, so the tests check these objects
// field by field instead of applying them.
var gkeKinds = []string{"HealthCheckPolicy", "GCPBackendPolicy"}

// destinationHeaders are the destination protocol's headers, which only the
// picker may set.
var destinationHeaders = []string{
	"x-gateway-destination-endpoint",
	"x-gateway-destination-endpoint-subset",
	"x-gateway-destination-endpoint-served",
	"x-gateway-destination-endpoint-scores",
}

// pickerGateway is the gateway of release "infergate" in ns rendered in
// ext_proc picker mode.
func pickerGateway(ns string) deployedGateway {
	g := helmGateway(ns)
	g.picker = true
	return g
}

// pickerValues turn on the picker and the example behind provider's Gateway.
func pickerValues(provider string) []string {
	set := []string{"extProc.enabled=true", "example.enabled=true", "gateway.provider=" + provider}
	if provider == "gke" {
		set = append(set, "networkPolicy.extProcFrom[0].ipBlock.cidr=10.129.0.0/23")
	}
	return set
}

// TestHelmHADefaults checks the chart's defaults for availability: two
// replicas spread across nodes, a PodDisruptionBudget that lets one go at a
// time, and a NetworkPolicy that leaves every port of the native proxy open
// (the ext_proc port is closed because the picker is off by default).
func TestHelmHADefaults(t *testing.T) {
	r := requireRenderer(t)
	m := r.helmTemplate(t, "infergate", "default")
	checkDeployedGateway(t, m, helmGateway("default"))
	dep := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", "default", "infergate"))
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 2 {
		t.Errorf("replicas %v; want 2", dep.Spec.Replicas)
	}
	podLabels := labels.Set(dep.Spec.Template.Labels)
	aff := dep.Spec.Template.Spec.Affinity
	if aff == nil || aff.PodAntiAffinity == nil || len(aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 ||
		len(aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 0 {
		t.Fatalf("affinity %+v; want one preferred pod anti-affinity term", aff)
	}
	term := aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil || term.TopologyKey != corev1.LabelHostname || !sel.Matches(podLabels) {
		t.Errorf("anti-affinity term %+v; want the gateway's own pods by %s", term, corev1.LabelHostname)
	}
	checkPDB(t, m, "default", podLabels)
	checkNetworkPolicy(t, m, "default", podLabels, false)

	t.Run("own affinity wins", func(t *testing.T) {
		m := r.helmTemplate(t, "infergate", "default", "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=gpu",
			"affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=DoesNotExist")
		dep := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", "default", "infergate"))
		if a := dep.Spec.Template.Spec.Affinity; a == nil || a.PodAntiAffinity != nil || a.NodeAffinity == nil {
			t.Errorf("affinity %+v; want only the given node affinity", a)
		}
	})
	t.Run("off", func(t *testing.T) {
		m := r.helmTemplate(t, "infergate", "default", "antiAffinity=none", "podDisruptionBudget.enabled=false", "networkPolicy.enabled=false", "replicas=1")
		dep := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", "default", "infergate"))
		if dep.Spec.Template.Spec.Affinity != nil || len(m.ofKind("PodDisruptionBudget")) != 0 || len(m.ofKind("NetworkPolicy")) != 0 {
			t.Errorf("affinity %+v, %v; want none of them", dep.Spec.Template.Spec.Affinity, m.ids())
		}
	})
}

// checkPDB checks the PodDisruptionBudget: the gateway's pods, one down at
// most (maxUnavailable, so a one-replica release still drains).
func checkPDB(t *testing.T, m objectList, ns string, podLabels labels.Set) {
	t.Helper()
	pdbs := m.ofKind("PodDisruptionBudget")
	if len(pdbs) != 1 {
		t.Fatalf("PodDisruptionBudgets %v; want one", pdbs.ids())
	}
	pdb := asTyped[policyv1.PodDisruptionBudget](t, pdbs[0])
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) || pdb.GetNamespace() != ns {
		t.Errorf("PodDisruptionBudget selector %v in %s; want the gateway's pods %v in %s", pdb.Spec.Selector, pdb.GetNamespace(), podLabels, ns)
	}
	if pdb.Spec.MinAvailable != nil || pdb.Spec.MaxUnavailable == nil || *pdb.Spec.MaxUnavailable != intstr.FromInt32(1) {
		t.Errorf("PodDisruptionBudget minAvailable %v maxUnavailable %v; want maxUnavailable 1", pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable)
	}
}

// checkNetworkPolicy checks the gateway's NetworkPolicy: ingress only, the
// port grpc (when picker) only from explicit peers, every other port of the
// pod open to all, no other rule.
func checkNetworkPolicy(t *testing.T, m objectList, ns string, podLabels labels.Set, picker bool) *networkingv1.NetworkPolicy {
	t.Helper()
	nps := m.ofKind("NetworkPolicy")
	if len(nps) != 1 {
		t.Fatalf("NetworkPolicies %v; want one", nps.ids())
	}
	np := asTyped[networkingv1.NetworkPolicy](t, nps[0])
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil || !sel.Matches(podLabels) || np.GetNamespace() != ns {
		t.Errorf("NetworkPolicy selects %v in %s; want the gateway's pods in %s", np.Spec.PodSelector, np.GetNamespace(), ns)
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
		t.Errorf("policyTypes %v; want Ingress only (egress stays open)", np.Spec.PolicyTypes)
	}
	open := map[string]bool{}
	var restricted []string
	for _, rule := range np.Spec.Ingress {
		for _, p := range rule.Ports {
			if p.Port == nil || p.Port.Type != intstr.String {
				t.Errorf("NetworkPolicy port %v; want container port names", p.Port)
				continue
			}
			if len(rule.From) == 0 {
				open[p.Port.StrVal] = true
			} else {
				restricted = append(restricted, p.Port.StrVal)
			}
		}
	}
	dep := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", ns, "infergate"))
	for _, p := range dep.Spec.Template.Spec.Containers[0].Ports {
		if p.Name == "grpc" {
			continue
		}
		if !open[p.Name] {
			t.Errorf("port %s is not open to all; the policy must only close the ext_proc port", p.Name)
		}
	}
	if picker && !slices.Equal(restricted, []string{"grpc"}) {
		t.Errorf("ports admitted only from peers %v; want [grpc]", restricted)
	}
	if !picker && (len(restricted) != 0 || open["grpc"]) {
		t.Errorf("restricted %v, open %v without the picker; want no grpc rule", restricted, open)
	}
	if open["grpc"] {
		t.Error("port grpc open to all")
	}
	return np
}

// gatewayRendering is one rendering of infergate behind a Gateway.
type gatewayRendering struct {
	name     string
	provider string
	ns       string
	render   func(t *testing.T, r *renderer) objectList
}

func gatewayRenderings() []gatewayRendering {
	var out []gatewayRendering
	for _, p := range []string{"gke", "istio", "agentgateway"} {
		ns := "gw-" + p
		out = append(out,
			gatewayRendering{name: "helm/" + p, provider: p, ns: ns, render: func(t *testing.T, r *renderer) objectList {
				return r.helmTemplate(t, "infergate", ns, pickerValues(p)...)
			}},
			gatewayRendering{name: "kustomize/gateway-" + p, provider: p, ns: "default", render: func(t *testing.T, r *renderer) objectList {
				return r.kustomizeBuild(t, "gateway-"+p)
			}})
	}
	return out
}

// TestGatewayAPIRender renders infergate behind each provider's Gateway,
// with the chart and with the kustomize overlays, and checks the chain a
// request follows: Gateway (the provider's class) ← HTTPRoute → InferencePool
// (group inference.networking.k8s.io) → endpointPickerRef → infergate's
// Service port grpc (appProtocol gRPC) → the container port of the ext_proc
// listener; the route strips every client control header; the picker runs
// HA behind a NetworkPolicy that admits only the data plane; the provider's
// extras are there.
func TestGatewayAPIRender(t *testing.T) {
	r := requireRenderer(t)
	for _, g := range gatewayRenderings() {
		t.Run(g.name, func(t *testing.T) {
			m := g.render(t, r)
			cfg := checkDeployedGateway(t, m, pickerGateway(g.ns))
			if cfg.TrustsControlHeaders() {
				t.Error("config trusts client control headers behind a Gateway")
			}
			if pool := checkGatewayChain(t, m, g.ns, g.provider); cfg.ExtProcPool() != pool {
				t.Errorf("the picker serves pool %q; the HTTPRoute sends to %q", cfg.ExtProcPool(), pool)
			}
			dep := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", g.ns, "infergate"))
			podLabels := labels.Set(dep.Spec.Template.Labels)
			if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 2 {
				t.Errorf("replicas %v; want at least 2 (the data plane fails requests while no picker answers)", dep.Spec.Replicas)
			}
			checkPDB(t, m, g.ns, podLabels)
			np := checkNetworkPolicy(t, m, g.ns, podLabels, true)
			from := np.Spec.Ingress[0].From
			if g.provider == "gke" {
				if len(from) != 1 || from[0].IPBlock == nil {
					t.Errorf("GKE picker admitted from %+v; want the proxy-only subnet's ipBlock", from)
				}
			} else if len(from) != 1 || from[0].PodSelector == nil || from[0].NamespaceSelector == nil {
				t.Errorf("picker admitted from %+v; want Gateway proxies in any namespace", from)
			}
		})
	}

	t.Run("kustomize/picker", func(t *testing.T) {
		m := r.kustomizeBuild(t, "picker")
		checkDeployedGateway(t, m, pickerGateway("default"))
		dep := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", "default", "infergate"))
		podLabels := labels.Set(dep.Spec.Template.Labels)
		checkPDB(t, m, "default", podLabels)
		checkNetworkPolicy(t, m, "default", podLabels, true)
		for _, kind := range []string{"Gateway", "HTTPRoute", "InferencePool"} {
			if len(m.ofKind(kind)) != 0 {
				t.Errorf("%s in the picker-only target", kind)
			}
		}
	})

	t.Run("same config as kustomize", func(t *testing.T) {
		k := checkDeployedGateway(t, r.kustomizeBuild(t, "gateway-istio"), pickerGateway("default"))
		h := checkDeployedGateway(t, r.helmTemplate(t, "infergate", "default", pickerValues("istio")...), pickerGateway("default"))
		if diff := cmp.Diff(k, h); diff != "" {
			t.Errorf("the chart's picker config differs from deploy/kustomize/gateway-istio's (-kustomize +helm):\n%s", diff)
		}
	})

	t.Run("picker only, plaintext, own certificate", func(t *testing.T) {
		m := r.helmTemplate(t, "infergate", "default", "extProc.enabled=true", "proxy.enabled=false", "extProc.plaintext=true")
		g := pickerGateway("default")
		g.proxyOff = true
		checkDeployedGateway(t, m, g)
		svc := asTyped[corev1.Service](t, m.get(t, "Service", "default", "infergate"))
		for _, p := range svc.Spec.Ports {
			if p.Name == "grpc" && (p.AppProtocol == nil || *p.AppProtocol != "kubernetes.io/h2c") {
				t.Errorf("plaintext picker Service port appProtocol %v; want kubernetes.io/h2c", p.AppProtocol)
			}
		}
		m = r.helmTemplate(t, "infergate", "default", "extProc.enabled=true", "tls.extProc.secretName=picker-tls")
		dep := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", "default", "infergate"))
		pod := dep.Spec.Template.Spec
		raw := deployedRawConfig(t, m, "default", pod, pod.Containers[0])
		cfg := deployedConfig(t, m, "default", pod, pod.Containers[0])
		if cfg.ExtProc.Plaintext || raw["tls"] != nil {
			t.Errorf("config extProc.plaintext %v, tls %v; want TLS with the key pair under extProc.tls only", cfg.ExtProc.Plaintext, raw["tls"])
		}
		checkSecretFile(t, pod, pod.Containers[0], "extProc.tls.certFile", cfg.ExtProc.TLS.CertFile, "picker-tls", corev1.TLSCertKey)
		checkSecretFile(t, pod, pod.Containers[0], "extProc.tls.keyFile", cfg.ExtProc.TLS.KeyFile, "picker-tls", corev1.TLSPrivateKeyKey)
	})

	t.Run("invalid values", func(t *testing.T) {
		tests := []struct {
			name    string
			set     []string
			wantErr string
		}{
			{name: "unknown provider", set: []string{"extProc.enabled=true", "gateway.provider=nginx"}, wantErr: "/gateway/provider"},
			{name: "gateway without picker", set: []string{"gateway.provider=istio"}, wantErr: "needs extProc.enabled=true"},
			{name: "GKE without the proxy-only subnet", set: []string{"extProc.enabled=true", "gateway.provider=gke"}, wantErr: "proxy-only subnet"},
			{name: "no front end", set: []string{"proxy.enabled=false"}, wantErr: "serve no requests"},
			{name: "picker with two pools", set: []string{"extProc.enabled=true", "pools={a,b}"}, wantErr: "needs extProc.pool"},
			{name: "route to a pool the picker does not serve", set: []string{"extProc.enabled=true", "pools={a,b}", "extProc.pool=a", "gateway.provider=istio", "gateway.pool=b"}, wantErr: "is not the pool the picker serves"},
			{name: "picker open to all", set: []string{"extProc.enabled=true", "networkPolicy.extProcFrom=null"}, wantErr: "admits everyone"},
			{name: "picker certificate without picker", set: []string{"tls.extProc.secretName=picker-tls"}, wantErr: "needs extProc.enabled=true"},
			{name: "picker certificate in plaintext", set: []string{"extProc.enabled=true", "extProc.plaintext=true", "tls.extProc.secretName=picker-tls"}, wantErr: "extProc.plaintext=false"},
			{name: "proxy certificate without proxy", set: []string{"extProc.enabled=true", "proxy.enabled=false", "tls.proxy.secretName=gw-tls"}, wantErr: "needs proxy.enabled=true"},
			{name: "unknown failure mode", set: []string{"extProc.failureMode=Maybe"}, wantErr: "/extProc/failureMode"},
			{name: "bad anti-affinity", set: []string{"antiAffinity=sometimes"}, wantErr: "/antiAffinity"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := r.helmTemplateErr("infergate", "default", tc.set...)
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("helm template %v: error %v; want one containing %q", tc.set, err, tc.wantErr)
				}
			})
		}
	})
}

// checkGatewayChain follows a request through the Gateway API objects of m
// and returns the InferencePool the route sends to.
func checkGatewayChain(t *testing.T, m objectList, ns, provider string) string {
	t.Helper()
	routes := m.ofKind("HTTPRoute")
	if len(routes) != 1 {
		t.Fatalf("HTTPRoutes %v; want one", routes.ids())
	}
	route := routes[0]
	parents, _, _ := unstructured.NestedSlice(route.Object, "spec", "parentRefs")
	if len(parents) != 1 {
		t.Fatalf("HTTPRoute parentRefs %v; want one Gateway", parents)
	}
	gwName, _, _ := unstructured.NestedString(parents[0].(map[string]any), "name")
	gw := m.get(t, "Gateway", ns, gwName)
	if class, _, _ := unstructured.NestedString(gw.Object, "spec", "gatewayClassName"); class != gatewayClasses[provider] {
		t.Errorf("Gateway class %q; want %q", class, gatewayClasses[provider])
	}
	rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	if len(rules) != 1 {
		t.Fatalf("HTTPRoute rules %v; want one", rules)
	}
	rule := rules[0].(map[string]any)
	backends, _, _ := unstructured.NestedSlice(rule, "backendRefs")
	if len(backends) != 1 {
		t.Fatalf("backendRefs %v; want one InferencePool", backends)
	}
	b := backends[0].(map[string]any)
	if b["group"] != v1.GroupName || b["kind"] != "InferencePool" {
		t.Errorf("backendRef %v; want an InferencePool of %s", b, v1.GroupName)
	}
	poolName, _ := b["name"].(string)

	filters, _, _ := unstructured.NestedSlice(rule, "filters")
	var removed []string
	for _, f := range filters {
		l, _, _ := unstructured.NestedStringSlice(f.(map[string]any), "requestHeaderModifier", "remove")
		removed = append(removed, l...)
	}
	want := append(slices.Clone(exchange.ControlHeaders), destinationHeaders...)
	slices.Sort(want)
	slices.Sort(removed)
	if diff := cmp.Diff(want, removed); diff != "" {
		t.Errorf("headers the HTTPRoute strips (-want +got):\n%s", diff)
	}

	pool := asTyped[v1.InferencePool](t, m.get(t, "InferencePool", ns, poolName))
	ref := pool.Spec.EndpointPickerRef
	if ref == nil || (ref.Kind != "" && ref.Kind != "Service") || ref.Port == nil {
		t.Fatalf("InferencePool %s endpointPickerRef %+v; want a Service port", poolName, ref)
	}
	if ref.FailureMode != v1.EndpointPickerFailClose {
		t.Errorf("endpointPickerRef failureMode %q; want FailClose (fail-open cannot work with streamed bodies on Envoy)", ref.FailureMode)
	}
	svc := asTyped[corev1.Service](t, m.get(t, "Service", ns, string(ref.Name)))
	i := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == int32(ref.Port.Number) })
	if i < 0 || svc.Spec.Ports[i].Name != "grpc" {
		t.Fatalf("endpointPickerRef port %d is not the Service's port grpc (%+v)", ref.Port.Number, svc.Spec.Ports)
	}

	switch provider {
	case "gke":
		for _, kind := range gkeKinds {
			p := m.get(t, kind, ns, poolName)
			checkGKEPolicy(t, p, poolName)
		}
	case "istio":
		dr := m.ofKind("DestinationRule")
		if len(dr) != 1 {
			t.Fatalf("DestinationRules %v; want one", dr.ids())
		}
		host, _, _ := unstructured.NestedString(dr[0].Object, "spec", "host")
		if want := svc.Name + "." + ns + ".svc.cluster.local"; host != want {
			t.Errorf("DestinationRule host %q; want %q", host, want)
		}
		pls, _, _ := unstructured.NestedSlice(dr[0].Object, "spec", "trafficPolicy", "portLevelSettings")
		if len(pls) != 1 {
			t.Fatalf("DestinationRule portLevelSettings %v; want one", pls)
		}
		port, _, _ := unstructured.NestedFieldNoCopy(pls[0].(map[string]any), "port", "number")
		mode, _, _ := unstructured.NestedString(pls[0].(map[string]any), "tls", "mode")
		if n, ok := wholeNumber(port); !ok || n != int64(ref.Port.Number) || mode != "SIMPLE" {
			t.Errorf("DestinationRule port %d TLS mode %q; want TLS (SIMPLE) to port %d", port, mode, ref.Port.Number)
		}
	}
	for _, o := range m {
		group := o.GroupVersionKind().Group
		if provider != "gke" && group == "networking.gke.io" || provider != "istio" && strings.HasSuffix(group, "istio.io") {
			t.Errorf("%s rendered for provider %s", renderedID(o), provider)
		}
	}
	return poolName
}

// gkeMaxTimeoutSec is the largest GCPBackendPolicy timeoutSec.
const gkeMaxTimeoutSec = 2147483647

// checkGKEPolicy checks a HealthCheckPolicy or GCPBackendPolicy against the
// fields GKE documents (networking.gke.io/v1; no CRD can be installed
// here): targetRef naming the pool, and the settings that matter for model
// servers.
func checkGKEPolicy(t *testing.T, p *unstructured.Unstructured, pool string) {
	t.Helper()
	if p.GetAPIVersion() != "networking.gke.io/v1" {
		t.Errorf("%s apiVersion %s; want networking.gke.io/v1", renderedID(p), p.GetAPIVersion())
	}
	spec, _, _ := unstructured.NestedMap(p.Object, "spec")
	if diff := cmp.Diff(map[string]any{"group": v1.GroupName, "kind": "InferencePool", "name": pool}, spec["targetRef"]); diff != "" {
		t.Errorf("%s targetRef (-want +got):\n%s", renderedID(p), diff)
	}
	allowed := map[string][]string{"HealthCheckPolicy": {"targetRef", "default"}, "GCPBackendPolicy": {"targetRef", "default"}}[p.GetKind()]
	for k := range spec {
		if !slices.Contains(allowed, k) {
			t.Errorf("%s spec.%s is not a field of %s", renderedID(p), k, p.GetKind())
		}
	}
	switch p.GetKind() {
	case "HealthCheckPolicy":
		typ, _, _ := unstructured.NestedString(spec, "default", "config", "type")
		path, _, _ := unstructured.NestedString(spec, "default", "config", "httpHealthCheck", "requestPath")
		if typ != "HTTP" || path != "/health" {
			t.Errorf("HealthCheckPolicy type %q path %q; want HTTP /health (vLLM answers / with 404)", typ, path)
		}
	case "GCPBackendPolicy":
		sec, _, _ := unstructured.NestedFieldNoCopy(spec, "default", "timeoutSec")
		if n, ok := wholeNumber(sec); !ok || n < 60 || n > gkeMaxTimeoutSec {
			t.Errorf("GCPBackendPolicy timeoutSec %v; want an integer of at least 60 (GKE's 30s default cuts generations)", sec)
		}
	}
}

// wholeNumber returns v as an integer when it is one, however the decoder
// typed it (JSON decodes numbers as float64, the API server's answers as
// int64).
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}

// gatewayCRDDirs returns the cached Gateway API and Istio CRD directories,
// failing the test under CI=true when missing and skipping it elsewhere.
func gatewayCRDDirs(t *testing.T) (gatewayAPI, istio string) {
	t.Helper()
	root := os.Getenv(gatewayCRDsEnv)
	if root == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				t.Fatal(err)
			}
			cache = filepath.Join(home, ".cache")
		}
		root = filepath.Join(cache, "infergate", "crds")
	}
	gatewayAPI = filepath.Join(root, "gateway-api-"+gatewayAPIVersion)
	istio = filepath.Join(root, "istio-api-"+istioAPIVersion)
	var errs []error
	for _, d := range []string{gatewayAPI, istio} {
		if _, err := os.Stat(d); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		err = fmt.Errorf("Gateway API / Istio CRDs missing (run `make gateway-crds` or hack/ensure-gateway-crds.sh): %w", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v", err)
	}
	return gatewayAPI, istio
}

// installGatewayCRDs installs the Gateway API's standard CRDs and Istio's
// DestinationRule CRD (the one Istio kind the manifests use).
func installGatewayCRDs(ctx context.Context, t *testing.T, cfg *rest.Config) {
	t.Helper()
	gwDir, istioDir := gatewayCRDDirs(t)
	names, err := kubetest.InstallCRDs(ctx, cfg, gwDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io"} {
		if !slices.Contains(names, want) {
			t.Fatalf("Gateway API CRDs %v lack %s", names, want)
		}
	}
	all := readObjects(t, filepath.Join(istioDir, "customresourcedefinitions.gen.yaml"))
	dr := all.find("CustomResourceDefinition", "", "destinationrules.networking.istio.io")
	if dr == nil {
		t.Fatal("Istio's CRDs lack destinationrules.networking.istio.io")
	}
	applyObjects(ctx, t, cfg, objectList{dr})
}

// TestGatewayAPIApply applies each Gateway rendering to a real control
// plane with the Gateway API's and Istio's own CRDs installed, so their
// schemas and CEL rules (not only ours) check the Gateways, HTTPRoutes and
// DestinationRules, and the API server stores every field as written. GKE's
// policies are left out (their CRDs exist only on GKE; TestGatewayAPIRender
// checks them field by field); agentgateway needs no kind of its own.
func TestGatewayAPIApply(t *testing.T) {
	r := requireRenderer(t)
	gatewayCRDDirs(t)
	cp := kubetest.StartForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cfg := cp.AdminConfig()
	admin, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	installGatewayCRDs(ctx, t, cfg)

	for _, g := range gatewayRenderings() {
		t.Run(g.name, func(t *testing.T) {
			if g.ns != "default" {
				newNamespace(ctx, t, admin, g.ns)
			}
			full := g.render(t, r)
			var gke objectList
			for _, k := range gkeKinds {
				gke = append(gke, full.ofKind(k)...)
			}
			m := slices.DeleteFunc(slices.Clone(full), func(o *unstructured.Unstructured) bool {
				return slices.Contains(gkeKinds, o.GetKind())
			})
			stored := applyObjects(ctx, t, cfg, m)
			checkDeployedGateway(t, stored, pickerGateway(g.ns))
			checkGatewayChain(t, append(stored, gke...), g.ns, g.provider)
		})
	}

	// The installed schemas do reject what they should, so "accepted" above
	// means something.
	t.Run("rejections", func(t *testing.T) {
		applier, err := kubetest.NewApplier(cfg)
		if err != nil {
			t.Fatal(err)
		}
		route := r.kustomizeBuild(t, "gateway-istio").get(t, "HTTPRoute", "default", "infergate").DeepCopy()
		route.SetName("too-many-removals")
		rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
		filter := rules[0].(map[string]any)["filters"].([]any)[0].(map[string]any)
		var remove []any
		for i := range 17 {
			remove = append(remove, fmt.Sprintf("x-h-%d", i))
		}
		filter["requestHeaderModifier"].(map[string]any)["remove"] = remove
		if err := unstructured.SetNestedSlice(route.Object, rules, "spec", "rules"); err != nil {
			t.Fatal(err)
		}
		dr := r.kustomizeBuild(t, "gateway-istio").get(t, "DestinationRule", "default", "infergate-picker").DeepCopy()
		dr.SetName("bad-tls-mode")
		if err := unstructured.SetNestedField(dr.Object, "SOMETIMES", "spec", "trafficPolicy", "tls", "mode"); err != nil {
			t.Fatal(err)
		}
		for _, o := range []*unstructured.Unstructured{route, dr} {
			if _, err := applier.ApplyObject(ctx, o); !apierrors.IsInvalid(err) {
				t.Errorf("apply %s: error %v; want Invalid", renderedID(o), err)
			}
		}
	})
}

// TestGatewayCRDVersions keeps the Gateway API and Istio versions of the
// tests, the Makefile and hack/gateway-crds/go.mod in step, so the cache's
// directory names never lie.
func TestGatewayCRDVersions(t *testing.T) {
	gomod := readText(t, "../../hack/gateway-crds/go.mod")
	makefile := readText(t, "../../Makefile")
	for _, tc := range []struct{ module, makeVar, want string }{
		{"sigs.k8s.io/gateway-api", "GATEWAY_API_VERSION", gatewayAPIVersion},
		{"istio.io/api", "ISTIO_API_VERSION", istioAPIVersion},
	} {
		if m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(tc.module) + `\s+(v\S+)`).FindStringSubmatch(gomod); m == nil || m[1] != tc.want {
			t.Errorf("hack/gateway-crds/go.mod requires %s %v; the tests expect %s", tc.module, m, tc.want)
		}
		if m := regexp.MustCompile(`(?m)^` + tc.makeVar + `\s*:=\s*(\S+)`).FindStringSubmatch(makefile); m == nil || m[1] != tc.want {
			t.Errorf("Makefile %s %v; the tests expect %s", tc.makeVar, m, tc.want)
		}
	}
}
