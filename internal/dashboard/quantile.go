package dashboard

import "math"

// bucket is one cumulative histogram bucket.
type bucket struct {
	upper float64 // upper bound; +Inf for the last
	count float64 // observations <= upper
}

// quantile estimates the q-quantile (0 <= q <= 1) of the observations in
// cumulative buckets sorted by upper bound, the way PromQL's
// histogram_quantile does: it finds the bucket holding the rank and
// interpolates linearly inside it (from 0 for the first bucket). A rank in
// the +Inf bucket answers the highest finite bound. It reports false when
// there are no observations.
func quantile(q float64, buckets []bucket) (float64, bool) {
	if len(buckets) == 0 {
		return 0, false
	}
	total := buckets[len(buckets)-1].count
	if !(total > 0) {
		return 0, false
	}
	rank := q * total
	lowerBound, lowerCount := 0.0, 0.0
	for i, b := range buckets {
		if b.count >= rank && b.count > lowerCount {
			if math.IsInf(b.upper, 1) {
				if i == 0 {
					return 0, true
				}
				return buckets[i-1].upper, true
			}
			return lowerBound + (b.upper-lowerBound)*(rank-lowerCount)/(b.count-lowerCount), true
		}
		lowerBound, lowerCount = b.upper, b.count
	}
	return lowerBound, true
}
