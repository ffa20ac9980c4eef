package bench

import (
	"bytes"
	"context"
	"net/http"
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

// TestSmokeSuiteThroughExtProc runs the smoke suite with every gateway run
// going through the ext_proc picker behind the Envoy stand-in (the option
// that compares routing quality through ext_proc with the native proxy's):
// every run completes and the report is consistent.
func TestSmokeSuiteThroughExtProc(t *testing.T) {
	data, err := BuiltinSuite("smoke")
	if err != nil {
		t.Fatal(err)
	}
	suite, err := ParseSuite(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Suite: suite, ExtProc: true, Command: "go test"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, sc := range rep.Scenarios {
		for _, r := range sc.Runs {
			if r.Failed != "" {
				t.Fatalf("%s/%s failed: %s", sc.Name, r.Strategy, r.Failed)
			}
			for class, n := range r.Errors {
				if n > 0 {
					t.Errorf("%s/%s: %d errors %s", sc.Name, r.Strategy, n, class)
				}
			}
		}
	}
	checkConsistency(t, suite, rep)
}

// TestExtProcGatewayGoesThroughStandIn: the ext_proc option's gateway
// answers through the stand-in and the picker, not the proxy.
func TestExtProcGatewayGoesThroughStandIn(t *testing.T) {
	fl, err := startFleet(Fleet{Replicas: 2, Profile: ProfileInstant}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := fl.stop(); err != nil {
			t.Error(err)
		}
	}()
	g, err := startExtProcGateway(nil, nil, t.TempDir(), fl.addrs, "default", 1, nil, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := g.stop(); err != nil {
			t.Error(err)
		}
	}()
	hc := &http.Client{}
	defer hc.CloseIdleConnections()
	for range 3 {
		if _, err := pickerRequest(context.Background(), hc, g.url(), pickerBody(1<<10, 4)); err != nil {
			t.Fatal(err)
		}
	}
	if st := g.standIn.Stats(); st.Forwarded != 3 || st.Decisions != 3 {
		t.Fatalf("stand-in stats %+v, want 3 requests forwarded on the picker's decision", st)
	}
}
