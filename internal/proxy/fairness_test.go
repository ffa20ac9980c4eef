package proxy

import (
	"fmt"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/telemetry"
)

// TestFairnessIDReachesMetrics sends the fairness ID in each spelling and
// checks the fairness_id label of llm_d_epp_request_total: x-llm-d-* wins
// over x-gateway-*, no header means default-flow, and distinct IDs past the
// cap are counted as "other".
func TestFairnessIDReachesMetrics(t *testing.T) {
	be := newBackend(t, okJSON)
	reg := prometheus.NewRegistry()
	h := setup(t, Options{Metrics: telemetry.NewMetrics(reg, telemetry.Options{FairnessIDLimit: 4})}, []string{be.addr()}, []int{0})
	body := `{"model":"base","prompt":"x"}`
	for _, hdr := range []map[string]string{
		nil,
		{exchange.HeaderFairnessID: "tenant-new", exchange.HeaderFairnessIDLegacy: "tenant-old"},
		{exchange.HeaderFairnessIDLegacy: "tenant-legacy"},
	} {
		if rec := do(t, h, "/v1/completions", body, hdr); rec.Code != 200 {
			t.Fatalf("%v: %d %s", hdr, rec.Code, rec.Body)
		}
	}
	for i := range 5 {
		if rec := do(t, h, "/v1/completions", body, map[string]string{exchange.HeaderFairnessID: fmt.Sprintf("flood-%d", i)}); rec.Code != 200 {
			t.Fatalf("flood: %d %s", rec.Code, rec.Body)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		if mf.GetName() != "llm_d_epp_request_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "fairness_id" {
					got = append(got, l.GetValue())
				}
			}
		}
	}
	slices.Sort(got)
	want := []string{"default-flow", "flood-0", "other", "tenant-legacy", "tenant-new"}
	if !slices.Equal(got, want) {
		t.Errorf("fairness_id values %v, want %v", got, want)
	}
}
