package bench

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"
)

// FuzzExposition feeds arbitrary text to the exposition readers, which read
// replicas' /metrics. It checks that sumSamples reports only the requested
// families, only families present in the text, and ignores comments and
// other families; and that a histogram read from the text holds no NaN
// count, survives a render-and-reread round trip unchanged, and, when it is
// well formed, yields quantiles that rise with q and stay inside its bounds.
func FuzzExposition(f *testing.F) {
	f.Add([]byte(exposition))
	f.Add([]byte("vllm:num_requests_waiting{a=\"}\"} 1\nvllm:num_requests_waiting{ 2\n"))
	f.Add([]byte("vllm:time_to_first_token_seconds_bucket{le=\"+Inf\"} 5\nvllm:time_to_first_token_seconds_bucket{le=\"x\"} 5"))
	f.Add([]byte("vllm:time_to_first_token_seconds_bucket{le=\"1\"} +Inf\nvllm:time_to_first_token_seconds_bucket{le=\"1\"} -Inf\n"))
	f.Add([]byte("vllm:time_to_first_token_seconds_bucket{le=\"1\"} 1e308\nvllm:time_to_first_token_seconds_bucket{le=\"1\"} 1e308\n"))
	f.Add([]byte("vllm:time_to_first_token_seconds_bucket{le=\"1e308\"} 1e10\nvllm:time_to_first_token_seconds_bucket{le=\"+Inf\"} 1e10\n"))
	names := []string{metricWaiting, metricKVUsage}
	f.Fuzz(func(t *testing.T, text []byte) {
		sums := sumSamples(text, names...)
		for name := range sums {
			if !slices.Contains(names, name) {
				t.Fatalf("sumSamples reported unrequested family %q", name)
			}
			if !bytes.Contains(text, []byte(name)) {
				t.Fatalf("sumSamples reported %q, which the text does not contain", name)
			}
		}
		// Comments and other families around the text change nothing (the
		// sums are added in the same order, so they must be bit-identical).
		wrapped := slices.Concat([]byte("# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting_other 7\n"), text, []byte("\nother_family 5\n"))
		if again := sumSamples(wrapped, names...); !sameSums(sums, again) {
			t.Fatalf("comments and other families changed the sums: %v, then %v", sums, again)
		}

		var h histogram
		h.addExposition(text, metricTTFT)
		for le, c := range h.counts {
			if math.IsNaN(c) || math.IsNaN(le) {
				t.Fatalf("histogram holds NaN: le %v count %v", le, c)
			}
		}
		var reread histogram
		reread.addExposition(renderHistogram(metricTTFT, h.counts), metricTTFT)
		if !maps.Equal(h.counts, reread.counts) {
			t.Fatalf("render and reread changed the histogram: %v, then %v", h.counts, reread.counts)
		}
		checkQuantiles(t, &h)
	})
}

// sameSums reports whether a and b hold the same keys with bit-identical
// values.
func sameSums(a, b map[string]float64) bool {
	return maps.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// renderHistogram writes counts as the bucket lines of family name.
func renderHistogram(name string, counts map[float64]float64) []byte {
	var b []byte
	for le, c := range counts {
		b = fmt.Appendf(b, "%s_bucket{le=%q} %s\n", name,
			strconv.FormatFloat(le, 'g', -1, 64), strconv.FormatFloat(c, 'g', -1, 64))
	}
	return b
}

// checkQuantiles checks, for a well-formed histogram (non-negative finite
// bounds besides +Inf, cumulative counts that never fall, a positive
// total), that quantiles rise with q and lie in [0, highest finite bound].
// Any histogram must give a number, never NaN, and 0 for an empty one.
func checkQuantiles(t *testing.T, h *histogram) {
	t.Helper()
	les := slices.Sorted(maps.Keys(h.counts))
	wellFormed := len(les) > 0 && h.counts[les[len(les)-1]] > 0
	maxFinite, prev := 0.0, 0.0
	for _, le := range les {
		if le < 0 || math.IsInf(le, -1) || h.counts[le] < prev {
			wellFormed = false
		}
		if !math.IsInf(le, 1) {
			maxFinite = max(maxFinite, le)
		}
		prev = h.counts[le]
	}
	if len(les) == 0 {
		if got := h.quantile(0.5); got != 0 {
			t.Fatalf("quantile of an empty histogram = %v, want 0", got)
		}
		return
	}
	if !wellFormed {
		return
	}
	last := 0.0
	for _, q := range []float64{0, 0.1, 0.5, 0.9, 0.99, 1} {
		got := h.quantile(q)
		if math.IsNaN(got) || got < 0 || got > maxFinite*(1+1e-12) {
			t.Fatalf("quantile(%v) = %v, outside [0, %v] for %v", q, got, maxFinite, h.counts)
		}
		if got < last*(1-1e-12) {
			t.Fatalf("quantile(%v) = %v, below the previous quantile %v for %v", q, got, last, h.counts)
		}
		last = got
	}
}

// FuzzParseStat feeds arbitrary bytes to the /proc parsers, and checks that
// a stat line built from a fuzzed command name (which may hold spaces and
// parentheses) and tick counts parses back to those ticks.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1 (a b) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0"), []byte("VmHWM:\t 10 kB\n"), "infer gate", uint32(150), uint32(25))
	f.Add([]byte(")"), []byte("VmHWM:"), "a) S (b", uint32(0), uint32(1))
	f.Add([]byte("1 (x) S 1 2 3 4 5 6 7 8 9 9223372036854775807 9223372036854775807 0"), []byte("VmHWM: -1 kB"), ")", uint32(1<<31), uint32(1<<31))
	f.Fuzz(func(t *testing.T, stat, status []byte, comm string, utime, stime uint32) {
		if cpu, err := parseStatCPU(stat); err == nil && cpu < 0 {
			t.Errorf("negative CPU time %v from %q", cpu, stat)
		}
		if kb := parseStatusKB(status, "VmHWM:"); kb < 0 {
			t.Errorf("negative size %d from %q", kb, status)
		}

		line := fmt.Sprintf("4242 (%s) S 1 4242 4242 0 -1 4194560 2000 0 0 0 %d %d 0 0 20 0 12 0 100\n", comm, utime, stime)
		cpu, err := parseStatCPU([]byte(line))
		if err != nil {
			t.Fatalf("parseStatCPU(%q): %v", line, err)
		}
		if want := time.Duration(uint64(utime)+uint64(stime)) * time.Second / clockTicks; cpu != want {
			t.Fatalf("parseStatCPU(%q) = %v, want %v", line, cpu, want)
		}
		kb := int64(utime)
		if got := parseStatusKB(fmt.Appendf(slices.Clip(status), "\nVmHWM:\t%d kB\n", kb), "VmHWM:"); got != kb && !bytes.Contains(status, []byte("VmHWM:")) {
			t.Fatalf("parseStatusKB did not find VmHWM %d appended to %q: got %d", kb, status, got)
		}
	})
}
