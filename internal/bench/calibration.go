package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
)

// Calibration compares one simulated replica (the default profile) with
// published vLLM figures for the same model and GPU, so readers can judge
// how far the simulator's timing model is from a real engine. The
// simulator is never tuned to these numbers.
type Calibration struct {
	// Profile names the simulator profile.
	Profile string `json:"profile"`
	// Rows are the comparisons.
	Rows []CalibrationRow `json:"rows"`
}

// CalibrationRow is one measurement next to its published counterpart.
type CalibrationRow struct {
	Load      string  `json:"load"`
	Metric    string  `json:"metric"`
	Simulated float64 `json:"simulated"`
	Published string  `json:"published"`
	Source    string  `json:"source"`
}

// Published reference points. Each is what the cited source reports, with
// how it was obtained; none is an exact replica of the simulated setup.
const (
	refDecodeITL = "≈6.2 ms/token (derived: H100 3.35 TB/s ÷ 16.1 GB of bf16 weights = 209 tok/s roofline; vLLM reaches ≈77 % of " +
		"its roofline at batch 1 on an A100 (75 tok/s))"
	refDecodeSource = "NVIDIA H100 SXM datasheet; johnmusgrave.com/p/vllm-throughput-latency-sweep-on (vLLM, Llama-3.1-8B-Instruct, A100 40GB, 1024 in / 128 out)"
	refBurstTTFT    = "62.4 ms mean TTFT"
	refBurstSource  = "github.com/LambdaLabsML/vllm-benchmark results/prompt_10/1xH100-80GB-SXM/Meta-Llama-3-8B-Instruct_tp1_len2048.json " +
		"(vLLM 0.6, Llama-3-8B-Instruct, same architecture as 3.1; 10 ShareGPT prompts sent at once)"
	refThroughput       = "≈12,500 output tok/s"
	refThroughputSource = "morphllm.com/vllm-benchmarks (third-party compilation: Llama 3.1 8B bf16, 1×H100, FlashInfer, gpu util 0.8; workload not stated)"
)

// burstLens are the prompt lengths of the reference burst (the ten prompts
// of the Lambda run above).
var burstLens = []int{13, 25, 27, 10, 329, 29, 399, 328, 4, 205}

// Calibration loads: requests per row.
const (
	calSingleRequests = 8
	calHighRequests   = 256
	calHighConc       = 256
	// The high-load row is decode-heavy (128 in / 512 out), as throughput
	// figures usually are: a batch of 256 sequences decoding together.
	calHighIn, calHighOut = 128, 512
	// calibrationRequests is the total, for the progress bar.
	calibrationRequests = calSingleRequests + 10 + calHighRequests
)

// calibrate measures one default-profile replica directly (no gateway) at
// low and high load.
func (r *runner) calibrate(ctx context.Context, timeScale float64, seed int64, done func()) (*Calibration, error) {
	rnd := rand.New(rand.NewPCG(uint64(seed), 0xca11))
	fixed := func(n, in, out int) []Request {
		reqs := make([]Request, n)
		for i := range reqs {
			reqs[i] = Request{Body: chatBody(BaseModel, out, message{"user", appendWords(nil, rnd, in)}), Model: BaseModel, Group: -1, PromptTokens: in, OutputTokens: out}
		}
		return reqs
	}
	burst := make([]Request, len(burstLens))
	for i, n := range burstLens {
		burst[i] = Request{Body: chatBody(BaseModel, 16, message{"user", appendWords(nil, rnd, n)}), Model: BaseModel, Group: -1, PromptTokens: n, OutputTokens: 16}
	}
	sc := &Scenario{
		Name:       "calibration",
		Kind:       KindRouting,
		Strategies: []string{StrategyDirect},
		Fleet:      Fleet{Replicas: 1, Profile: ProfileH100},
		Arrival:    Arrival{Type: ArrivalConcurrency},
	}
	run := func(reqs []Request, conc int) (*RunResult, error) {
		res, err := r.runOne(ctx, runSpec{
			scenario: sc, strategy: StrategyDirect, point: float64(conc), reqs: reqs,
			timeScale: timeScale, seed: seed, slo: SLO{}, gatewayCPU: -1,
		}, done)
		if err != nil {
			return nil, fmt.Errorf("calibration: %w", err)
		}
		if res.Completed != len(reqs) {
			return nil, fmt.Errorf("calibration: %d of %d requests completed: %v", res.Completed, len(reqs), res.Errors)
		}
		return res, nil
	}
	single, err := run(fixed(calSingleRequests, 1024, 128), 1)
	if err != nil {
		return nil, err
	}
	b, err := run(burst, len(burst))
	if err != nil {
		return nil, err
	}
	high, err := run(fixed(calHighRequests, calHighIn, calHighOut), calHighConc)
	if err != nil {
		return nil, err
	}
	return &Calibration{
		Profile: simProfile(sc.Fleet).Name,
		Rows: []CalibrationRow{
			{Load: "1 request at a time, 1024 in / 128 out", Metric: "TTFT p50 (ms)", Simulated: single.TTFT.P50,
				Published: "—", Source: "prefill of 1024 tokens; no like-for-like published figure found"},
			{Load: "1 request at a time, 1024 in / 128 out", Metric: "TPOT p50 (ms/token)", Simulated: single.TPOT.P50,
				Published: refDecodeITL, Source: refDecodeSource},
			{Load: "10 prompts at once (1,369 prompt tokens in all)", Metric: "TTFT mean (ms, client-side)", Simulated: b.TTFT.Mean,
				Published: refBurstTTFT, Source: refBurstSource},
			{Load: fmt.Sprintf("%d requests at once, %d in / %d out", calHighConc, calHighIn, calHighOut), Metric: "output tokens/s", Simulated: high.OutputTokensPerSec,
				Published: refThroughput, Source: refThroughputSource},
			{Load: fmt.Sprintf("%d requests at once, %d in / %d out", calHighConc, calHighIn, calHighOut), Metric: "TPOT p50 (ms/token)", Simulated: high.TPOT.P50,
				Published: "—", Source: "step time grows with batch and context (see the simulator's timing model)"},
		},
	}, nil
}
