package bench

import (
	"fmt"
	"io"
	"time"
)

// pickerCostNotes say which decision latency is which, under the table.
const pickerCostNotes = `
¹ picker decision: in the picker, last request message received → header response handed to gRPC
  (infergate_extproc_decision_duration_seconds over the window; p50/p99 interpolated within its buckets,
  the shares at or under 0.3 ms and 2 ms exact: both are bucket boundaries).
² data-plane round trip: at the Envoy stand-in, last request-body message sent → header response
  received (two gRPC hops and both processes' scheduling included).
`

// WritePickerCostTable writes the study's rows as a Markdown table, with
// notes on which decision latency is which.
func WritePickerCostTable(w io.Writer, rows []PickerCostRow) error {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
	opt := func(plane PickerPlane, d time.Duration) string {
		if plane == PlaneProxy {
			return "–"
		}
		return ms(d)
	}
	share := func(plane PickerPlane, f float64) string {
		if plane == PlaneProxy {
			return "–"
		}
		if f == 1 {
			return "100 %"
		}
		// Never rounded up to 100: the share is exact, and a single miss counts.
		return fmt.Sprintf("%.2f %%", min(100*f, 99.99))
	}
	if _, err := fmt.Fprintln(w, "| plane | req/s offered | achieved | body | errors | picker decision p50 ms ¹ | picker decision p99 ms ¹ | picker ≤ 0.3 ms ¹ | picker ≤ 2 ms ¹ | data-plane round trip p50 ms ² | data-plane round trip p99 ms ² | per-chunk delay p50 ms | per-chunk delay max p99 ms | e2e p50 ms | e2e p99 ms | gateway CPU µs/req (net of idle) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"); err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(w, "| %s | %.0f | %.0f | %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f |\n",
			r.Plane, r.Rate, r.Achieved, sizeLabel(r.BodyBytes), r.Errors, r.Requests,
			opt(r.Plane, r.Picker.P50), opt(r.Plane, r.Picker.P99), share(r.Plane, r.Picker.AtOrUnder300us), share(r.Plane, r.Picker.AtOrUnder2ms),
			opt(r.Plane, r.RoundTripP50), opt(r.Plane, r.RoundTripP99), opt(r.Plane, r.ChunkDelayP50), opt(r.Plane, r.ChunkDelayP99),
			ms(r.E2EP50), ms(r.E2EP99), float64(r.CPUPerRequest)/float64(time.Microsecond)); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, pickerCostNotes)
	return err
}

// sizeLabel is a body size in bytes as "1 KB" or "220 KB".
func sizeLabel(n int) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%d KB", (n+512)/1000)
}
