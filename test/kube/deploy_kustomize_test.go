package kube

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	v1 "github.com/infergate/infergate/api/v1"
	"github.com/infergate/infergate/api/v1alpha2"
	"github.com/infergate/infergate/internal/kubetest"
)

// Files of deploy/ the kustomize targets must use unchanged.
const (
	metricsReaderYAML  = "../../deploy/rbac/metrics-reader.yaml"
	cpmYAML            = "../../deploy/monitoring/clusterpodmonitoring.yaml"
	serviceMonitorYAML = "../../deploy/monitoring/servicemonitor.yaml"
	gatewayImage       = "ghcr.io/infergate/infergate:v0.1.0"
	examplePool        = "vllm-llama3-8b-instruct"
	gmpBinding         = "gmp-system:collector:inference-gateway-sa-metrics-reader-secret-read"
	autopilotBinding   = "gke-gmp-system:collector:inference-gateway-sa-metrics-reader-secret-read"
	secretReadRole     = "inference-gateway-sa-metrics-reader-secret-read"
)

// kustomizeGateway is the gateway every kustomize target but example holds.
var kustomizeGateway = deployedGateway{
	namespace:   "default",
	name:        "infergate",
	image:       gatewayImage,
	pools:       []string{examplePool},
	authEnabled: true,
	authMode:    "kubernetes",
}

// TestKustomizeTargets renders every target under deploy/kustomize and
// checks what it holds: the base carries the CRDs of deploy/crds, Google's
// metrics-reader objects of deploy/rbac and the monitoring objects of
// deploy/monitoring unchanged, the gateway keeps its contract (pod label,
// port names, probes, security context, a config file the gateway
// accepts), and each overlay adds exactly its provider's objects.
func TestKustomizeTargets(t *testing.T) {
	r := requireRenderer(t)
	google := readObjects(t, metricsReaderYAML)
	cpm := readObjects(t, cpmYAML)
	sm := readObjects(t, serviceMonitorYAML)

	base := r.kustomizeBuild(t, "base")
	baseIDs := base.ids()

	tests := []struct {
		target string
		// add and drop are the ids this target has beyond or without the
		// base's.
		add, drop []string
		// same are objects that must equal the ones of deploy/.
		same  objectList
		check func(t *testing.T, m objectList)
	}{
		{
			target: "base",
			same:   readCRDs(t),
			check: func(t *testing.T, m objectList) {
				checkDeployedGateway(t, m, kustomizeGateway)
			},
		},
		{
			target: "gke",
			add:    []string{"ClusterPodMonitoring /inference-optimized-gateway-monitoring"},
			same:   cpm,
			check: func(t *testing.T, m objectList) {
				checkDeployedGateway(t, m, kustomizeGateway)
			},
		},
		{
			target: "gke-autopilot",
			add: []string{
				"ClusterPodMonitoring /inference-optimized-gateway-monitoring",
				"ClusterRoleBinding default/" + autopilotBinding,
			},
			drop: []string{"ClusterRoleBinding default/" + gmpBinding},
			same: cpm,
			check: func(t *testing.T, m objectList) {
				checkDeployedGateway(t, m, kustomizeGateway)
				b := asTyped[rbacv1.ClusterRoleBinding](t, m.get(t, "ClusterRoleBinding", "default", autopilotBinding))
				want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "collector", Namespace: "gke-gmp-system"}}
				if diff := cmp.Diff(want, b.Subjects); diff != "" || b.RoleRef.Name != secretReadRole {
					t.Errorf("Autopilot collector binding to %q, subjects (-want +got):\n%s", b.RoleRef.Name, diff)
				}
			},
		},
		{
			target: "prometheus-operator",
			add:    []string{"ServiceMonitor default/inference-optimized-gateway-monitoring"},
			drop:   []string{"ClusterRoleBinding default/" + gmpBinding},
			same:   sm,
			check: func(t *testing.T, m objectList) {
				checkDeployedGateway(t, m, kustomizeGateway)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			m := r.kustomizeBuild(t, tc.target)
			want := slices.DeleteFunc(append(slices.Clone(baseIDs), tc.add...), func(id string) bool { return slices.Contains(tc.drop, id) })
			slices.Sort(want)
			if diff := cmp.Diff(want, m.ids()); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			for _, o := range append(slices.Clone(google), tc.same...) {
				got := m.find(o.GetKind(), o.GetNamespace(), o.GetName())
				if got == nil {
					if !slices.Contains(tc.drop, renderedID(o)) {
						t.Errorf("%s of deploy/ is missing", renderedID(o))
					}
					continue
				}
				if diff := cmp.Diff(normalizedObject(t, o), normalizedObject(t, got)); diff != "" {
					t.Errorf("%s differs from the one in deploy/ (-deploy +rendered):\n%s", renderedID(o), diff)
				}
			}
			tc.check(t, m)
		})
	}

	t.Run("example", func(t *testing.T) {
		m := r.kustomizeBuild(t, "example")
		want := []string{
			"Deployment default/" + examplePool,
			"InferenceModelRewrite default/food-review",
			"InferenceObjective default/food-review",
			"InferencePool default/" + examplePool,
		}
		if diff := cmp.Diff(want, m.ids()); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
		checkExample(t, m, "default", gatewayImage, kustomizeGateway.pools)
	})
}

// checkExample checks that the example's InferencePool selects the
// simulator pods on their serving port, that its objectives and rewrites
// refer to it, and that the gateway serves it.
func checkExample(t *testing.T, m objectList, ns, image string, gatewayPools []string) {
	t.Helper()
	pool := asTyped[v1.InferencePool](t, m.get(t, "InferencePool", ns, examplePool))
	sim := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", ns, examplePool))
	podLabels := labels.Set(sim.Spec.Template.Labels)
	sel := labels.Set{}
	for k, v := range pool.Spec.Selector.MatchLabels {
		sel[string(k)] = string(v)
	}
	if len(sel) == 0 || !labels.SelectorFromSet(sel).Matches(podLabels) {
		t.Errorf("InferencePool selector %v does not select the simulator pods %v", sel, podLabels)
	}
	if podLabels["app"] == gatewayPodLabel {
		t.Errorf("simulator pods carry the gateway's label app=%s", gatewayPodLabel)
	}
	c := sim.Spec.Template.Spec.Containers
	if len(c) != 1 || c[0].Image != image || len(c[0].Args) == 0 || c[0].Args[0] != "sim" {
		t.Fatalf("simulator containers %+v; want one running %s sim", c, image)
	}
	if !slices.Contains(c[0].Args, "--listen=:8000") {
		t.Errorf("simulator args %q; want it listening on all addresses, port 8000", c[0].Args)
	}
	if len(pool.Spec.TargetPorts) != 1 || len(c[0].Ports) != 1 ||
		int32(pool.Spec.TargetPorts[0].Number) != c[0].Ports[0].ContainerPort || c[0].Ports[0].Name != "http" {
		t.Errorf("pool target ports %+v, simulator ports %+v; want the pool on the port named http", pool.Spec.TargetPorts, c[0].Ports)
	}
	checkDeployedSecurity(t, sim.Spec.Template.Spec.SecurityContext, c[0].SecurityContext)
	if !slices.Contains(gatewayPools, pool.Name) {
		t.Errorf("the gateway serves %v, not the example's pool %s", gatewayPools, pool.Name)
	}
	obj := asTyped[v1alpha2.InferenceObjective](t, m.get(t, "InferenceObjective", ns, "food-review"))
	rw := asTyped[v1alpha2.InferenceModelRewrite](t, m.get(t, "InferenceModelRewrite", ns, "food-review"))
	if rw.Spec.PoolRef == nil {
		t.Fatal("rewrite without poolRef")
	}
	for _, ref := range []v1alpha2.PoolObjectReference{obj.Spec.PoolRef, *rw.Spec.PoolRef} {
		if string(ref.Name) != pool.Name {
			t.Errorf("poolRef %+v; want %s", ref, pool.Name)
		}
	}
	if obj.Spec.Priority == nil || *obj.Spec.Priority <= 0 {
		t.Errorf("objective priority %v; want above the default", obj.Spec.Priority)
	}
	var loras []string
	for _, a := range c[0].Args {
		if l, ok := strings.CutPrefix(a, "--lora="); ok {
			loras = append(loras, strings.Split(l, ",")...)
		}
	}
	for _, r := range rw.Spec.Rules {
		for _, tg := range r.Targets {
			if !slices.Contains(loras, tg.ModelRewrite) {
				t.Errorf("rewrite target %q is not a LoRA adapter the simulators serve (%v)", tg.ModelRewrite, loras)
			}
		}
	}
}

// readCRDs returns the CRDs of deploy/crds.
func readCRDs(t *testing.T) objectList {
	t.Helper()
	var out objectList
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in %s: %v", crdDir, err)
	}
	for _, f := range files {
		out = append(out, readObjects(t, f)...)
	}
	return out
}

// TestKustomizeApply applies every kustomize target, in the order a user
// would, to a real control plane with Managed Prometheus' and
// prometheus-operator's CRDs installed, and checks the result: every
// object is accepted and stored as written, the token controller fills
// Google's token Secret, the gateway's ServiceAccount has the access it
// needs and no more, and each GKE flavour's collector may read the Secret.
func TestKustomizeApply(t *testing.T) {
	r := requireRenderer(t)
	cp := kubetest.StartForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := cp.AdminConfig()
	admin, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	installMonitoringCRDs(ctx, t, cfg)

	collectorReads := func(ns string, allow bool) []accessCheck {
		name := "collector in " + ns + " may get the token Secret"
		if !allow {
			name = "collector in " + ns + " may not get the token Secret"
		}
		return []accessCheck{{
			name:  name,
			res:   &authzv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "default", Name: readerSecret},
			allow: allow,
		}}
	}

	t.Run("base", func(t *testing.T) {
		applyObjects(ctx, t, cfg, r.kustomizeBuild(t, "base"))
		waitForToken(ctx, t, admin, readerSecret)
		t.Run("gateway access", func(t *testing.T) {
			checkSAAccess(ctx, t, admin, "default", "infergate", deployedGatewayAccess("default", "kube-system"))
		})
		t.Run("reader access", func(t *testing.T) {
			checkSAAccess(ctx, t, admin, "default", readerSA, []accessCheck{
				{name: "get /metrics", nonRes: &authzv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}, allow: true},
			})
		})
	})
	t.Run("gke", func(t *testing.T) {
		applyObjects(ctx, t, cfg, r.kustomizeBuild(t, "gke"))
		checkSAAccess(ctx, t, admin, "gmp-system", "collector", collectorReads("gmp-system", true))
		checkSAAccess(ctx, t, admin, "gke-gmp-system", "collector", collectorReads("gke-gmp-system", false))
	})
	t.Run("gke-autopilot", func(t *testing.T) {
		applyObjects(ctx, t, cfg, r.kustomizeBuild(t, "gke-autopilot"))
		checkSAAccess(ctx, t, admin, "gke-gmp-system", "collector", collectorReads("gke-gmp-system", true))
	})
	t.Run("prometheus-operator", func(t *testing.T) {
		stored := applyObjects(ctx, t, cfg, r.kustomizeBuild(t, "prometheus-operator"))
		if len(stored.ofKind("ServiceMonitor")) != 1 {
			t.Errorf("stored %v; want one ServiceMonitor", stored.ids())
		}
	})
	t.Run("example", func(t *testing.T) {
		stored := applyObjects(ctx, t, cfg, r.kustomizeBuild(t, "example"))
		pool := stored.get(t, "InferencePool", "default", examplePool)
		// The CRD's default arrived: the pool speaks HTTP.
		if got, _, _ := unstructured.NestedString(pool.Object, "spec", "appProtocol"); got != string(v1.AppProtocolHTTP) {
			t.Errorf("stored pool appProtocol %q; want the default %q", got, v1.AppProtocolHTTP)
		}
	})
}
