package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPickerCostShort runs the picker-cost study's short variant (every
// plane, one rate, a small and a larger body, a quarter second per point) and checks the
// rows are complete: every request answered through each plane, the
// data-plane round trip and per-chunk latencies measured for ext_proc
// only, the picker-side decision histogram read from the gateway with
// exactly one decision per request of the window (warm-up excluded), the
// gateway's CPU read; the table and the JSON report carry both decision
// latencies. It checks no performance numbers.
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
		if (r.RoundTripP50 > 0) != ext || (r.ChunkDelayP50 > 0) != ext || r.RoundTripP99 < r.RoundTripP50 {
			t.Errorf("%s: round trip %v/%v, chunk delay %v", r.Plane, r.RoundTripP50, r.RoundTripP99, r.ChunkDelayP50)
		}
		p := r.Picker
		switch {
		case !ext && p != (PickerDecisions{}):
			t.Errorf("proxy row with picker decisions %+v", p)
		case ext && (p.Count != r.Requests || p.P50 <= 0 || p.P99 < p.P50 || p.AtOrUnder300us < 0 || p.AtOrUnder2ms < p.AtOrUnder300us || p.AtOrUnder2ms > 1):
			t.Errorf("%s %d B: picker decisions %+v over %d requests", r.Plane, r.BodyBytes, p, r.Requests)
		}
	}
	if seen[PlaneProxy] != 2 || seen[PlaneExtProc] != 2 || seen[PlaneExtProcTLS] != 2 {
		t.Fatalf("planes %v", seen)
	}
	var b bytes.Buffer
	if err := WritePickerCostTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	table := b.String()
	if got := strings.Count(table, "\n| "); got != 6 || !strings.Contains(table, "| extproc-tls | 40 |") || !strings.Contains(table, "33 KB") ||
		!strings.Contains(table, "| picker decision p50 ms ¹ |") || !strings.Contains(table, "| data-plane round trip p50 ms ² |") ||
		!strings.Contains(table, "¹ picker decision: in the picker") || !strings.Contains(table, "² data-plane round trip: at the Envoy stand-in") {
		t.Fatalf("table:\n%s", table)
	}
	b.Reset()
	if err := WritePickerCostJSON(&b, rows); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil || len(rep.Rows) != 6 {
		t.Fatalf("JSON report (%v):\n%s", err, b.String())
	}
	for i, jr := range rep.Rows {
		ext := rows[i].Plane != PlaneProxy
		n, ok := jr["pickerDecisions"].(float64)
		_, rt := jr["dataPlaneRoundTripP99Ms"]
		_, share := jr["pickerDecisionShareAtOrUnder2Ms"]
		if ok != ext || rt != ext || share != ext || (ext && int(n) != rows[i].Picker.Count) {
			t.Errorf("JSON row %d: %v", i, jr)
		}
	}
}

// TestSmokeSuiteThroughExtProc runs the smoke suite with every gateway run
// going through the ext_proc picker behind the Envoy stand-in (the option
// that compares routing quality through ext_proc with the native proxy's):
// every run completes and the report is consistent.
func TestSmokeSuiteThroughExtProc(t *testing.T) {
	suite := smokeSuite(t)
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
	fl := instantFleet(t)
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
