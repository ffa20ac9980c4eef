package bench

import (
	"fmt"
	"io"
	"time"
)

// WritePickerCostTable writes the study's rows as a Markdown table.
func WritePickerCostTable(w io.Writer, rows []PickerCostRow) error {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
	opt := func(plane PickerPlane, d time.Duration) string {
		if plane == PlaneProxy {
			return "–"
		}
		return ms(d)
	}
	if _, err := fmt.Fprintln(w, "| plane | req/s offered | achieved | body | errors | decision p50 ms | decision p99 ms | per-chunk delay p50 ms | per-chunk delay max p99 ms | e2e p50 ms | e2e p99 ms | gateway CPU µs/req (net of idle) |\n|---|---|---|---|---|---|---|---|---|---|---|---|"); err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(w, "| %s | %.0f | %.0f | %s | %d/%d | %s | %s | %s | %s | %s | %s | %.0f |\n",
			r.Plane, r.Rate, r.Achieved, sizeLabel(r.BodyBytes), r.Errors, r.Requests,
			opt(r.Plane, r.DecisionP50), opt(r.Plane, r.DecisionP99), opt(r.Plane, r.ChunkDelayP50), opt(r.Plane, r.ChunkDelayP99),
			ms(r.E2EP50), ms(r.E2EP99), float64(r.CPUPerRequest)/float64(time.Microsecond)); err != nil {
			return err
		}
	}
	return nil
}

// sizeLabel is a body size in bytes as "1 KB" or "220 KB".
func sizeLabel(n int) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%d KB", (n+512)/1000)
}
