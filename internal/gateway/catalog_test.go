package gateway

import (
	"slices"
	"testing"

	"github.com/infergate/infergate/internal/config"
)

// TestSetCatalog checks that pools join and leave with their stores and
// inference_pool_* series, that an unchanged pool keeps its endpoints (and
// with them their metrics and in-flight counts), and that routing follows.
func TestSetCatalog(t *testing.T) {
	cfg := config.Default()
	cfg.Kubernetes.Enabled = true
	cfg.Kubernetes.Pools = []string{"a"}
	cfg.Metrics.Auth.Enabled = new(false)
	cfg.ApplyDefaults()
	g, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(g.set.Stores()); n != 0 {
		t.Fatalf("Kubernetes mode starts with %d pools, want 0", n)
	}

	pool := func(name string, addrs ...string) config.Pool {
		p := config.Pool{Name: name}
		for _, a := range addrs {
			p.Endpoints = append(p.Endpoints, config.Endpoint{Name: a, Address: a, Engine: config.EngineVLLM})
		}
		return p
	}
	apply := func(c config.Catalog) {
		t.Helper()
		if err := g.SetCatalog(c); err != nil {
			t.Fatal(err)
		}
	}

	apply(config.Catalog{Pools: []config.Pool{pool("a", "10.0.0.1:8000"), pool("b", "10.0.0.2:8000")},
		Models: []config.Model{{Name: "alias", Pool: "b", Targets: []config.Target{{Model: "m", Weight: 1}}}}})
	if got := g.poolSeries(t); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("pool series after two pools joined = %v, want [a b]", got)
	}
	epB := g.set.Stores()[1].Load().Endpoints()[0]
	if !g.router.HasModel("alias") {
		t.Error("model alias of pool b does not resolve")
	}

	apply(config.Catalog{Pools: []config.Pool{pool("b", "10.0.0.2:8000", "10.0.0.3:8000")}})
	if got := g.poolSeries(t); !slices.Equal(got, []string{"b"}) {
		t.Errorf("pool series after a left = %v, want [b]", got)
	}
	stores := g.set.Stores()
	if len(stores) != 1 || stores[0].Name() != "b" || stores[0].Load().Len() != 2 {
		t.Fatalf("stores = %v, want pool b with 2 endpoints", stores)
	}
	if stores[0].Load().Endpoints()[0] != epB {
		t.Error("an endpoint that stayed in its pool was replaced")
	}
	if g.router.HasModel("alias") {
		t.Error("model alias still resolves after its rewrite went away")
	}

	// A pool that leaves and comes back registers its collector again.
	apply(config.Catalog{})
	apply(config.Catalog{Pools: []config.Pool{pool("b", "10.0.0.2:8000")}})
	if got := g.poolSeries(t); !slices.Equal(got, []string{"b"}) {
		t.Errorf("pool series after b came back = %v, want [b]", got)
	}
}

// poolSeries returns the pool names of the inference_pool_ready_pods series.
func (g *Gateway) poolSeries(t *testing.T) []string {
	t.Helper()
	fams, err := g.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fams {
		if f.GetName() != "inference_pool_ready_pods" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "name" {
					names = append(names, l.GetValue())
				}
			}
		}
	}
	slices.Sort(names)
	return names
}
