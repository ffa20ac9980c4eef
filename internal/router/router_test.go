package router

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/scheduler"
)

// seq returns a deterministic Rand yielding vals in turn.
func seq(vals ...float64) func() float64 {
	i := 0
	return func() float64 { v := vals[i%len(vals)]; i++; return v }
}

func newStore(name string, models [][]string) *pool.Store {
	st := pool.NewStore(name)
	specs := make([]pool.Spec, len(models))
	for i := range models {
		specs[i] = pool.Spec{Name: fmt.Sprintf("%s-%d", name, i), Address: fmt.Sprintf("127.0.0.%d:8000", i+1)}
	}
	snap := st.Sync(specs)
	for i, ep := range snap.Endpoints() {
		ep.SetMetrics(&pool.Metrics{ScrapedAt: time.Unix(1000, 0)})
		ep.SetModels(models[i])
	}
	return st
}

func TestRoute(t *testing.T) {
	now := func() time.Time { return time.Unix(1000, 0) }
	main := newStore("main", [][]string{{"base", "lora-a"}, {"base"}})
	other := newStore("other", [][]string{{"mistral"}})
	r := New(Options{
		Catalog: Catalog{
			Pools: []Pool{
				{Store: main, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)},
				{Store: other, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)},
			},
			Models: []Model{
				{Name: "split", Objective: "gold", Targets: []Target{{Model: "base", Weight: 3}, {Model: "lora-a", Weight: 1}}},
				{Name: "pinned", Pool: "other", Targets: []Target{{Model: "mistral"}}},
			},
			Objectives: map[string]int{"gold": 10, "batch": -1},
		},
		Admission: admission.New(),
		Now:       now,
		Rand:      seq(0.1, 0.9, 0.9),
	})
	tests := []struct {
		name         string
		in           Input
		wantTarget   string
		wantPool     string
		wantPriority int
		wantEndpoint string // "" = any
		wantErr      error
	}{
		{name: "split picks by weight (low draw)", in: Input{Model: "split"}, wantTarget: "base", wantPool: "main", wantPriority: 10},
		{name: "split picks by weight (high draw)", in: Input{Model: "split"}, wantTarget: "lora-a", wantPool: "main", wantPriority: 10, wantEndpoint: "main-0"},
		{name: "objective header overrides", in: Input{Model: "split", Objective: "batch"}, wantTarget: "lora-a", wantPool: "main", wantPriority: -1, wantEndpoint: "main-0"},
		{name: "unknown objective is priority 0", in: Input{Model: "base", Objective: "nope"}, wantTarget: "base", wantPool: "main"},
		{name: "discovered model", in: Input{Model: "mistral"}, wantTarget: "mistral", wantPool: "other", wantEndpoint: "other-0"},
		{name: "configured pool", in: Input{Model: "pinned"}, wantTarget: "mistral", wantPool: "other"},
		{name: "rewrite header", in: Input{Model: "base", ModelRewrite: "lora-a"}, wantTarget: "lora-a", wantPool: "main", wantEndpoint: "main-0"},
		{name: "unknown model", in: Input{Model: "gpt-x"}, wantErr: ErrModelNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := r.Route(tc.in)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.TargetModel != tc.wantTarget || d.Pool.Name() != tc.wantPool || d.Priority != tc.wantPriority {
				t.Errorf("got target %q pool %q priority %d, want %q %q %d", d.TargetModel, d.Pool.Name(), d.Priority, tc.wantTarget, tc.wantPool, tc.wantPriority)
			}
			if tc.wantEndpoint != "" && d.Endpoint.Name() != tc.wantEndpoint {
				t.Errorf("endpoint %s, want %s", d.Endpoint.Name(), tc.wantEndpoint)
			}
		})
	}
}

func TestRetryNeverRepeatsAnEndpoint(t *testing.T) {
	st := newStore("p", [][]string{{"m"}, {"m"}, {"m"}})
	r := New(Options{Catalog: Catalog{Pools: []Pool{{Store: st, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}}}})
	d, err := r.Route(Input{Model: "m", Prompt: []byte("hello")})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{d.Endpoint.Name(): true}
	for range 2 {
		if err := r.Retry(d, nil); err != nil {
			t.Fatal(err)
		}
		if seen[d.Endpoint.Name()] {
			t.Fatalf("retry picked %s again", d.Endpoint.Name())
		}
		seen[d.Endpoint.Name()] = true
	}
	if err := r.Retry(d, nil); !errors.Is(err, scheduler.ErrNoEndpoint) {
		t.Fatalf("fourth pick: err = %v, want ErrNoEndpoint", err)
	}
}

func TestShedding(t *testing.T) {
	st := newStore("p", [][]string{{"m"}})
	st.Load().Endpoints()[0].SetMetrics(&pool.Metrics{WaitingQueue: 100, ScrapedAt: time.Unix(1000, 0)})
	r := New(Options{
		Catalog: Catalog{
			Pools:      []Pool{{Store: st, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}},
			Objectives: map[string]int{"batch": -1, "gold": 5},
		},
		Admission: admission.New(),
		Now:       func() time.Time { return time.Unix(1000, 0) },
	})
	if _, err := r.Route(Input{Model: "m", Objective: "batch"}); !errors.Is(err, admission.ErrShed) {
		t.Fatalf("sheddable: err = %v, want ErrShed", err)
	}
	for _, obj := range []string{"", "gold"} {
		if _, err := r.Route(Input{Model: "m", Objective: obj}); err != nil {
			t.Fatalf("objective %q: %v", obj, err)
		}
	}
}

func TestModelsUnion(t *testing.T) {
	st := newStore("p", [][]string{{"b", "a"}, {"c"}})
	r := New(Options{
		Catalog: Catalog{
			Pools:  []Pool{{Store: st, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}},
			Models: []Model{{Name: "alias"}},
		},
	})
	got := fmt.Sprint(r.Models())
	if got != "[a alias b c]" {
		t.Fatalf("Models() = %s", got)
	}
}
