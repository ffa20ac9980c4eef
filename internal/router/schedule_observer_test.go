package router

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/scheduler"
)

// observed collects schedule observations.
type observed struct {
	mu        sync.Mutex
	schedules []scheduleCall
	prefixes  []prefixCall
}

type scheduleCall struct {
	Success                           bool
	Target, Endpoint, Namespace, Port string
}

type prefixCall struct {
	Ratio float64
	Bytes int
}

func (o *observed) ObserveSchedule(_ time.Duration, success bool, target, endpoint, namespace, port string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.schedules = append(o.schedules, scheduleCall{success, target, endpoint, namespace, port})
}

func (o *observed) ObservePrefix(ratio float64, bytes int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.prefixes = append(o.prefixes, prefixCall{ratio, bytes})
}

func TestScheduleObserver(t *testing.T) {
	st := newStore("main", [][]string{{"base"}})
	obs := &observed{}
	r := New(Options{
		Catalog: Catalog{
			Pools:  []Pool{{Store: st, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}},
			Models: []Model{{Name: "alias", Targets: []Target{{Model: "base"}}}},
		},
		Now:      func() time.Time { return time.Unix(1000, 0) },
		Observer: obs,
	})
	prompt := []byte(strings.Repeat("p", 4*scheduler.DefaultConfig().PrefixBlockTokens*bytesPerToken))
	if _, err := r.Route(Input{Model: "alias", Prompt: prompt}); err != nil {
		t.Fatal(err)
	}
	d, err := r.Route(Input{Model: "alias", Prompt: prompt})
	if err != nil {
		t.Fatal(err)
	}
	if d.Result.PrefixMatchBlocks == 0 {
		t.Fatalf("second pick matched no prefix blocks; the test needs a hit")
	}
	if err := r.Retry(d, prompt); err == nil {
		t.Fatal("retry over a one-endpoint pool succeeded")
	}

	ok := scheduleCall{Success: true, Target: "base", Endpoint: "main-0", Port: "8000"}
	wantSchedules := []scheduleCall{ok, ok, {Success: false, Target: "base"}}
	if diff := cmp.Diff(wantSchedules, obs.schedules); diff != "" {
		t.Errorf("schedules (-want +got):\n%s", diff)
	}
	blockBytes := scheduler.DefaultConfig().PrefixBlockTokens * bytesPerToken
	wantPrefixes := []prefixCall{
		{Ratio: 0, Bytes: 0},
		{Ratio: float64(d.Result.PrefixMatchBlocks) / float64(d.Result.PrefixTotalBlocks), Bytes: d.Result.PrefixMatchBlocks * blockBytes},
	}
	if diff := cmp.Diff(wantPrefixes, obs.prefixes); diff != "" {
		t.Errorf("prefixes (-want +got):\n%s", diff)
	}
}

// discardObserver is a ScheduleObserver that keeps nothing.
type discardObserver struct{}

func (discardObserver) ObserveSchedule(time.Duration, bool, string, string, string, string) {}
func (discardObserver) ObservePrefix(float64, int)                                          {}

// TestObserveAllocs keeps the observation of a pick allocation-free, so the
// port adds nothing to the pick's budget.
func TestObserveAllocs(t *testing.T) {
	st := newStore("main", [][]string{{"base"}})
	r := New(Options{
		Catalog:  Catalog{Pools: []Pool{{Store: st, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}}},
		Now:      func() time.Time { return time.Unix(1000, 0) },
		Observer: discardObserver{},
	})
	d, err := r.Route(Input{Model: "base", Prompt: []byte(strings.Repeat("p", 256))})
	if err != nil {
		t.Fatal(err)
	}
	if d.Result.PrefixTotalBlocks == 0 {
		t.Fatal("setup: the prompt was hashed into no blocks")
	}
	allocs := testing.AllocsPerRun(200, func() { r.observe(d, time.Millisecond, nil) })
	if allocs != 0 {
		t.Errorf("observe allocates %v times per pick, want 0", allocs)
	}
}
