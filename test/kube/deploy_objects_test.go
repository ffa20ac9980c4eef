package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/infergate/infergate/internal/kubetest"
)

// objectList is a rendered set of objects, in render order.
type objectList []*unstructured.Unstructured

// find returns the object of kind, namespace and name, or nil. A namespace
// of "" matches cluster-scoped objects and objects without one.
func (m objectList) find(kind, namespace, name string) *unstructured.Unstructured {
	for _, o := range m {
		if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			return o
		}
	}
	return nil
}

// get is find failing the test when the object is missing.
func (m objectList) get(t *testing.T, kind, namespace, name string) *unstructured.Unstructured {
	t.Helper()
	o := m.find(kind, namespace, name)
	if o == nil {
		t.Fatalf("no %s %s/%s among %v", kind, namespace, name, m.ids())
	}
	return o
}

// ofKind returns the objects of kind.
func (m objectList) ofKind(kind string) objectList {
	var out objectList
	for _, o := range m {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// ids lists "Kind namespace/name" of every object, sorted.
func (m objectList) ids() []string {
	out := make([]string, 0, len(m))
	for _, o := range m {
		out = append(out, renderedID(o))
	}
	slices.Sort(out)
	return out
}

func renderedID(o *unstructured.Unstructured) string {
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// typed converts o into a typed API object through JSON, as the API
// server would decode it.
func asTyped[T any](t *testing.T, o *unstructured.Unstructured) *T {
	t.Helper()
	data, err := json.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", renderedID(o), err)
	}
	return &v
}

// clusterScopedKinds are the cluster-scoped kinds the manifests hold.
var clusterScopedKinds = map[string]bool{
	"ClusterRole":              true,
	"ClusterRoleBinding":       true,
	"ClusterPodMonitoring":     true,
	"CustomResourceDefinition": true,
	"Namespace":                true,
}

// normalizedObject returns o's content for comparisons: through JSON (so numbers
// compare alike whatever decoded them) and without metadata.namespace on
// cluster-scoped kinds, which the API server drops (Google's files set it
// on ClusterRoleBindings).
func normalizedObject(t *testing.T, o *unstructured.Unstructured) map[string]any {
	t.Helper()
	data, err := json.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if clusterScopedKinds[o.GetKind()] {
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "namespace")
		}
	}
	return m
}

// missingFrom reports every value of want that got lacks or holds
// differently: maps must contain want's keys, lists must have want's length
// with each item matching. It is how the tests check that the API server
// stored every field a manifest sets (a field unknown to a schema would be
// pruned), whatever defaults it added.
func missingFrom(want, got any, path string) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %T, want an object", path, got)}
		}
		var out []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			out = append(out, missingFrom(wv, gv, path+"."+k)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, got, want)}
		}
		var out []string
		for i := range w {
			out = append(out, missingFrom(w[i], g[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, got, want)}
		}
		return nil
	}
}

// applyObjects applies m to the control plane of cfg the way
// `kubectl apply --server-side` on a fresh cluster needs it: its
// CustomResourceDefinitions first, established before anything else, then
// every other object in order. It checks that the API server stored every
// field of every object and returns the stored objects.
func applyObjects(ctx context.Context, t *testing.T, cfg *rest.Config, m objectList) objectList {
	t.Helper()
	crdDir := t.TempDir()
	var others objectList
	for i, o := range m {
		if o.GetKind() != "CustomResourceDefinition" {
			others = append(others, o)
			continue
		}
		data, err := json.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(crdDir, fmt.Sprintf("%03d.yaml", i)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kubetest.InstallCRDs(ctx, cfg, crdDir); err != nil {
		t.Fatalf("install the manifest's CRDs: %v", err)
	}
	// A new Applier discovers the kinds the CRDs just added.
	applier, err := kubetest.NewApplier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var stored objectList
	for _, o := range others {
		got, err := applier.ApplyObject(ctx, o)
		if err != nil {
			t.Fatalf("apply %s: %v", renderedID(o), err)
		}
		if diff := missingFrom(normalizedObject(t, o), normalizedObject(t, got), ""); len(diff) > 0 {
			t.Errorf("%s: the API server did not store what was applied:\n%s", renderedID(o), strings.Join(diff, "\n"))
		}
		stored = append(stored, got)
	}
	return stored
}

// newNamespace creates namespace ns.
func newNamespace(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// accessCheck is one SubjectAccessReview and its expected answer.
type accessCheck struct {
	name   string
	res    *authzv1.ResourceAttributes
	nonRes *authzv1.NonResourceAttributes
	allow  bool
}

// checkSAAccess asks the API server each case for the ServiceAccount
// namespace/name (with the groups every ServiceAccount has).
func checkSAAccess(ctx context.Context, t *testing.T, cs kubernetes.Interface, namespace, name string, cases []accessCheck) {
	t.Helper()
	user := "system:serviceaccount:" + namespace + ":" + name
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{
				Spec: authzv1.SubjectAccessReviewSpec{
					User: user, Groups: groups,
					ResourceAttributes: tc.res, NonResourceAttributes: tc.nonRes,
				},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sar.Status.Allowed != tc.allow {
				t.Errorf("%s: allowed=%v (reason %q); want %v", user, sar.Status.Allowed, sar.Status.Reason, tc.allow)
			}
		})
	}
}

// res builds ResourceAttributes; resource may be "resource/subresource".
func resAttrs(verb, group, resource, namespace string) *authzv1.ResourceAttributes {
	r, sub, _ := strings.Cut(resource, "/")
	return &authzv1.ResourceAttributes{Verb: verb, Group: group, Resource: r, Subresource: sub, Namespace: namespace}
}
