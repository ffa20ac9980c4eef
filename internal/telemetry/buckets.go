package telemetry

// Histogram bucket boundaries, copied value for value from the upstream
// endpoint picker (v1.5.0) so that dashboards and recording rules written for
// it see the same `le` labels. Do not "fix" them: 32778 (not 32768) in the
// size and token lists is upstream's typo, and changing it would change a
// series identity.
var (
	// generalLatencyBuckets, in seconds: request duration and TTFT.
	generalLatencyBuckets = []float64{
		0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
		120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600,
	}
	// tpotBuckets, in seconds: time per output token.
	tpotBuckets = []float64{
		0.0005, 0.00205, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.125, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8,
		1, 1.5, 2, 3, 4.5, 6, 12, 18, 24, 30, 36, 48, 60, 90, 120, 180, 270, 360,
	}
	// schedulerBuckets, in seconds: scheduler end-to-end and plugin durations.
	schedulerBuckets = []float64{0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1}
	// requestSizeBuckets, in bytes: 64 B to 1 GiB in powers of two.
	requestSizeBuckets = []float64{
		64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576,
		2097152, 4194304, 8388608, 16777216, 33554432, 67108864, 134217728, 268435456, 536870912, 1073741824,
	}
	// responseSizeBuckets, in bytes (32778 is upstream's).
	responseSizeBuckets = []float64{1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536}
	// inputTokenBuckets: prompt and cached-prompt tokens (32778 is upstream's).
	inputTokenBuckets = []float64{
		1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536, 131072, 262144,
		524288, 1048576,
	}
	// outputTokenBuckets: generated tokens.
	outputTokenBuckets = []float64{1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192}
	// ntpotBuckets, in seconds: request duration divided by output tokens.
	ntpotBuckets = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10}
	// hitRatioBuckets: prefix-cache hit ratio, 0 to 1 in steps of 0.1.
	hitRatioBuckets = []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}
	// hitBytesBuckets, in bytes: 0 and then powers of two from 16 to 65536.
	hitBytesBuckets = []float64{0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536}
)

// Buckets of the llm_d_epp_* families that have no GIE twin, or whose
// boundaries differ from it (llm-d router v0.10, value for value).
var (
	// llmdTTFTBuckets, in seconds: llm_d_epp_request_ttft_seconds (the
	// general latency list cut at 120 s).
	llmdTTFTBuckets = []float64{
		0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120,
	}
	// llmdTPOTBuckets, in seconds: llm_d_epp_request_streaming_tpot_seconds
	// (the TPOT list cut at 2 s).
	llmdTPOTBuckets = []float64{
		0.0005, 0.00205, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.125, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 2,
	}
	// llmdITLBuckets, in seconds: llm_d_epp_request_streaming_itl_seconds.
	llmdITLBuckets = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2}
	// requestProcessingBuckets, in seconds:
	// llm_d_epp_request_processing_duration_seconds.
	requestProcessingBuckets = []float64{
		0.0005, 0.001, 0.002, 0.005, 0.01, 0.015, 0.025, 0.04, 0.06, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
	}
	// responseProcessingBuckets, in seconds:
	// llm_d_epp_response_processing_duration_seconds.
	responseProcessingBuckets = []float64{
		0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	}
)
