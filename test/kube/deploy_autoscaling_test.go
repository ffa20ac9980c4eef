package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/infergate/infergate/internal/kubetest"
)

// autoscalingCRDDir holds KEDA's ScaledObject CRD, copied from KEDA's Go
// module by hack/gen-autoscaling-crds.sh.
const autoscalingCRDDir = "testdata/autoscaling-crds"

// The gateway's signals the autoscaling objects scale on.
const (
	saturationMetric = "llm_d_epp_flow_control_pool_saturation"
	queueSizeMetric  = "llm_d_epp_flow_control_queue_size"
	exampleModelDepl = "vllm-llama3-8b-instruct"
)

// checkHPA checks an HPA of deploy/autoscaling or the chart: it scales
// Deployment depl on the pool saturation of pool (the metric name and label
// selector the provider's adapter serves), holding it under 1.0 (where the
// gateway starts queueing), scaling up faster than down.
func checkHPA(t *testing.T, o *unstructured.Unstructured, provider, pool, depl string) {
	t.Helper()
	h := asTyped[autoscalingv2.HorizontalPodAutoscaler](t, o)
	if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != depl {
		t.Errorf("%s: scales %s %s, want Deployment %s", renderedID(o), h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name, depl)
	}
	if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].External == nil {
		t.Fatalf("%s: metrics %+v, want one External metric", renderedID(o), h.Spec.Metrics)
	}
	ext := h.Spec.Metrics[0].External
	name, label := saturationMetric, "inference_pool"
	if provider == "gke" {
		name, label = "prometheus.googleapis.com|"+saturationMetric+"|gauge", "metric.labels.inference_pool"
	}
	if ext.Metric.Name != name || ext.Metric.Selector == nil || ext.Metric.Selector.MatchLabels[label] != pool {
		t.Errorf("%s: metric %s %v, want %s{%s=%q}", renderedID(o), ext.Metric.Name, ext.Metric.Selector, name, label, pool)
	}
	if ext.Target.Type != autoscalingv2.ValueMetricType || ext.Target.Value == nil ||
		ext.Target.Value.Cmp(resource.MustParse("1")) >= 0 || ext.Target.Value.Sign() <= 0 {
		t.Errorf("%s: target %+v, want a Value in (0, 1)", renderedID(o), ext.Target)
	}
	b := h.Spec.Behavior
	if b == nil || b.ScaleUp == nil || b.ScaleDown == nil || *b.ScaleDown.StabilizationWindowSeconds <= *b.ScaleUp.StabilizationWindowSeconds {
		t.Errorf("%s: behavior %+v, want scale-down slower than scale-up", renderedID(o), b)
	}
}

// checkScaledObject checks a KEDA ScaledObject: from zero, woken by queued
// requests of pool, sized by its saturation.
func checkScaledObject(t *testing.T, o *unstructured.Unstructured, pool, depl string) {
	t.Helper()
	if name, _, _ := unstructured.NestedString(o.Object, "spec", "scaleTargetRef", "name"); name != depl {
		t.Errorf("%s: scales %q, want %q", renderedID(o), name, depl)
	}
	if n, _, _ := unstructured.NestedInt64(o.Object, "spec", "minReplicaCount"); n != 0 {
		t.Errorf("%s: minReplicaCount %d, want 0 (scale from zero)", renderedID(o), n)
	}
	triggers, _, _ := unstructured.NestedSlice(o.Object, "spec", "triggers")
	found := map[string]map[string]any{}
	for _, tr := range triggers {
		m := tr.(map[string]any)
		md, _ := m["metadata"].(map[string]any)
		q, _ := md["query"].(string)
		for _, metric := range []string{saturationMetric, queueSizeMetric} {
			if strings.Contains(q, metric+`{inference_pool="`+pool+`"}`) && m["type"] == "prometheus" {
				found[metric] = md
			}
		}
	}
	sat, queue := found[saturationMetric], found[queueSizeMetric]
	if sat == nil || queue == nil {
		t.Fatalf("%s: triggers %v, want prometheus triggers on %s and %s of pool %q", renderedID(o), triggers, saturationMetric, queueSizeMetric, pool)
	}
	// Only queued requests wake a pool at zero; an empty pool's saturation
	// must not keep it awake.
	if queue["activationThreshold"] != "0" || sat["activationThreshold"] != "1" {
		t.Errorf("%s: activation thresholds saturation %v, queue %v; want 1 and 0", renderedID(o), sat["activationThreshold"], queue["activationThreshold"])
	}
}

// TestAutoscaling renders deploy/autoscaling and the chart's autoscaling
// objects for every provider, checks them, and applies them to a real API
// server with KEDA's CRD installed.
func TestAutoscaling(t *testing.T) {
	r := requireRenderer(t)
	cp := kubetest.StartForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := cp.AdminConfig()
	admin, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kubetest.InstallCRDs(ctx, cfg, autoscalingCRDDir); err != nil {
		t.Fatal(err)
	}
	for _, provider := range []string{"prometheus-adapter", "gke", "keda"} {
		t.Run("kustomize/"+provider, func(t *testing.T) {
			m := r.kustomizeBuild(t, "../autoscaling/"+provider)
			if len(m) != 1 {
				t.Fatalf("objects %v, want one", m.ids())
			}
			if provider == "keda" {
				checkScaledObject(t, m[0], examplePool, exampleModelDepl)
			} else {
				checkHPA(t, m[0], provider, examplePool, exampleModelDepl)
			}
			applyObjects(ctx, t, cfg, m)
		})
		t.Run("helm/"+provider, func(t *testing.T) {
			ns := "as-" + provider
			newNamespace(ctx, t, admin, ns)
			all := r.helmTemplate(t, "infergate", ns, "autoscaling.provider="+provider,
				"autoscaling.targets[0].pool=pool-a", "autoscaling.targets[0].deployment=servers-a",
				"autoscaling.targets[1].pool=pool-b", "autoscaling.targets[1].deployment=servers-b")
			kind := "HorizontalPodAutoscaler"
			if provider == "keda" {
				kind = "ScaledObject"
			}
			objs := all.ofKind(kind)
			if len(objs) != 2 {
				t.Fatalf("%s objects %v, want two", kind, objs.ids())
			}
			for i, want := range [][2]string{{"pool-a", "servers-a"}, {"pool-b", "servers-b"}} {
				if provider == "keda" {
					checkScaledObject(t, objs[i], want[0], want[1])
				} else {
					checkHPA(t, objs[i], provider, want[0], want[1])
				}
			}
			applyObjects(ctx, t, cfg, objs)
		})
	}
	t.Run("helm/example", func(t *testing.T) {
		m := r.helmTemplate(t, "infergate", "ex", "autoscaling.provider=keda", "example.enabled=true").ofKind("ScaledObject")
		if len(m) != 1 {
			t.Fatalf("objects %v, want the example's ScaledObject", m.ids())
		}
		checkScaledObject(t, m[0], examplePool, examplePool)
	})
	t.Run("helm/invalid", func(t *testing.T) {
		for _, set := range [][]string{
			{"autoscaling.provider=gke"}, // no target, no example
			{"autoscaling.provider=hpa"},
			{"autoscaling.provider=keda", `autoscaling.targets[0].pool=p"}`, "autoscaling.targets[0].deployment=d"},
			{"autoscaling.provider=gke", "autoscaling.targets[0].pool=p", "autoscaling.targets[0].deployment=d", "autoscaling.targetSaturation=lots"},
		} {
			if out, err := r.helmTemplateErr("infergate", "ns", set...); err == nil {
				t.Errorf("%v rendered; want an error:\n%.300s", set, out)
			}
		}
	})
}
