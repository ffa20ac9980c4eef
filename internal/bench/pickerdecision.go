package bench

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// pickerDecisionFamily is the gateway's histogram of the ext_proc picker's
// decision latency, measured in the picker: the request's last message
// received → the header response with the decision handed to gRPC.
const pickerDecisionFamily = "infergate_extproc_decision_duration_seconds"

// Decision-latency targets of the picker-cost study (issue: p50 ≤ 0.3 ms,
// p99 ≤ 2 ms at 500 req/s), in seconds; both are bucket boundaries of
// [pickerDecisionFamily], so the share of decisions within each is exact.
const (
	pickerTargetP50 = 0.0003
	pickerTargetP99 = 0.002
)

// PickerDecisions is the picker-side decision latency of one point, from
// the gateway's infergate_extproc_decision_duration_seconds over the
// point's measured window (scraped before and after it, diffed).
type PickerDecisions struct {
	// Count is the number of decisions recorded.
	Count int
	// P50 and P99 are interpolated linearly within the histogram's buckets
	// (as PromQL's histogram_quantile).
	P50, P99 time.Duration
	// AtOrUnder300us and AtOrUnder2ms are the exact fractions of decisions
	// that took at most 0.3 ms and 2 ms (bucket boundaries); 0 without
	// decisions.
	AtOrUnder300us, AtOrUnder2ms float64
}

// scrapeDecisionHistogram reads the gateway's decision-latency histogram
// (every series summed) from its /metrics at url.
func scrapeDecisionHistogram(ctx context.Context, hc *http.Client, url string) (histogram, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return histogram{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return histogram{}, fmt.Errorf("scrape gateway metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return histogram{}, fmt.Errorf("scrape gateway metrics: status %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return histogram{}, fmt.Errorf("parse gateway metrics: %w", err)
	}
	f := fams[pickerDecisionFamily]
	if f == nil {
		return histogram{}, fmt.Errorf("gateway metrics have no %s", pickerDecisionFamily)
	}
	h := histogramOfFamily(f)
	for _, le := range []float64{pickerTargetP50, pickerTargetP99} {
		if _, ok := h.counts[le]; !ok {
			return histogram{}, fmt.Errorf("%s has no bucket boundary at %g s", pickerDecisionFamily, le)
		}
	}
	return h, nil
}

// histogramOfFamily sums the cumulative buckets of every series of a
// histogram family; the +Inf bucket is the series' sample count.
func histogramOfFamily(f *dto.MetricFamily) histogram {
	h := histogram{counts: map[float64]float64{}}
	for _, m := range f.GetMetric() {
		hg := m.GetHistogram()
		for _, b := range hg.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), 1) {
				h.counts[b.GetUpperBound()] += float64(b.GetCumulativeCount())
			}
		}
		h.counts[math.Inf(1)] += float64(hg.GetSampleCount())
	}
	return h
}

// histogramDelta returns the observations after holds that before did
// not, bucket by bucket (a counter reset shows as negative counts, which
// are clamped to 0).
func histogramDelta(after, before histogram) histogram {
	d := histogram{counts: make(map[float64]float64, len(after.counts))}
	for le, c := range after.counts {
		d.counts[le] = max(c-before.counts[le], 0)
	}
	return d
}

// decisionsOf summarizes a decision-latency histogram (in seconds).
func decisionsOf(h histogram) PickerDecisions {
	total := h.counts[math.Inf(1)]
	if total <= 0 {
		return PickerDecisions{}
	}
	seconds := func(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }
	return PickerDecisions{
		Count:          int(total),
		P50:            seconds(h.quantile(0.5)),
		P99:            seconds(h.quantile(0.99)),
		AtOrUnder300us: h.counts[pickerTargetP50] / total,
		AtOrUnder2ms:   h.counts[pickerTargetP99] / total,
	}
}
