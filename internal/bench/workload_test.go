package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// chatRequest is the part of a generated body the tests inspect.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	MaxTokens     int  `json:"max_tokens"`
	Stream        bool `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

func decodeBody(t *testing.T, b []byte) chatRequest {
	t.Helper()
	var c chatRequest
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if !c.Stream || !c.StreamOptions.IncludeUsage {
		t.Fatalf("body does not ask for a stream with usage: %s", b[:min(len(b), 200)])
	}
	return c
}

func TestSharedPrefixWorkload(t *testing.T) {
	t.Parallel()
	w := Workload{Type: WorkloadSharedPrefix, SharedPrefix: SharedPrefix{
		Groups: 3, PromptsPerGroup: 4, SystemPromptTokens: 100, QuestionTokens: 10, OutputTokens: 7,
	}}
	reqs, err := generate(w, Fleet{}, "m", 1)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := generate(w, Fleet{}, "m", 1)
	if fingerprint(reqs) != fingerprint(again) {
		t.Error("the same seed gave different sequences")
	}
	other, _ := generate(w, Fleet{}, "m", 2)
	if fingerprint(reqs) == fingerprint(other) {
		t.Error("different seeds gave the same sequence")
	}
	if len(reqs) != 12 {
		t.Fatalf("%d requests, want 12", len(reqs))
	}
	systems := map[int]string{}
	inOrder := true
	for i, r := range reqs {
		c := decodeBody(t, r.Body)
		if c.Model != "m" || c.MaxTokens != 7 || len(c.Messages) != 2 {
			t.Fatalf("request %d: %+v", i, c)
		}
		sys, q := c.Messages[0].Content, c.Messages[1].Content
		if len(sys) != 100*bytesPerToken || len(q) != 10*bytesPerToken {
			t.Errorf("request %d: system %d bytes, question %d, want 400 and 40", i, len(sys), len(q))
		}
		if prev, ok := systems[r.Group]; ok && prev != sys {
			t.Errorf("group %d has two system prompts", r.Group)
		}
		systems[r.Group] = sys
		if i > 0 && r.Group < reqs[i-1].Group {
			inOrder = false
		}
	}
	if len(systems) != 3 || systems[0][:64] == systems[1][:64] {
		t.Errorf("want 3 groups whose prompts differ from the first block on, got %d", len(systems))
	}
	if inOrder {
		t.Error("requests are not shuffled")
	}
}

func TestHitCeiling(t *testing.T) {
	t.Parallel()
	sp := SharedPrefix{Groups: 2, PromptsPerGroup: 3, SystemPromptTokens: 100, QuestionTokens: 10}
	// 2 groups × 2 non-first requests × 96 cached tokens (100 rounded down
	// to 16-token blocks) over 6 × 110 queried tokens.
	if got, want := hitCeiling(sp, 16, 660), 4*96/660.0; math.Abs(got-want) > 1e-12 {
		t.Errorf("hitCeiling = %v, want %v", got, want)
	}
	if got := hitCeiling(sp, 16, 0); got != 0 {
		t.Errorf("hitCeiling without queries = %v, want 0", got)
	}
}

func TestOtherWorkloads(t *testing.T) {
	t.Parallel()
	fleet := Fleet{Adapters: 4}
	tests := []struct {
		name  string
		w     Workload
		check func(t *testing.T, reqs []Request)
	}{
		{
			name: "sharegpt lengths are clamped and spread",
			w:    Workload{Type: WorkloadShareGPT, Requests: 400, ShareGPT: ShareGPT{InputMedian: 100, InputSigma: 1, OutputMedian: 50, OutputSigma: 1, MinTokens: 8, MaxTokens: 400}},
			check: func(t *testing.T, reqs []Request) {
				lo, hi := 1<<30, 0
				for _, r := range reqs {
					lo, hi = min(lo, r.PromptTokens), max(hi, r.PromptTokens)
					if r.OutputTokens < 8 || r.OutputTokens > 400 {
						t.Fatalf("output %d outside [8, 400]", r.OutputTokens)
					}
					if c := decodeBody(t, r.Body); len(c.Messages[0].Content) != r.PromptTokens*bytesPerToken {
						t.Fatalf("prompt of %d bytes for %d tokens", len(c.Messages[0].Content), r.PromptTokens)
					}
				}
				if lo != 8 || hi != 400 {
					t.Errorf("input lengths span [%d, %d], want the clamps 8 and 400 reached", lo, hi)
				}
			},
		},
		{
			name: "lora popularity falls with rank",
			w:    Workload{Type: WorkloadLoRA, Requests: 2000, LoRA: LoRA{ZipfS: 1.5, InputTokens: 4, OutputTokens: 2}},
			check: func(t *testing.T, reqs []Request) {
				count := map[string]int{}
				for _, r := range reqs {
					if c := decodeBody(t, r.Body); c.Model != r.Model {
						t.Fatalf("body model %q, request model %q", c.Model, r.Model)
					}
					count[r.Model]++
				}
				if !(count["adapter-0"] > count["adapter-1"] && count["adapter-1"] > count["adapter-3"] && count["adapter-3"] > 0) {
					t.Errorf("adapter counts %v do not fall with rank", count)
				}
			},
		},
		{
			name: "long prompts share their bodies",
			w:    Workload{Type: WorkloadLongPrompt, Requests: 5, LongPrompt: LongPrompt{Bytes: 220_000, Distinct: 2, OutputTokens: 3}},
			check: func(t *testing.T, reqs []Request) {
				if len(reqs[0].Body) < 220_000 || !bytes.Equal(reqs[0].Body, reqs[2].Body) || bytes.Equal(reqs[0].Body, reqs[1].Body) {
					t.Errorf("want 220 KB bodies cycling over 2 prompts")
				}
				if &reqs[0].Body[0] != &reqs[4].Body[0] {
					t.Error("repeated prompts are copies, not shared")
				}
			},
		},
		{
			name: "fixed",
			w:    Workload{Type: WorkloadFixed, Requests: 3, Fixed: Fixed{InputTokens: 5, OutputTokens: 6}},
			check: func(t *testing.T, reqs []Request) {
				for _, r := range reqs {
					if c := decodeBody(t, r.Body); len(c.Messages[0].Content) != 20 || c.MaxTokens != 6 {
						t.Errorf("fixed request %+v", c)
					}
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reqs, err := generate(tc.w, fleet, BaseModel, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(reqs) != tc.w.Requests {
				t.Fatalf("%d requests, want %d", len(reqs), tc.w.Requests)
			}
			tc.check(t, reqs)
		})
	}
}

func TestSchedule(t *testing.T) {
	t.Parallel()
	const n, rate = 20000, 50.0
	tests := []struct {
		name   string
		a      Arrival
		wantCV float64 // coefficient of variation of the gaps
	}{
		{name: "constant", a: Arrival{Type: ArrivalConstant, Rate: rate}, wantCV: 0},
		{name: "poisson", a: Arrival{Type: ArrivalPoisson, Rate: rate}, wantCV: 1},
		{name: "gamma", a: Arrival{Type: ArrivalGamma, Rate: rate, Burstiness: 0.25}, wantCV: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := schedule(tc.a, n, 9)
			if s[0] != 0 {
				t.Errorf("first offset %v, want 0", s[0])
			}
			var sum, sumSq float64
			for i := 1; i < n; i++ {
				g := (s[i] - s[i-1]).Seconds()
				if g < 0 {
					t.Fatalf("offsets decrease at %d", i)
				}
				sum += g
				sumSq += g * g
			}
			mean := sum / (n - 1)
			cv := math.Sqrt(sumSq/(n-1)-mean*mean) / mean
			if math.Abs(mean*rate-1) > 0.05 {
				t.Errorf("mean gap %v s, want %v s", mean, 1/rate)
			}
			if math.Abs(cv-tc.wantCV) > 0.1*tc.wantCV+0.01 {
				t.Errorf("gap CV %v, want %v", cv, tc.wantCV)
			}
		})
	}
	if s := schedule(Arrival{Type: ArrivalConcurrency, Concurrency: 2}, 5, 1); s != nil {
		t.Errorf("concurrency arrival has a schedule %v", s)
	}
	a, b := schedule(Arrival{Type: ArrivalPoisson, Rate: 3}, 10, 4), schedule(Arrival{Type: ArrivalPoisson, Rate: 3}, 10, 4)
	if a[9] != b[9] || a[9] < time.Second {
		t.Errorf("poisson schedule not reproducible or too short: %v vs %v", a, b)
	}
}

func TestGammaMean(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, k := range []float64{0.3, 1, 4} {
		sum := 0.0
		for range 20000 {
			sum += gamma(rnd, k)
		}
		if mean := sum / 20000; math.Abs(mean-k) > 0.05*k {
			t.Errorf("gamma(%v) mean %v, want %v", k, mean, k)
		}
	}
}
