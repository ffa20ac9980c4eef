package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestPickerCostShort runs the picker-cost study's short variant (every
// plane, one rate, a small and a larger body, a quarter second per point) and checks the
// rows are complete: every request answered through each plane, decision
// and per-chunk latencies measured for ext_proc only, the gateway's CPU
// read. It checks no performance numbers.
func TestPickerCostShort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rows, err := PickerCostStudy(ctx, PickerCostOptions{
		Command:   testGatewayCommand,
		Dir:       t.TempDir(),
		Rates:     []float64{40},
		BodyBytes: []int{1 << 10, 32 << 10},
		Duration:  250 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("study: %v", err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6", len(rows))
	}
	seen := map[PickerPlane]int{}
	for _, r := range rows {
		seen[r.Plane]++
		if r.Requests != 10 || r.Errors != 0 || r.E2EP50 <= 0 || r.E2EP99 < r.E2EP50 || r.CPUPerRequest < 0 {
			t.Errorf("%+v", r)
		}
		ext := r.Plane != PlaneProxy
		if (r.DecisionP50 > 0) != ext || (r.ChunkDelayP50 > 0) != ext || r.DecisionP99 < r.DecisionP50 {
			t.Errorf("%s: decision %v/%v, chunk delay %v", r.Plane, r.DecisionP50, r.DecisionP99, r.ChunkDelayP50)
		}
	}
	if seen[PlaneProxy] != 2 || seen[PlaneExtProc] != 2 || seen[PlaneExtProcTLS] != 2 {
		t.Fatalf("planes %v", seen)
	}
	var b bytes.Buffer
	if err := WritePickerCostTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(b.String(), "\n"); got != 8 || !strings.Contains(b.String(), "| extproc-tls | 40 |") || !strings.Contains(b.String(), "33 KB") {
		t.Fatalf("table:\n%s", b.String())
	}
}
