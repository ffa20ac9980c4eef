package bench

import (
	"encoding/json"
	"io"
	"time"
)

// pickerCostReport is the picker-cost study's JSON report.
type pickerCostReport struct {
	Rows []pickerCostJSONRow `json:"rows"`
}

// pickerCostJSONRow is one point of the JSON report; latencies in
// milliseconds. The ext_proc-only values are omitted for the proxy.
type pickerCostJSONRow struct {
	Plane     PickerPlane `json:"plane"`
	Rate      float64     `json:"rateOffered"`
	Achieved  float64     `json:"rateAchieved"`
	BodyBytes int         `json:"bodyBytes"`
	Requests  int         `json:"requests"`
	Errors    int         `json:"errors"`
	E2EP50    float64     `json:"e2eP50Ms"`
	E2EP99    float64     `json:"e2eP99Ms"`
	CPU       float64     `json:"gatewayCpuUsPerRequest"`
	// Picker-side decision latency (infergate_extproc_decision_duration_seconds):
	// p50/p99 interpolated within buckets, shares exact.
	PickerDecisions *int     `json:"pickerDecisions,omitempty"`
	PickerP50       *float64 `json:"pickerDecisionP50Ms,omitempty"`
	PickerP99       *float64 `json:"pickerDecisionP99Ms,omitempty"`
	PickerUnder300  *float64 `json:"pickerDecisionShareAtOrUnder0_3Ms,omitempty"`
	PickerUnder2ms  *float64 `json:"pickerDecisionShareAtOrUnder2Ms,omitempty"`
	// The data plane's round trip at the stand-in.
	RoundTripP50  *float64 `json:"dataPlaneRoundTripP50Ms,omitempty"`
	RoundTripP99  *float64 `json:"dataPlaneRoundTripP99Ms,omitempty"`
	ChunkDelayP50 *float64 `json:"perChunkDelayP50Ms,omitempty"`
	ChunkDelayP99 *float64 `json:"perChunkDelayMaxP99Ms,omitempty"`
}

// WritePickerCostJSON writes the study's rows as an indented JSON report.
func WritePickerCostJSON(w io.Writer, rows []PickerCostRow) error {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	ptr := func(v float64) *float64 { return &v }
	rep := pickerCostReport{Rows: make([]pickerCostJSONRow, 0, len(rows))}
	for _, r := range rows {
		jr := pickerCostJSONRow{
			Plane: r.Plane, Rate: r.Rate, Achieved: r.Achieved, BodyBytes: r.BodyBytes,
			Requests: r.Requests, Errors: r.Errors,
			E2EP50: ms(r.E2EP50), E2EP99: ms(r.E2EP99),
			CPU: float64(r.CPUPerRequest) / float64(time.Microsecond),
		}
		if r.Plane != PlaneProxy {
			n := r.Picker.Count
			jr.PickerDecisions = &n
			jr.PickerP50, jr.PickerP99 = ptr(ms(r.Picker.P50)), ptr(ms(r.Picker.P99))
			jr.PickerUnder300, jr.PickerUnder2ms = ptr(r.Picker.AtOrUnder300us), ptr(r.Picker.AtOrUnder2ms)
			jr.RoundTripP50, jr.RoundTripP99 = ptr(ms(r.RoundTripP50)), ptr(ms(r.RoundTripP99))
			jr.ChunkDelayP50, jr.ChunkDelayP99 = ptr(ms(r.ChunkDelayP50)), ptr(ms(r.ChunkDelayP99))
		}
		rep.Rows = append(rep.Rows, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
