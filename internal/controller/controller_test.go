package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/infergate/infergate/api/v1"
	"github.com/infergate/infergate/internal/config"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr []string
	}{
		{
			name:    "empty",
			wantErr: []string{"config is required", "namespace is required", "pool names or a pool selector"},
		},
		{
			name: "bad selector",
			opts: Options{
				Config: testRESTConfig(), Namespace: "ns",
				PoolSelector: map[string]string{"bad key!": "x"},
			},
			wantErr: []string{"pool selector"},
		},
		{
			name: "bad lease timings",
			opts: Options{
				Config: testRESTConfig(), Namespace: "ns", PoolNames: []string{"p"},
				LeaderElection: true, LeaseDuration: time.Second, RenewDeadline: 2 * time.Second,
			},
			wantErr: []string{"leaseDuration must be greater than renewDeadline"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestOptionDefaults(t *testing.T) {
	tests := []struct {
		name          string
		opts          Options
		wantLease     string
		wantParent    string
		wantIDPrefix  string
		wantFieldMgr  string
		wantRetry     time.Duration
		wantSelecting bool
	}{
		{
			name:         "by name",
			opts:         Options{Config: testRESTConfig(), Namespace: "ns", PoolNames: []string{"chat", "code"}},
			wantLease:    "infergate-chat",
			wantParent:   "infergate-chat",
			wantFieldMgr: DefaultFieldManager,
			wantRetry:    DefaultRetryPeriod,
		},
		{
			name: "by selector, explicit names",
			opts: Options{
				Config: testRESTConfig(), Namespace: "ns", PoolSelector: map[string]string{"gw": "x"},
				ParentName: "gw", FieldManager: "fm", Identity: "me", RetryPeriod: time.Second,
			},
			wantLease:     "infergate-pools",
			wantParent:    "gw",
			wantIDPrefix:  "me",
			wantFieldMgr:  "fm",
			wantRetry:     time.Second,
			wantSelecting: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, sel, err := tc.opts.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			if o.LeaseName != tc.wantLease || o.ParentName != tc.wantParent || o.FieldManager != tc.wantFieldMgr || o.RetryPeriod != tc.wantRetry {
				t.Errorf("lease %q parent %q field manager %q retry %v; want %q %q %q %v",
					o.LeaseName, o.ParentName, o.FieldManager, o.RetryPeriod, tc.wantLease, tc.wantParent, tc.wantFieldMgr, tc.wantRetry)
			}
			if o.Identity == "" || !strings.HasPrefix(o.Identity, tc.wantIDPrefix) {
				t.Errorf("identity %q; want prefix %q", o.Identity, tc.wantIDPrefix)
			}
			if (sel != nil) != tc.wantSelecting {
				t.Errorf("selector %v; want one: %v", sel, tc.wantSelecting)
			}
		})
	}
}

// TestController runs controllers against a real API server: one control
// plane, one namespace per scenario. The scenarios run in parallel, then the
// API server outage, which affects every controller, alone.
func TestController(t *testing.T) {
	e := startEnv(t)
	t.Run("scenarios", func(t *testing.T) {
		for _, sc := range []struct {
			name string
			test func(*testing.T, *env)
		}{
			{name: "pods", test: testPods},
			{name: "pools", test: testPools},
			{name: "routing", test: testRouting},
			{name: "status", test: testStatus},
		} {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				sc.test(t, e)
			})
		}
	})
	t.Run("api server outage", func(t *testing.T) { testAPIServerOutage(t, e) })
}

// testPods: pool membership follows the Pods.
func testPods(t *testing.T, e *env) {
	ns := e.namespace(t, "pods")
	r := e.start(t, Options{Namespace: ns, PoolNames: []string{"chat"}})
	r.rec.waitFor(t, "no pool before it exists", hasPools())

	chat := map[string]string{"app": "chat"}
	e.createPool(t, ns, "chat", nil, map[v1.LabelKey]v1.LabelValue{"app": "chat"}, 8000, 8001)
	r.rec.waitFor(t, "the pool, without endpoints", hasEndpoints("chat"))

	e.createPod(t, ns, "p1", chat, nil)
	e.setPodStatus(t, ns, "p1", true, "127.0.0.1")
	r.rec.waitFor(t, "p1 ready: one endpoint per target port", hasEndpoints("chat", "p1-rank-0=127.0.0.1:8000", "p1-rank-1=127.0.0.1:8001"))

	e.createPod(t, ns, "p2", chat, nil)
	e.setPodStatus(t, ns, "p2", true, "127.0.0.2")
	r.rec.waitFor(t, "p2 joins", hasEndpoints("chat",
		"p1-rank-0=127.0.0.1:8000", "p1-rank-1=127.0.0.1:8001", "p2-rank-0=127.0.0.2:8000", "p2-rank-1=127.0.0.2:8001"))

	e.setPodStatus(t, ns, "p1", false, "")
	r.rec.waitFor(t, "p1 not ready", hasEndpoints("chat", "p2-rank-0=127.0.0.2:8000", "p2-rank-1=127.0.0.2:8001"))

	// p3 is ready without an IP; the Pod informer delivers events in order,
	// so once p1's later change shows, p3's state has been seen too.
	e.createPod(t, ns, "p3", chat, nil)
	e.setPodStatus(t, ns, "p3", true, "")
	e.setPodStatus(t, ns, "p1", true, "")
	r.rec.waitFor(t, "p1 ready again, p3 without IP absent", hasEndpoints("chat",
		"p1-rank-0=127.0.0.1:8000", "p1-rank-1=127.0.0.1:8001", "p2-rank-0=127.0.0.2:8000", "p2-rank-1=127.0.0.2:8001"))
	e.setPodStatus(t, ns, "p3", true, "127.0.0.3")
	r.rec.waitFor(t, "p3 gets an IP", hasEndpoints("chat",
		"p1-rank-0=127.0.0.1:8000", "p1-rank-1=127.0.0.1:8001", "p2-rank-0=127.0.0.2:8000", "p2-rank-1=127.0.0.2:8001",
		"p3-rank-0=127.0.0.3:8000", "p3-rank-1=127.0.0.3:8001"))

	e.updatePodLabels(t, ns, "p2", map[string]string{"app": "other"})
	r.rec.waitFor(t, "p2 relabelled away", hasEndpoints("chat",
		"p1-rank-0=127.0.0.1:8000", "p1-rank-1=127.0.0.1:8001", "p3-rank-0=127.0.0.3:8000", "p3-rank-1=127.0.0.3:8001"))

	e.createPod(t, ns, "p4", map[string]string{"app": "other"}, map[string]string{EngineAnnotation: config.EngineSGLang})
	e.setPodStatus(t, ns, "p4", true, "127.0.0.4")
	e.updatePool(t, ns, "chat", func(p *v1.InferencePool) {
		p.Spec.Selector.MatchLabels = map[v1.LabelKey]v1.LabelValue{"app": "other"}
		p.Spec.TargetPorts = []v1.Port{{Number: 9000}}
	})
	cat := r.rec.waitFor(t, "the pool's new selector and port", hasEndpoints("chat", "p2-rank-0=127.0.0.2:9000", "p4-rank-0=127.0.0.4:9000"))
	wantPool := config.Pool{Name: "chat", Endpoints: []config.Endpoint{
		{Name: "p2-rank-0", Address: "127.0.0.2:9000", Engine: config.EngineVLLM},
		{Name: "p4-rank-0", Address: "127.0.0.4:9000", Engine: config.EngineSGLang},
	}}
	if diff := cmp.Diff([]config.Pool{wantPool}, cat.Pools); diff != "" {
		t.Errorf("pools (-want +got):\n%s", diff)
	}

	// Graceful deletion of a Pod on a node leaves it terminating (no
	// kubelet finishes it): it leaves the pool at once.
	e.deletePod(t, ns, "p2", false)
	r.rec.waitFor(t, "terminating p2 gone", hasEndpoints("chat", "p4-rank-0=127.0.0.4:9000"))
	e.deletePod(t, ns, "p2", true)
	e.deletePod(t, ns, "p4", true)
	r.rec.waitFor(t, "p4 deleted", hasEndpoints("chat"))

	// Without leader election the controller writes status itself, under
	// the default parent name.
	if !r.c.Leading() {
		t.Error("not leading without leader election")
	}
	eventually(t, "status without leader election", func() string {
		ours, ok := ourEntry(e.getPool(t, ns, "chat"), "infergate-chat")
		if !ok {
			return "no status entry"
		}
		return cmpSummary(ours.Conditions, "Accepted=True/Accepted@2,ResolvedRefs=False/NoReadyEndpoints@2")
	})

	e.delete(t, e.getPool(t, ns, "chat"))
	r.rec.waitFor(t, "pool deleted", hasPools())
}

// testPools: pools served by name and by selector, picked up as they come
// and go.
func testPools(t *testing.T, e *env) {
	ns := e.namespace(t, "pools")
	shared := map[v1.LabelKey]v1.LabelValue{"app": "shared"}
	gold, silver := map[string]string{"tier": "gold"}, map[string]string{"tier": "silver"}
	e.createPool(t, ns, "a", nil, shared, 8000)
	e.createPool(t, ns, "b", gold, shared, 8001)
	e.createPool(t, ns, "c", silver, shared, 8002)
	e.createPod(t, ns, "pod", map[string]string{"app": "shared"}, nil)
	e.setPodStatus(t, ns, "pod", true, "127.0.0.1")

	r := e.start(t, Options{Namespace: ns, PoolNames: []string{"a", "later"}, PoolSelector: map[string]string{"tier": "gold"}})
	cat := r.rec.waitFor(t, "a by name and b by label", hasPools("a", "b"))
	want := []config.Pool{
		{Name: "a", Endpoints: []config.Endpoint{{Name: "pod-rank-0", Address: "127.0.0.1:8000", Engine: "vllm"}}},
		{Name: "b", Endpoints: []config.Endpoint{{Name: "pod-rank-0", Address: "127.0.0.1:8001", Engine: "vllm"}}},
	}
	if diff := cmp.Diff(want, cat.Pools); diff != "" {
		t.Errorf("a Pod in two pools (-want +got):\n%s", diff)
	}

	e.createPool(t, ns, "d", gold, shared, 8003)
	r.rec.waitFor(t, "new gold pool d", hasPools("a", "b", "d"))
	e.updatePool(t, ns, "c", func(p *v1.InferencePool) { p.Labels = gold })
	r.rec.waitFor(t, "c relabelled gold", hasPools("a", "b", "c", "d"))
	e.updatePool(t, ns, "b", func(p *v1.InferencePool) { p.Labels = silver })
	r.rec.waitFor(t, "b relabelled silver", hasPools("a", "c", "d"))
	e.createPool(t, ns, "later", nil, shared, 8004)
	r.rec.waitFor(t, "named pool created late", hasPools("a", "c", "d", "later"))
	r.rec.waitFor(t, "its endpoint", hasEndpoints("later", "pod-rank-0=127.0.0.1:8004"))
	e.delete(t, e.getPool(t, ns, "a"))
	r.rec.waitFor(t, "a deleted", hasPools("c", "d", "later"))
}

// testRouting: objectives and model rewrites of served pools.
func testRouting(t *testing.T, e *env) {
	ns := e.namespace(t, "routing")
	match := map[v1.LabelKey]v1.LabelValue{"app": "chat"}
	e.createPool(t, ns, "chat", nil, match, 8000)
	e.createPool(t, ns, "other", nil, match, 8000)
	r := e.start(t, Options{Namespace: ns, PoolNames: []string{"chat"}})

	ten := 10
	premium := objective("premium", "chat", &ten)
	standard := objective("standard", "chat", nil)
	foreign := objective("foreign", "other", &ten)
	// rw-1 is created first, so it is at least as old as rw-2 and wins
	// ties by name too.
	rw1 := rewrite("rw-1", "chat", 0,
		rule([]string{"llama"}, "llama-a", 90, "llama-b", 10),
		rule(nil, "base", 0))
	rw2 := rewrite("rw-2", "chat", 0,
		rule([]string{"llama"}, "llama-2", 0),
		rule([]string{"mistral"}, "mistral-x", 0, "mistral-y", 0),
		rule(nil, "base-2", 0))
	rw3 := rewrite("rw-3", "other", 0, rule([]string{"qwen"}, "qwen-2", 0))
	for _, obj := range []client.Object{&premium, &standard, &foreign, &rw1, &rw2, &rw3} {
		obj.SetNamespace(ns)
		obj.SetCreationTimestamp(metav1.Time{})
		e.create(t, obj)
	}
	wantObjectives := []config.Objective{{Name: "premium", Priority: 10}, {Name: "standard"}}
	wantModels := []config.Model{
		{Name: "", Pool: "chat", Targets: []config.Target{{Model: "base", Weight: 1}}},
		{Name: "llama", Pool: "chat", Targets: []config.Target{{Model: "llama-a", Weight: 90}, {Model: "llama-b", Weight: 10}}},
		{Name: "mistral", Pool: "chat", Targets: []config.Target{{Model: "mistral-x", Weight: 1}, {Model: "mistral-y", Weight: 1}}},
	}
	r.rec.waitFor(t, "objectives and models", routingIs(wantObjectives, wantModels))

	e.delete(t, &rw1)
	wantModels = []config.Model{
		{Name: "", Pool: "chat", Targets: []config.Target{{Model: "base-2", Weight: 1}}},
		{Name: "llama", Pool: "chat", Targets: []config.Target{{Model: "llama-2", Weight: 1}}},
		{Name: "mistral", Pool: "chat", Targets: []config.Target{{Model: "mistral-x", Weight: 1}, {Model: "mistral-y", Weight: 1}}},
	}
	r.rec.waitFor(t, "rw-2 takes over after rw-1 is deleted", routingIs(wantObjectives, wantModels))

	twenty := 20
	premium.Spec.Priority = &twenty
	if err := e.cl.Update(t.Context(), &premium); err != nil {
		t.Fatal(err)
	}
	e.delete(t, &standard)
	r.rec.waitFor(t, "objective changes", routingIs([]config.Objective{{Name: "premium", Priority: 20}}, wantModels))
}

func routingIs(objectives []config.Objective, models []config.Model) func(config.Catalog) string {
	return func(c config.Catalog) string {
		if diff := cmp.Diff(objectives, c.Objectives); diff != "" {
			return "objectives (-want +got):\n" + diff
		}
		if diff := cmp.Diff(models, c.Models); diff != "" {
			return "models (-want +got):\n" + diff
		}
		return ""
	}
}

// testStatus: two replicas share a lease; only the leader writes status,
// other controllers' entries survive, and the follower takes over.
func testStatus(t *testing.T, e *env) {
	ns := e.namespace(t, "status")
	const parent = "gw"
	e.createPool(t, ns, "chat", map[string]string{"gw": "x"}, map[v1.LabelKey]v1.LabelValue{"app": "chat"}, 8000)
	gwGroup := v1.Group("gateway.networking.k8s.io")
	foreign := v1.ParentStatus{
		ParentRef:      v1.ParentReference{Group: &gwGroup, Kind: "Gateway", Name: "other-gw"},
		ControllerName: "example.com/other",
		Conditions: []metav1.Condition{{
			Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "theirs",
			LastTransitionTime: metav1.NewTime(time.Unix(1700000000, 0)),
		}},
	}
	setForeign := func(f v1.ParentStatus) {
		t.Helper()
		pool := e.getPool(t, ns, "chat")
		i := slices.IndexFunc(pool.Status.Parents, func(p v1.ParentStatus) bool { return p.ControllerName == f.ControllerName })
		if i < 0 {
			pool.Status.Parents = append(pool.Status.Parents, f)
		} else {
			pool.Status.Parents[i] = f
		}
		if err := e.cl.Status().Update(t.Context(), pool); err != nil {
			t.Fatal(err)
		}
	}
	setForeign(foreign)
	e.createPod(t, ns, "p1", map[string]string{"app": "chat"}, nil)
	e.setPodStatus(t, ns, "p1", true, "127.0.0.1")

	opts := func(id string) Options {
		return Options{
			Namespace: ns, PoolSelector: map[string]string{"gw": "x"},
			LeaderElection: true, LeaseName: "status-lease", Identity: id, ParentName: parent, FieldManager: "infergate-" + id,
		}
	}
	replicas := map[string]*running{"a": e.start(t, opts("a")), "b": e.start(t, opts("b"))}
	var leader, follower string
	eventually(t, "exactly one leader", func() string {
		var leading []string
		for id, r := range replicas {
			if r.c.Leading() {
				leading = append(leading, id)
			}
		}
		if len(leading) != 1 {
			return fmt.Sprintf("leading: %q", leading)
		}
		leader = leading[0]
		return ""
	})
	follower = map[string]string{"a": "b", "b": "a"}[leader]
	lease, err := e.cs.CoordinationV1().Leases(ns).Get(t.Context(), "status-lease", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := *lease.Spec.HolderIdentity; got != leader {
		t.Errorf("lease holder %q; want the leading replica %q", got, leader)
	}

	// waitStatus waits for our entry's conditions and checks the foreign
	// entry is intact.
	waitStatus := func(what, want string, foreign v1.ParentStatus) *v1.InferencePool {
		t.Helper()
		var pool *v1.InferencePool
		eventually(t, what, func() string {
			pool = e.getPool(t, ns, "chat")
			ours, ok := ourEntry(pool, parent)
			if !ok {
				return fmt.Sprintf("no entry of ours in %+v", pool.Status.Parents)
			}
			if got := conditionSummary(ours.Conditions); got != want {
				return fmt.Sprintf("conditions %s; want %s", got, want)
			}
			return ""
		})
		i := slices.IndexFunc(pool.Status.Parents, func(p v1.ParentStatus) bool { return p.ControllerName == foreign.ControllerName })
		if i < 0 {
			t.Fatalf("foreign entry removed: %+v", pool.Status.Parents)
		}
		if diff := cmp.Diff(foreign, pool.Status.Parents[i]); diff != "" {
			t.Errorf("foreign entry changed (-want +got):\n%s", diff)
		}
		return pool
	}
	pool := waitStatus("accepted with endpoints", "Accepted=True/Accepted@1,ResolvedRefs=True/ResolvedRefs@1", foreign)
	if got, want := statusManagers(pool), []string{"infergate-" + leader}; !slices.Contains(got, want[0]) || slices.Contains(got, "infergate-"+follower) {
		t.Errorf("status written by %q; want by the leader %q only", got, want)
	}
	ours, _ := ourEntry(pool, parent)
	acceptedAt := ours.Conditions[0].LastTransitionTime

	e.setPodStatus(t, ns, "p1", false, "")
	pool = waitStatus("no endpoints", "Accepted=True/Accepted@1,ResolvedRefs=False/NoReadyEndpoints@1", foreign)
	ours, _ = ourEntry(pool, parent)
	if !ours.Conditions[0].LastTransitionTime.Equal(&acceptedAt) {
		t.Errorf("Accepted lastTransitionTime moved from %v to %v without a transition", acceptedAt, ours.Conditions[0].LastTransitionTime)
	}

	// Another controller changes its entry; ours is written next to it.
	foreign.Conditions[0].Message = "theirs, updated"
	setForeign(foreign)
	e.setPodStatus(t, ns, "p1", true, "")
	waitStatus("endpoints again", "Accepted=True/Accepted@1,ResolvedRefs=True/ResolvedRefs@1", foreign)

	e.updatePool(t, ns, "chat", func(p *v1.InferencePool) { p.Spec.TargetPorts = []v1.Port{{Number: 8000}, {Number: 8001}} })
	pool = waitStatus("new generation observed", "Accepted=True/Accepted@2,ResolvedRefs=True/ResolvedRefs@2", foreign)
	if got := statusManagers(pool); slices.Contains(got, "infergate-"+follower) {
		t.Errorf("the follower wrote status: managers %q", got)
	}

	// The leader goes away; the follower takes over and writes.
	replicas[leader].stop(t)
	eventually(t, "the follower leads", func() string {
		if !replicas[follower].c.Leading() {
			return "not leading"
		}
		return ""
	})
	e.setPodStatus(t, ns, "p1", false, "")
	pool = waitStatus("written by the new leader", "Accepted=True/Accepted@2,ResolvedRefs=False/NoReadyEndpoints@2", foreign)
	if got := statusManagers(pool); !slices.Contains(got, "infergate-"+follower) {
		t.Errorf("status managers %q; want the new leader infergate-%s among them", got, follower)
	}

	// Unserved (label removed): our entry goes, the foreign one stays.
	e.updatePool(t, ns, "chat", func(p *v1.InferencePool) { p.Labels = nil })
	eventually(t, "our entry removed", func() string {
		pool = e.getPool(t, ns, "chat")
		if _, ok := ourEntry(pool, parent); ok {
			return "still there"
		}
		return ""
	})
	if diff := cmp.Diff([]v1.ParentStatus{foreign}, pool.Status.Parents); diff != "" {
		t.Errorf("parents after unserving (-want +got):\n%s", diff)
	}
}

// testAPIServerOutage: the API server goes away and comes back; the
// controller keeps running and its last catalog, loses and regains the
// lease, and picks up changes again.
func testAPIServerOutage(t *testing.T, e *env) {
	ns := e.namespace(t, "outage")
	const parent = "gw"
	e.createPool(t, ns, "chat", nil, map[v1.LabelKey]v1.LabelValue{"app": "chat"}, 8000)
	e.createPod(t, ns, "p1", map[string]string{"app": "chat"}, nil)
	e.setPodStatus(t, ns, "p1", true, "127.0.0.1")
	r := e.start(t, Options{Namespace: ns, PoolNames: []string{"chat"}, LeaderElection: true, Identity: "solo", ParentName: parent})
	r.rec.waitFor(t, "p1", hasEndpoints("chat", "p1-rank-0=127.0.0.1:8000"))
	eventually(t, "leading and status written", func() string {
		if !r.c.Leading() {
			return "not leading"
		}
		ours, ok := ourEntry(e.getPool(t, ns, "chat"), parent)
		if !ok {
			return "no status entry"
		}
		return cmpSummary(ours.Conditions, "Accepted=True/Accepted@1,ResolvedRefs=True/ResolvedRefs@1")
	})
	mark := r.rec.count()

	if err := e.cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the lease lost", func() string {
		if r.c.Leading() {
			return "still leading"
		}
		return ""
	})
	r.checkRunning(t)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := e.cp.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	e.createPod(t, ns, "p2", map[string]string{"app": "chat"}, nil)
	e.setPodStatus(t, ns, "p2", true, "127.0.0.2")
	r.rec.waitFor(t, "p2 after the outage", hasEndpoints("chat", "p1-rank-0=127.0.0.1:8000", "p2-rank-0=127.0.0.2:8000"))
	eventually(t, "leading again", func() string {
		if !r.c.Leading() {
			return "not leading"
		}
		return ""
	})
	e.setPodStatus(t, ns, "p1", false, "")
	e.setPodStatus(t, ns, "p2", false, "")
	r.rec.waitFor(t, "no ready pods", hasEndpoints("chat"))
	eventually(t, "status written again", func() string {
		ours, ok := ourEntry(e.getPool(t, ns, "chat"), parent)
		if !ok {
			return "no status entry"
		}
		return cmpSummary(ours.Conditions, "Accepted=True/Accepted@1,ResolvedRefs=False/NoReadyEndpoints@1")
	})
	for i, c := range r.rec.since(mark) {
		if _, ok := endpointsOf(c, "chat"); !ok {
			t.Errorf("catalog %d after the outage began lacks pool chat: %+v", i, c)
		}
	}
	r.checkRunning(t)
	r.stop(t)
}

func cmpSummary(conds []metav1.Condition, want string) string {
	if got := conditionSummary(conds); got != want {
		return fmt.Sprintf("conditions %s; want %s", got, want)
	}
	return ""
}

// TestNewWithoutAPIServer: New does not need the API server, so a gateway
// can start while it is away.
func TestNewWithoutAPIServer(t *testing.T) {
	c, err := New(Options{
		Config: testRESTConfig(), Namespace: "ns", PoolNames: []string{"p"},
		LeaderElection: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Leading() {
		t.Error("leading before Run")
	}
	select {
	case <-c.Synced():
		t.Error("synced before Run")
	default:
	}
}

// TestRunNeedsPublish: the catalog sink is handed to Run (the gateway gives
// its own at run time), and is required.
func TestRunNeedsPublish(t *testing.T) {
	err := (&Controller{}).Run(t.Context(), nil)
	if err == nil || !strings.Contains(err.Error(), "publish is required") {
		t.Errorf("Run with a nil publish = %v, want an error saying publish is required", err)
	}
}
