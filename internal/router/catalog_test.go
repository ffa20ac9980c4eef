package router

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/scheduler"
)

func TestSetCatalog(t *testing.T) {
	now := func() time.Time { return time.Unix(1000, 0) }
	a := newStore("a", [][]string{{"base"}})
	b := newStore("b", [][]string{{"mistral"}})
	pa := Pool{Store: a, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}
	pb := Pool{Store: b, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}

	r := New(Options{Now: now})
	if _, err := r.Route(Input{Model: "base"}); !errors.Is(err, ErrModelNotFound) {
		t.Fatalf("empty catalog: err = %v, want ErrModelNotFound", err)
	}
	if got := r.Models(); len(got) != 0 {
		t.Fatalf("empty catalog: Models() = %v, want none", got)
	}

	r.SetCatalog(Catalog{
		Pools:      []Pool{pa},
		Models:     []Model{{Name: "alias", Pool: "a", Objective: "gold", Targets: []Target{{Model: "base", Weight: 1}}}},
		Objectives: map[string]int{"gold": 3},
	})
	d, err := r.Route(Input{Model: "alias"})
	if err != nil {
		t.Fatalf("alias after SetCatalog: %v", err)
	}
	if d.Pool != a || d.TargetModel != "base" || d.Priority != 3 {
		t.Errorf("alias: pool %s target %q priority %d, want a base 3", d.Pool.Name(), d.TargetModel, d.Priority)
	}
	if got := fmt.Sprint(r.Models()); got != "[alias base]" {
		t.Errorf("Models() = %s, want [alias base]", got)
	}

	// A second pool joins; the first pool's model moves away; the cached
	// model list follows at once.
	r.SetCatalog(Catalog{Pools: []Pool{pa, pb}})
	if _, err := r.Route(Input{Model: "alias"}); !errors.Is(err, ErrModelNotFound) {
		t.Errorf("alias after removal: err = %v, want ErrModelNotFound", err)
	}
	d, err = r.Route(Input{Model: "mistral"})
	if err != nil || d.Pool != b {
		t.Fatalf("mistral: pool %v err %v, want pool b", d.Pool, err)
	}
	if got := fmt.Sprint(r.Models()); got != "[base mistral]" {
		t.Errorf("Models() = %s, want [base mistral]", got)
	}

	// A model naming a pool that is not served does not resolve.
	r.SetCatalog(Catalog{Pools: []Pool{pa}, Models: []Model{{Name: "x", Pool: "gone"}}})
	if _, err := r.Route(Input{Model: "x"}); !errors.Is(err, ErrModelNotFound) {
		t.Errorf("model of an unserved pool: err = %v, want ErrModelNotFound", err)
	}
}

func TestCatchAllModel(t *testing.T) {
	a := newStore("a", [][]string{{"base"}})
	b := newStore("b", [][]string{{"mistral"}})
	r := New(Options{
		Now:  func() time.Time { return time.Unix(1000, 0) },
		Rand: seq(0.1),
		Catalog: Catalog{
			Pools: []Pool{
				{Store: a, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)},
				{Store: b, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)},
			},
			Models: []Model{
				{Name: "", Pool: "b", Targets: []Target{{Model: "mistral-v2", Weight: 1}}},
				{Name: "exact", Pool: "b", Targets: []Target{{Model: "mistral", Weight: 1}}},
			},
		},
	})
	tests := []struct {
		name, model, wantPool, wantTarget string
	}{
		{name: "named model beats the catch-all", model: "exact", wantPool: "b", wantTarget: "mistral"},
		{name: "served by a pool without a catch-all", model: "base", wantPool: "a", wantTarget: "base"},
		{name: "served by the catch-all's pool", model: "mistral", wantPool: "b", wantTarget: "mistral-v2"},
		{name: "unknown model goes to the catch-all", model: "anything", wantPool: "b", wantTarget: "mistral-v2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := r.Route(Input{Model: tc.model})
			if err != nil {
				t.Fatalf("Route(%q): %v", tc.model, err)
			}
			if d.Pool.Name() != tc.wantPool || d.TargetModel != tc.wantTarget {
				t.Errorf("Route(%q) = pool %s target %q, want pool %s target %q", tc.model, d.Pool.Name(), d.TargetModel, tc.wantPool, tc.wantTarget)
			}
		})
	}
}
