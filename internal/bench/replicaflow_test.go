package bench

import (
	"fmt"
	"testing"
)

// studyConfig is a small overloaded pool: 3 bands, 4 tenants of unequal
// rates.
func studyConfig(mode ReplicaFlowMode, replicas int) ReplicaFlowConfig {
	return ReplicaFlowConfig{
		Mode: mode, Replicas: replicas, SyncInterval: 0.05,
		Slots: 16, ServiceMean: 1, Overload: 1.4, Underload: 0.6, Period: 40, Duration: 400, TTL: 20,
		Bands:   []ReplicaFlowBand{{Priority: 10, Share: 0.2}, {Priority: 0, Share: 0.5}, {Priority: -1, Share: 0.3}},
		Tenants: []float64{8, 4, 2, 1},
		Seed:    7,
	}
}

func TestReplicaFlowGlobalIsInOrder(t *testing.T) {
	g, err := RunReplicaFlow(studyConfig(FlowGlobal, 8))
	if err != nil {
		t.Fatal(err)
	}
	if g.OutOfOrder != 0 {
		t.Fatalf("a global queue dispatched %.3f out of priority order", g.OutOfOrder)
	}
	if g.Dispatched+g.Expired != g.Arrived || g.Expired == 0 {
		t.Fatalf("arrived %d, dispatched %d, expired %d: want every request accounted for and some expiries under overload", g.Arrived, g.Dispatched, g.Expired)
	}
	// One replica without sharing is the global queue.
	l, _ := RunReplicaFlow(studyConfig(FlowLocal, 1))
	if l.OutOfOrder != 0 || l.Dispatched != g.Dispatched || l.FairnessError(g) > 1e-9 {
		t.Fatalf("one local replica differs from the global queue: %+v vs %+v", l, g)
	}
}

func TestReplicaFlowDriftGrowsWithReplicasAndSharingRemovesIt(t *testing.T) {
	g, _ := RunReplicaFlow(studyConfig(FlowGlobal, 1))
	prev := 0.0
	for _, n := range []int{2, 4, 8} {
		l, err := RunReplicaFlow(studyConfig(FlowLocal, n))
		if err != nil {
			t.Fatal(err)
		}
		s, err := RunReplicaFlow(studyConfig(FlowShared, n))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d replicas: out of order local %.4f shared %.4f; out of fair order local %.4f shared %.4f; share error local %.4f shared %.4f; idle shared %.4f",
			n, l.OutOfOrder, s.OutOfOrder, l.OutOfFairOrder, s.OutOfFairOrder, l.FairnessError(g), s.FairnessError(g), s.IdleSlotShare)
		if l.OutOfOrder <= prev {
			t.Errorf("%d replicas: per-replica queues out of order %.4f, want more than with fewer replicas (%.4f)", n, l.OutOfOrder, prev)
		}
		prev = l.OutOfOrder
		if s.OutOfOrder >= l.OutOfOrder/4 {
			t.Errorf("%d replicas: shared state out of order %.4f, want well under per-replica %.4f", n, s.OutOfOrder, l.OutOfOrder)
		}
	}
}

func TestReplicaFlowPartitionFallsBackToLocal(t *testing.T) {
	c := studyConfig(FlowShared, 4)
	whole, _ := RunReplicaFlow(c)
	c.PartitionAt = c.Duration / 2
	cut, _ := RunReplicaFlow(c)
	local, _ := RunReplicaFlow(studyConfig(FlowLocal, 4))
	if !(cut.OutOfOrder > whole.OutOfOrder && cut.OutOfOrder < local.OutOfOrder) {
		t.Fatalf("partitioned replica: out of order %.4f, want between shared %.4f and per-replica %.4f", cut.OutOfOrder, whole.OutOfOrder, local.OutOfOrder)
	}
	if cut.Dispatched+cut.Expired != cut.Arrived {
		t.Fatalf("requests lost in the partition: %+v", cut)
	}
}

func TestReplicaFlowInvalid(t *testing.T) {
	for i, c := range []ReplicaFlowConfig{{}, {Mode: FlowShared, Replicas: 2, Slots: 1, ServiceMean: 1, Duration: 1, Period: 1,
		Bands: []ReplicaFlowBand{{}}, Tenants: []float64{1}}} {
		if _, err := RunReplicaFlow(c); err == nil {
			t.Errorf("config %d accepted", i)
		}
	}
}

func ExampleRunReplicaFlow() {
	r, _ := RunReplicaFlow(studyConfig(FlowGlobal, 1))
	fmt.Println(r.OutOfOrder)
	// Output: 0
}
