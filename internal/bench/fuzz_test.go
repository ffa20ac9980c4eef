package bench

import "testing"

// FuzzExposition feeds arbitrary text to the exposition readers, which read
// replicas' /metrics: they must never panic, and sums of non-negative
// counters stay non-negative.
func FuzzExposition(f *testing.F) {
	f.Add([]byte(exposition))
	f.Add([]byte("vllm:num_requests_waiting{a=\"}\"} 1\nvllm:num_requests_waiting{ 2\n"))
	f.Add([]byte("vllm:time_to_first_token_seconds_bucket{le=\"+Inf\"} 5\nvllm:time_to_first_token_seconds_bucket{le=\"x\"} 5"))
	f.Fuzz(func(t *testing.T, text []byte) {
		_ = sumSamples(text, metricWaiting, metricKVUsage)
		var h histogram
		h.addExposition(text, metricTTFT)
		for _, q := range []float64{0, 0.5, 0.99, 1} {
			_ = h.quantile(q)
		}
	})
}

// FuzzParseStat feeds arbitrary bytes to the /proc parsers.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1 (a b) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0"), []byte("VmHWM:\t 10 kB\n"))
	f.Add([]byte(")"), []byte("VmHWM:"))
	f.Fuzz(func(t *testing.T, stat, status []byte) {
		if cpu, err := parseStatCPU(stat); err == nil && cpu < 0 {
			t.Errorf("negative CPU time %v", cpu)
		}
		if kb := parseStatusKB(status, "VmHWM:"); kb < 0 {
			t.Errorf("negative size %d", kb)
		}
	})
}
