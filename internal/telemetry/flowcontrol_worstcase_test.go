//go:build !race

package telemetry

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/admission"
)

// worstCaseFlowBytes bounds the flow-control families' exposition under
// the default caps (README).
const worstCaseFlowBytes = 16 << 20

// TestWorstCaseFlowExpositionSize fills the flow-control families the worst
// way clients can: ten times the fairness-ID cap of 256-byte IDs, with
// 256-byte model names, at three priorities and every outcome.
func TestWorstCaseFlowExpositionSize(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := NewFlowMetrics(reg, nil)
	long := func(p string, i int) string {
		s := fmt.Sprintf("%s%d-", p, i)
		return s + strings.Repeat("x", maxLabelBytes-len(s))
	}
	outcomes := []admission.Outcome{admission.OutcomeDispatched, admission.OutcomeRejectedCapacity,
		admission.OutcomeRejectedNoEndpoints, admission.OutcomeRejectedOther, admission.OutcomeEvictedTTL,
		admission.OutcomeEvictedContextCancelled, admission.OutcomeEvictedOther}
	for i := range 10 * fairnessIDLimit {
		for prio := range 3 {
			it := admission.Item{Priority: prio, FairnessID: long("f", i), Bytes: 100, Model: long("m", i), TargetModel: long("t", i)}
			f.FlowQueued("pool", it, 1)
			for _, o := range outcomes {
				f.FlowOutcome("pool", it, o, time.Second)
			}
		}
	}
	f.FlowSaturation("pool", 2, 1)
	n := exposition(t, reg).Len()
	t.Logf("flow-control families, worst case under the default caps: %d bytes", n)
	if n > worstCaseFlowBytes {
		t.Fatalf("flow-control exposition is %d bytes, over the documented %d", n, worstCaseFlowBytes)
	}
}
