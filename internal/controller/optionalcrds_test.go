package controller

import (
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/infergate/infergate/api/v1"
)

// TestControllerWithoutOptionalCRDs serves a cluster that has only the GA
// InferencePool CRD: no InferenceObjective or InferenceModelRewrite CRD. The
// pool must still be discovered and the first catalog published (without
// objectives or models), instead of waiting forever for caches of kinds the
// API server does not serve.
func TestControllerWithoutOptionalCRDs(t *testing.T) {
	dir := t.TempDir()
	const poolCRD = "inference.networking.k8s.io_inferencepools.yaml"
	data, err := os.ReadFile(filepath.Join(crdDir, poolCRD))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, poolCRD), data, 0o600); err != nil {
		t.Fatal(err)
	}
	e := startEnvWithCRDs(t, dir)
	ns := e.namespace(t, "pool-only")
	e.createPool(t, ns, "p", nil, map[v1.LabelKey]v1.LabelValue{"app": "m"}, 8000)
	e.createPod(t, ns, "m-0", map[string]string{"app": "m"}, nil)
	e.setPodStatus(t, ns, "m-0", true, "10.1.0.1")

	r := e.start(t, Options{Namespace: ns, PoolNames: []string{"p"}})
	got := r.rec.waitFor(t, "pool p with its pod", hasEndpoints("p", "m-0-rank-0=10.1.0.1:8000"))
	if len(got.Objectives) != 0 || len(got.Models) != 0 {
		t.Errorf("catalog without the optional CRDs has objectives %v and models %v, want none", got.Objectives, got.Models)
	}
	if r.c.watchObjectives || r.c.watchRewrites {
		t.Errorf("watching objectives=%t rewrites=%t on a cluster without their CRDs", r.c.watchObjectives, r.c.watchRewrites)
	}
}
