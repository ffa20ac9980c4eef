package dashboard

import (
	"math"
	"testing"
)

func TestQuantile(t *testing.T) {
	t.Parallel()
	inf := math.Inf(1)
	b := []bucket{{0.1, 10}, {0.5, 30}, {1, 40}, {inf, 40}}
	tests := []struct {
		name    string
		q       float64
		buckets []bucket
		want    float64
		wantOK  bool
	}{
		{name: "no buckets", q: 0.5},
		{name: "no observations", q: 0.5, buckets: []bucket{{0.1, 0}, {inf, 0}}},
		{name: "median interpolates in the second bucket", q: 0.5, buckets: b, want: 0.1 + 0.4*(20.0-10)/(30-10), wantOK: true},
		{name: "low quantile interpolates from zero", q: 0.1, buckets: b, want: 0.1 * 4 / 10, wantOK: true},
		{name: "top quantile is the highest finite bound", q: 1, buckets: b, want: 1, wantOK: true},
		{name: "rank in +Inf answers the last finite bound", q: 0.99, buckets: []bucket{{0.1, 1}, {0.2, 1}, {inf, 10}}, want: 0.2, wantOK: true},
		{name: "everything in +Inf with no finite bucket", q: 0.5, buckets: []bucket{{inf, 5}}, want: 0, wantOK: true},
		{name: "empty buckets are skipped", q: 0.5, buckets: []bucket{{0.1, 0}, {0.2, 0}, {0.4, 4}, {inf, 4}}, want: 0.3, wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := quantile(tc.q, tc.buckets)
			if ok != tc.wantOK || math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("quantile(%v) = %v, %v; want %v, %v", tc.q, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
