package bench

import (
	"math"
	"slices"
)

// Latency summarises a latency distribution in milliseconds.
type Latency struct {
	P50  float64 `json:"p50Ms"`
	P90  float64 `json:"p90Ms"`
	P99  float64 `json:"p99Ms"`
	Mean float64 `json:"meanMs"`
	// N is the number of samples.
	N int `json:"n"`
}

// latencyOf summarises vals (milliseconds); it sorts vals in place.
func latencyOf(vals []float64) Latency {
	if len(vals) == 0 {
		return Latency{}
	}
	slices.Sort(vals)
	sum := 0.0
	for _, v := range vals {
		sum += v
	}
	return Latency{
		P50:  percentile(vals, 50),
		P90:  percentile(vals, 90),
		P99:  percentile(vals, 99),
		Mean: sum / float64(len(vals)),
		N:    len(vals),
	}
}

// percentile returns the p-th percentile (0..100) of sorted, non-empty
// vals, interpolating linearly between closest ranks.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[hi]-sorted[lo])
}
