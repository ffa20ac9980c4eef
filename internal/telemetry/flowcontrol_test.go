package telemetry

import (
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/infergate/infergate/internal/admission"
)

func TestFlowMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	f := NewFlowMetrics(reg, nil)
	it := admission.Item{Priority: 10, FairnessID: "tenant-a", Bytes: 300, Model: "m", TargetModel: "m"}
	f.FlowQueued("pool", it, 1)
	f.FlowQueued("pool", it, 1)
	f.FlowQueued("pool", it, -1)
	if got := testutil.ToFloat64(f.queueSize.WithLabelValues("tenant-a", "10", "pool", "m", "m")); got != 1 {
		t.Errorf("queue_size %v, want 1", got)
	}
	if got := testutil.ToFloat64(f.queueBytes.WithLabelValues("tenant-a", "10", "pool", "m", "m")); got != 300 {
		t.Errorf("queue_bytes %v, want 300", got)
	}
	f.FlowOutcome("pool", it, admission.OutcomeDispatched, 1500*time.Millisecond)
	f.FlowOutcome("pool", it, admission.OutcomeEvictedTTL, time.Minute)
	if got := testutil.ToFloat64(f.requests.WithLabelValues("EvictedTTL", "10", "pool")); got != 1 {
		t.Errorf("requests_total{EvictedTTL} %v, want 1", got)
	}
	f.FlowSaturation("pool", 3.5, 2)
	f.FlowSaturation("other-pool", 0.5, 1)
	if got := testutil.ToFloat64(f.saturation.WithLabelValues("pool")); got != 3.5 {
		t.Errorf("pool_saturation %v, want 3.5 (uncapped)", got)
	}
	if got := testutil.ToFloat64(f.stale); got != 3 {
		t.Errorf("stale_endpoints %v, want 3 (summed over pools)", got)
	}
	f.ForgetPool("other-pool")
	if got := testutil.ToFloat64(f.stale); got != 2 {
		t.Errorf("stale_endpoints %v after forgetting a pool, want 2", got)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

func TestFlowMetricsCapsFairnessIDs(t *testing.T) {
	t.Parallel()
	f := NewFlowMetrics(nil, nil)
	for i := range fairnessIDLimit + 20 {
		f.FlowQueued("pool", admission.Item{FairnessID: "t" + strconv.Itoa(i), Model: "m", TargetModel: "m"}, 1)
	}
	if n := testutil.CollectAndCount(f.queueSize); n != fairnessIDLimit+1 {
		t.Fatalf("%d queue_size series, want %d (the cap plus other)", n, fairnessIDLimit+1)
	}
	// Past both caps (100 IDs, 100 combinations) the ID and the models fold.
	if got := testutil.ToFloat64(f.queueSize.WithLabelValues(OverflowModelName, "0", "pool", OverflowModelName, OverflowModelName)); got != 20 {
		t.Fatalf("other has %v, want 20", got)
	}
}
