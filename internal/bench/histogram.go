package bench

import (
	"bytes"
	"math"
	"slices"
	"strconv"
)

// histogram is a cumulative Prometheus histogram: bucket upper bounds and
// their cumulative counts, summed over replicas.
type histogram struct {
	counts map[float64]float64 // le → cumulative count
}

// addExposition adds the buckets of family name (name_bucket samples) found
// in a text exposition. Malformed lines (including counts that are not
// finite and non-negative, or that would overflow the bucket's sum) are
// skipped.
func (h *histogram) addExposition(text []byte, name string) {
	if h.counts == nil {
		h.counts = map[float64]float64{}
	}
	prefix := []byte(name + "_bucket{")
	for line := range bytes.SplitSeq(text, []byte{'\n'}) {
		rest, ok := bytes.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		i := bytes.Index(rest, []byte(`le="`))
		if i < 0 {
			continue
		}
		leText := rest[i+4:]
		j := bytes.IndexByte(leText, '"')
		if j < 0 {
			continue
		}
		le, err := strconv.ParseFloat(string(leText[:j]), 64)
		if err != nil || le != le {
			continue
		}
		close := bytes.LastIndexByte(rest, '}')
		if close < 0 {
			continue
		}
		f := bytes.Fields(rest[close+1:])
		if len(f) == 0 {
			continue
		}
		// A bucket count is a finite non-negative number; anything else
		// (NaN, ±Inf, negative) is malformed and would poison the sum.
		v, err := strconv.ParseFloat(string(f[0]), 64)
		if err != nil || v < 0 || math.IsInf(v, 1) || v != v {
			continue
		}
		if sum := h.counts[le] + v; !math.IsInf(sum, 1) {
			h.counts[le] = sum
		}
	}
}

// quantile estimates the q-th quantile (0..1) by linear interpolation
// inside the bucket that holds it, as PromQL's histogram_quantile does. It
// returns 0 without observations and the highest finite bound when the
// quantile falls in the +Inf bucket.
func (h *histogram) quantile(q float64) float64 {
	les := make([]float64, 0, len(h.counts))
	for le := range h.counts {
		les = append(les, le)
	}
	slices.Sort(les)
	if len(les) == 0 {
		return 0
	}
	total := h.counts[les[len(les)-1]]
	if total <= 0 {
		return 0
	}
	rank := q * total
	prevLE, prevCount := 0.0, 0.0
	for _, le := range les {
		c := h.counts[le]
		if c >= rank {
			if math.IsInf(le, 1) {
				return prevLE
			}
			if c == prevCount {
				return le
			}
			// The fraction first: (le-prevLE)*(rank-prevCount) can overflow.
			return prevLE + (le-prevLE)*((rank-prevCount)/(c-prevCount))
		}
		prevLE, prevCount = le, c
	}
	return prevLE
}
