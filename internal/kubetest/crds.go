package kubetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

func crdResource() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
}

// InstallCRDs applies every *.yaml file in dir (CustomResourceDefinitions)
// and waits until the API server reports each one Established, so objects
// of the new kinds can be created right away. It returns the CRD names.
func InstallCRDs(ctx context.Context, cfg *rest.Config, dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("install CRDs from %s: %w", dir, err)
	}
	sort.Strings(files)
	a, err := NewApplier(cfg)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("install CRDs: %w", err)
		}
		objs, err := a.Apply(ctx, data)
		if err != nil {
			return nil, fmt.Errorf("install CRDs from %s: %w", f, err)
		}
		for _, o := range objs {
			names = append(names, o.GetName())
		}
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("install CRDs: %w", err)
	}
	for _, name := range names {
		if err := waitEstablished(ctx, dyn, name); err != nil {
			return nil, err
		}
	}
	return names, nil
}

func waitEstablished(ctx context.Context, dyn dynamic.Interface, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		crd, err := dyn.Resource(crdResource()).Get(ctx, name, metav1.GetOptions{})
		if err == nil && established(crd) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for CRD %s to be established: %w (last error: %v)", name, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
