package router

import (
	"errors"
	"testing"

	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/scheduler"
)

// twoPools is a router over pools "main" (base, lora-a) and "other"
// (mistral), with "pinned" configured on other and a catch-all on main.
func twoPools() *Router {
	main := newStore("main", [][]string{{"base", "lora-a"}, {"base"}})
	other := newStore("other", [][]string{{"mistral"}})
	return New(Options{Catalog: Catalog{
		Pools: []Pool{
			{Store: main, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)},
			{Store: other, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)},
		},
		Models: []Model{{Name: "pinned", Pool: "other", Targets: []Target{{Model: "mistral"}}}},
	}})
}

func TestRouteRestrictedToPool(t *testing.T) {
	r := twoPools()
	tests := []struct {
		pool, model string
		wantPool    string
		wantErr     error
	}{
		{pool: "main", model: "base", wantPool: "main"},
		{pool: "main", model: "mistral", wantErr: ErrModelNotFound}, // discovered in other only
		{pool: "main", model: "pinned", wantErr: ErrModelNotFound},  // configured on other
		{pool: "other", model: "pinned", wantPool: "other"},
		{pool: "other", model: "mistral", wantPool: "other"},
		{pool: "other", model: "base", wantErr: ErrModelNotFound},
		{pool: "gone", model: "base", wantErr: scheduler.ErrNoEndpoint}, // not discovered (yet)
	}
	for _, tc := range tests {
		d, err := r.Route(Input{Model: tc.model, Pool: tc.pool})
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s in %s: err = %v, want %v", tc.model, tc.pool, err, tc.wantErr)
			}
			continue
		}
		if err != nil || d.Pool.Name() != tc.wantPool {
			t.Errorf("%s in %s: %v, pool %v", tc.model, tc.pool, err, d.Pool)
		}
	}
}

func TestRouteAllow(t *testing.T) {
	r := twoPools()
	only := func(name string) func(*pool.Endpoint) bool {
		return func(ep *pool.Endpoint) bool { return ep.Name() == name }
	}
	for range 10 {
		d, err := r.Route(Input{Model: "base", Allow: only("main-1")})
		if err != nil || d.Endpoint.Name() != "main-1" {
			t.Fatalf("allowed main-1 only: %v %v", err, d.Endpoint)
		}
		d.Endpoint.Release(d.Tokens)
	}
	if _, err := r.Route(Input{Model: "base", Allow: only("nobody")}); !errors.Is(err, scheduler.ErrNoEndpoint) {
		t.Fatalf("nothing allowed: err = %v, want ErrNoEndpoint", err)
	}
	// A retry stays within the allowed set too.
	d, err := r.Route(Input{Model: "base", Allow: only("main-0")})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Retry(d, nil); !errors.Is(err, scheduler.ErrNoEndpoint) {
		t.Fatalf("retry outside the allowed set: err = %v", err)
	}
}

func TestRouteRanking(t *testing.T) {
	r := twoPools()
	var rk scheduler.Ranking
	d, err := r.Route(Input{Model: "base", Ranking: &rk})
	if err != nil {
		t.Fatal(err)
	}
	if len(rk.Candidates) != 2 || rk.Candidates[0].Endpoint != d.Endpoint || rk.Candidates[0].Score < rk.Candidates[1].Score {
		t.Fatalf("ranking %+v for pick %s", rk.Candidates, d.Endpoint.Name())
	}
}
