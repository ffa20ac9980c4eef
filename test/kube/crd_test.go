package kube

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/infergate/infergate/api/v1"
	"github.com/infergate/infergate/api/v1alpha2"
	"github.com/infergate/infergate/internal/kubetest"
)

const crdDir = "../../deploy/crds"

func TestCRDs(t *testing.T) {
	cp := kubetest.StartForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	names, err := kubetest.InstallCRDs(ctx, cp.AdminConfig(), crdDir)
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{
		"inferencepools.inference.networking.k8s.io",
		"inferencemodelrewrites.inference.networking.x-k8s.io",
		"inferenceobjectives.inference.networking.x-k8s.io",
		"inferencemodelrewrites.llm-d.ai",
		"inferenceobjectives.llm-d.ai",
	}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Fatalf("installed CRDs (-want +got):\n%s", diff)
	}
	applier, err := kubetest.NewApplier(cp.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("valid", func(t *testing.T) {
		files, err := filepath.Glob("testdata/valid/*.yaml")
		if err != nil || len(files) == 0 {
			t.Fatalf("no valid examples: %v", err)
		}
		for _, f := range files {
			t.Run(filepath.Base(f), func(t *testing.T) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := applier.Apply(ctx, data); err != nil {
					t.Fatalf("apply valid example: %v", err)
				}
			})
		}
	})

	t.Run("typed", func(t *testing.T) {
		testTypedRoundTrip(ctx, t, cp)
	})

	t.Run("invalid", func(t *testing.T) {
		for _, tc := range invalidObjects() {
			t.Run(tc.name, func(t *testing.T) {
				_, err := applier.Apply(ctx, []byte(tc.yaml))
				if err == nil {
					t.Fatalf("applied; want rejection containing %q", tc.wantErr)
				}
				if !apierrors.IsInvalid(err) {
					t.Fatalf("error %v; want an Invalid status", err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q; want it to contain %q", err, tc.wantErr)
				}
			})
		}
	})
}

// testTypedRoundTrip reads the upstream-style examples back through the Go
// types and checks the CRD defaults arrived.
func testTypedRoundTrip(ctx context.Context, t *testing.T, cp *kubetest.ControlPlane) {
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha2.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cp.AdminConfig(), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	var pool v1.InferencePool
	if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: "vllm-llama3-8b-instruct"}, &pool); err != nil {
		t.Fatal(err)
	}
	emptyGroup := v1.Group("")
	wantSpec := v1.InferencePoolSpec{
		Selector:    v1.LabelSelector{MatchLabels: map[v1.LabelKey]v1.LabelValue{"app": "vllm-llama3-8b-instruct"}},
		TargetPorts: []v1.Port{{Number: 8000}},
		AppProtocol: v1.AppProtocolHTTP,
		EndpointPickerRef: &v1.EndpointPickerRef{
			Group:       &emptyGroup,
			Kind:        "Service",
			Name:        "vllm-llama3-8b-instruct-epp",
			Port:        &v1.Port{Number: 9002},
			FailureMode: v1.EndpointPickerFailClose,
		},
	}
	if diff := cmp.Diff(wantSpec, pool.Spec); diff != "" {
		t.Errorf("InferencePool spec with defaults (-want +got):\n%s", diff)
	}

	var obj v1alpha2.InferenceObjective
	if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: "food-review"}, &obj); err != nil {
		t.Fatal(err)
	}
	ten := 10
	wantObj := v1alpha2.InferenceObjectiveSpec{
		Priority: &ten,
		PoolRef:  v1alpha2.PoolObjectReference{Group: "inference.networking.k8s.io", Kind: "InferencePool", Name: "vllm-llama3-8b-instruct"},
	}
	if diff := cmp.Diff(wantObj, obj.Spec); diff != "" {
		t.Errorf("InferenceObjective spec with defaults (-want +got):\n%s", diff)
	}

	var rw v1alpha2.InferenceModelRewrite
	if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: "food-review-rewrite"}, &rw); err != nil {
		t.Fatal(err)
	}
	exact := v1alpha2.MatchExact
	w90, w10 := int32(90), int32(10)
	wantRules := []v1alpha2.InferenceModelRewriteRule{
		{
			Matches: []v1alpha2.Match{{Model: v1alpha2.ModelMatch{Type: &exact, Value: "food-review"}}},
			Targets: []v1alpha2.TargetModel{{ModelRewrite: "food-review-1", Weight: &w90}, {ModelRewrite: "food-review-2", Weight: &w10}},
		},
		{Targets: []v1alpha2.TargetModel{{ModelRewrite: "meta-llama/Llama-3.1-8B-Instruct"}}},
	}
	if diff := cmp.Diff(wantRules, rw.Spec.Rules); diff != "" {
		t.Errorf("InferenceModelRewrite rules (-want +got):\n%s", diff)
	}

	// Create through the Go types, as the controller will, and read back.
	created := &v1.InferencePool{}
	created.Namespace, created.Name = "default", "typed"
	created.Spec = v1.InferencePoolSpec{
		Selector:    v1.LabelSelector{MatchLabels: map[v1.LabelKey]v1.LabelValue{"app": "sim"}},
		TargetPorts: []v1.Port{{Number: 8000}, {Number: 8001}},
	}
	if err := c.Create(ctx, created); err != nil {
		t.Fatalf("create typed InferencePool: %v", err)
	}
	if created.Spec.AppProtocol != v1.AppProtocolHTTP {
		t.Errorf("typed create: appProtocol %q; want the default %q", created.Spec.AppProtocol, v1.AppProtocolHTTP)
	}
}

// invalidObject is an object the CRDs must reject.
type invalidObject struct {
	name    string
	yaml    string
	wantErr string // substring of the API server's message
}

func pool(name, spec string) string {
	return "apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata:\n  name: " + name + "\nspec:\n" + spec
}

func rewrite(name, spec string) string {
	return "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferenceModelRewrite\nmetadata:\n  name: " + name + "\nspec:\n" + spec
}

func objective(name, spec string) string {
	return "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferenceObjective\nmetadata:\n  name: " + name + "\nspec:\n" + spec
}

const selector = "  selector:\n    matchLabels:\n      app: vllm\n"

func ports(numbers ...string) string {
	s := "  targetPorts:\n"
	for _, n := range numbers {
		s += "  - number: " + n + "\n"
	}
	return s
}

// invalidObjects lists the objects the CRDs must reject: each
// InferenceObjective and InferenceModelRewrite case twice, in
// inference.networking.x-k8s.io and in llm-d.ai, which validate alike.
func invalidObjects() []invalidObject {
	objs := gieInvalidObjects()
	for _, o := range objs {
		if strings.Contains(o.yaml, "apiVersion: inference.networking.x-k8s.io/v1alpha2\n") {
			o.name += " (llm-d.ai)"
			o.yaml = strings.Replace(o.yaml, "inference.networking.x-k8s.io/v1alpha2", "llm-d.ai/v1alpha2", 1)
			objs = append(objs, o)
		}
	}
	return objs
}

// gieInvalidObjects are the cases in the GIE groups.
func gieInvalidObjects() []invalidObject {
	return []invalidObject{
		{name: "pool zero target ports", yaml: pool("p0", selector+"  targetPorts: []\n"), wantErr: "spec.targetPorts"},
		{name: "pool nine target ports", yaml: pool("p9", selector+ports("1", "2", "3", "4", "5", "6", "7", "8", "9")), wantErr: "must have at most 8 items"},
		{name: "pool duplicate ports", yaml: pool("pdup", selector+ports("8000", "8001", "8000")), wantErr: "port number must be unique"},
		{name: "pool port zero", yaml: pool("pport0", selector+ports("0")), wantErr: "should be greater than or equal to 1"},
		{name: "pool port too large", yaml: pool("pport65536", selector+ports("65536")), wantErr: "should be less than or equal to 65535"},
		{name: "pool missing target ports", yaml: pool("pnoports", selector), wantErr: "spec.targetPorts: Required value"},
		{name: "pool missing selector", yaml: pool("pnosel", ports("8000")), wantErr: "spec.selector: Required value"},
		{name: "pool empty matchLabels", yaml: pool("pemptysel", "  selector:\n    matchLabels: {}\n"+ports("8000")), wantErr: "spec.selector.matchLabels"},
		{name: "pool bad label value", yaml: pool("pbadlabel", "  selector:\n    matchLabels:\n      app: \"-bad-\"\n"+ports("8000")), wantErr: "spec.selector.matchLabels.app"},
		{name: "pool bad appProtocol", yaml: pool("pproto", selector+ports("8000")+"  appProtocol: grpc\n"), wantErr: `Unsupported value: "grpc"`},
		{name: "pool bad failureMode", yaml: pool("pfail", selector+ports("8000")+"  endpointPickerRef:\n    name: epp\n    port:\n      number: 9002\n    failureMode: FailSometimes\n"), wantErr: `Unsupported value: "FailSometimes"`},
		{name: "pool Service picker without port", yaml: pool("pnoport", selector+ports("8000")+"  endpointPickerRef:\n    name: epp\n"), wantErr: "port is required when kind is 'Service'"},
		{name: "pool explicit Service picker without port", yaml: pool("pnoport2", selector+ports("8000")+"  endpointPickerRef:\n    kind: Service\n    name: epp\n"), wantErr: "port is required when kind is 'Service'"},
		{name: "pool picker without name", yaml: pool("pnoname", selector+ports("8000")+"  endpointPickerRef:\n    port:\n      number: 9002\n"), wantErr: "spec.endpointPickerRef.name"},
		{name: "pool picker bad kind", yaml: pool("pbadkind", selector+ports("8000")+"  endpointPickerRef:\n    kind: \"1Service\"\n    name: epp\n"), wantErr: "spec.endpointPickerRef.kind"},
		{name: "objective missing poolRef", yaml: objective("onopool", "  priority: 1\n"), wantErr: "spec.poolRef: Required value"},
		{name: "objective empty pool name", yaml: objective("oemptypool", "  priority: 1\n  poolRef:\n    name: \"\"\n"), wantErr: "spec.poolRef.name"},
		{name: "objective bad pool kind", yaml: objective("obadkind", "  poolRef:\n    kind: \"Inference Pool\"\n    name: p\n"), wantErr: "spec.poolRef.kind"},
		{name: "rewrite weight zero", yaml: rewrite("rw0", "  poolRef:\n    name: p\n  rules:\n  - targets:\n    - modelRewrite: a\n      weight: 0\n"), wantErr: "should be greater than or equal to 1"},
		{name: "rewrite weight too large", yaml: rewrite("rwbig", "  poolRef:\n    name: p\n  rules:\n  - targets:\n    - modelRewrite: a\n      weight: 1000001\n"), wantErr: "should be less than or equal to 1000000"},
		{name: "rewrite no targets", yaml: rewrite("rwnotargets", "  poolRef:\n    name: p\n  rules:\n  - targets: []\n"), wantErr: "spec.rules[0].targets"},
		{name: "rewrite bad match type", yaml: rewrite("rwprefix", "  poolRef:\n    name: p\n  rules:\n  - matches:\n    - model:\n        type: Prefix\n        value: a\n    targets:\n    - modelRewrite: b\n"), wantErr: `Unsupported value: "Prefix"`},
		{name: "rewrite empty match value", yaml: rewrite("rwempty", "  poolRef:\n    name: p\n  rules:\n  - matches:\n    - model:\n        value: \"\"\n    targets:\n    - modelRewrite: b\n"), wantErr: "spec.rules[0].matches[0].model.value"},
		{name: "rewrite missing rules", yaml: rewrite("rwnorules", "  poolRef:\n    name: p\n"), wantErr: "spec.rules: Required value"},
	}
}
