package extproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/proctest"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
	"github.com/infergate/infergate/internal/simulator"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		// grpc-go's process-wide resolver/balancer goroutines.
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/transport.(*controlBuffer).get"),
	)
}

// simModel is the simulator's default model.
const simModel = "meta-llama/Llama-3.1-8B-Instruct"

// recorder is the Observer and panic Counter of the tests.
type recorder struct {
	mu      sync.Mutex
	recs    []exchange.Record
	running map[string]int
	panics  int
	// panicOnRunning makes RunningAdd(+1) panic (a bug in the request path).
	panicOnRunning bool
	// drop keeps no records (benchmarks).
	drop bool
}

func (r *recorder) ObserveRequest(rec exchange.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.drop {
		r.recs = append(r.recs, rec)
	}
}

func (r *recorder) RunningAdd(run exchange.Running, delta int) {
	r.mu.Lock()
	if r.running == nil {
		r.running = map[string]int{}
	}
	r.running[run.Model] += delta
	p := r.panicOnRunning && delta > 0
	r.mu.Unlock()
	if p {
		panic("injected bug")
	}
}

func (r *recorder) PanicRecovered(string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.panics++
}

// records returns the finished requests so far.
func (r *recorder) records() []exchange.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange.Record(nil), r.recs...)
}

// runningTotal returns the running gauge summed over models.
func (r *recorder) runningTotal() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.running {
		n += v
	}
	return n
}

// waitRecords polls until n requests finished and returns them.
func (r *recorder) waitRecords(t *testing.T, n int) []exchange.Record {
	t.Helper()
	var recs []exchange.Record
	proctest.Eventually(t, 10*time.Second, "finished requests", func() error {
		if recs = r.records(); len(recs) < n {
			return fmt.Errorf("%d recorded, want %d", len(recs), n)
		}
		return nil
	})
	return recs
}

// picker is a Server on a loopback gRPC listener with its pool.
type picker struct {
	srv    *Server
	grpc   *GRPC
	addr   string
	stores map[string]*pool.Store
	rec    *recorder
}

// poolDef is a pool of the test router: endpoint addresses and the models
// each lists.
type poolDef struct {
	name   string
	addrs  []string
	models []string
	queue  int // scraped waiting queue of every endpoint
	// flow gives the pool flow control (queue mode, 200ms TTL), as the
	// gateway builds it.
	flow bool
}

// startPicker serves a picker over pools (the first is the default) with
// options o (Router, Metrics and Panics filled in) on a plaintext loopback
// listener.
func startPicker(t testing.TB, o Options, pools ...poolDef) *picker {
	t.Helper()
	p := newPicker(t, o, pools...)
	p.grpc = NewGRPC(p.srv, nil)
	ln := listen(t)
	p.addr = ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- p.grpc.Serve(ln) }()
	t.Cleanup(func() {
		_ = p.grpc.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return p
}

// newPicker builds the Server of startPicker, without a listener.
func newPicker(t testing.TB, o Options, pools ...poolDef) *picker {
	t.Helper()
	p := &picker{stores: map[string]*pool.Store{}, rec: &recorder{}}
	if rec, ok := o.Metrics.(*recorder); ok {
		p.rec = rec
	}
	var routes []router.Pool
	for _, pd := range pools {
		st := pool.NewStore(pd.name)
		specs := make([]pool.Spec, len(pd.addrs))
		for i, a := range pd.addrs {
			specs[i] = pool.Spec{Name: fmt.Sprintf("%s-%d", pd.name, i), Address: a}
		}
		snap := st.Sync(specs)
		for _, ep := range snap.Endpoints() {
			ep.SetMetrics(&pool.Metrics{WaitingQueue: pd.queue, ScrapedAt: time.Now().Add(time.Hour)})
			ep.SetModels(pd.models)
		}
		p.stores[pd.name] = st
		sched := scheduler.New(scheduler.DefaultConfig(), nil)
		rp := router.Pool{Store: st, Scheduler: sched}
		if pd.flow {
			rp.Flow = admission.NewQueue(admission.Options{Pool: pd.name, Mode: admission.ModeQueue,
				Signal: router.FlowSignal{Store: st, Scheduler: sched}, TTL: 200 * time.Millisecond})
		}
		routes = append(routes, rp)
	}
	o.Router = router.New(router.Options{
		Catalog: router.Catalog{
			Pools:      routes,
			Models:     []router.Model{{Name: "alias", Pool: pools[0].name, Targets: []router.Target{{Model: pools[0].models[0]}}}},
			Objectives: map[string]int{"batch": -1},
		},
		Admission: admission.New(),
	})
	o.Metrics, o.Panics = p.rec, p.rec
	p.srv = New(o)
	return p
}

// endpoints returns the endpoints of pool name.
func (p *picker) endpoints(name string) []*pool.Endpoint { return p.stores[name].Load().Endpoints() }

// startSim serves an in-process simulator (the same engine `infergate sim`
// runs, time-scaled) on a loopback port and returns its address.
func startSim(t *testing.T, name string) string {
	t.Helper()
	cfg := simulator.DefaultConfig()
	cfg.Name = name
	cfg.TimeScale = 1000
	cfg.DefaultMaxTokens = 16
	srv, err := simulator.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("simulator: %v", err)
		}
	})
	return ln.Addr().String()
}

// eventually polls cond until it holds or 10 s passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	proctest.Eventually(t, 10*time.Second, what, func() error {
		if !cond() {
			return errors.New("not yet")
		}
		return nil
	})
}
