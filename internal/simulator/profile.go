package simulator

import (
	"errors"
	"fmt"
	"time"
)

// Profile describes the simulated accelerator and engine limits: the
// capacities the scheduler enforces and the costs of one engine step. All
// durations are model time (unscaled); see [Config.TimeScale].
//
// One engine step (a forward pass over the scheduled batch) takes
//
//	StepTime
//	+ PrefillTokenTime × (prompt tokens computed in the step)
//	+ DecodeSeqTime    × (sequences decoding one token in the step)
//	+ ContextTokenTime × (tokens already in the KV cache of those sequences)
//	+ LoRALoadTime     × (adapters loaded into a slot for the step)
//
// The numbers of [DefaultProfile] are approximate; the package documentation
// explains where they come from.
type Profile struct {
	// Name identifies the profile in logs, e.g. "llama-3.1-8b-instruct/h100-80gb-bf16".
	Name string
	// MaxModelLen is the longest sequence (prompt plus output) in tokens.
	MaxModelLen int
	// MaxNumSeqs caps the number of running sequences (the batch size).
	MaxNumSeqs int
	// MaxNumBatchedTokens is the token budget of one step; long prompts are
	// prefilled in chunks of at most this many tokens.
	MaxNumBatchedTokens int
	// BlockSize is the number of tokens per KV cache block.
	BlockSize int
	// NumGPUBlocks is the number of KV cache blocks on the GPU.
	NumGPUBlocks int
	// MaxLoRAs is the number of LoRA adapter slots (adapters usable by one
	// batch at the same time).
	MaxLoRAs int
	// StepTime is the fixed cost of one step: reading the weights once and
	// launching the kernels.
	StepTime time.Duration
	// PrefillTokenTime is the cost of one uncached prompt token.
	PrefillTokenTime time.Duration
	// DecodeSeqTime is the per-sequence cost of a decode step.
	DecodeSeqTime time.Duration
	// ContextTokenTime is the cost of reading one cached token's keys and
	// values during a decode step (attention is memory bound).
	ContextTokenTime time.Duration
	// LoRALoadTime is the cost of loading one adapter into a slot.
	LoRALoadTime time.Duration
}

// DefaultProfile returns an approximate profile of
// meta-llama/Llama-3.1-8B-Instruct in bf16 on one NVIDIA H100 80GB (SXM)
// served by vLLM; the package documentation derives each number.
func DefaultProfile() Profile {
	return Profile{
		Name:                "llama-3.1-8b-instruct/h100-80gb-bf16",
		MaxModelLen:         131072,
		MaxNumSeqs:          256,
		MaxNumBatchedTokens: 8192,
		BlockSize:           16,
		NumGPUBlocks:        27000,
		MaxLoRAs:            4,
		StepTime:            6 * time.Millisecond,
		PrefillTokenTime:    60 * time.Microsecond,
		DecodeSeqTime:       30 * time.Microsecond,
		ContextTokenTime:    50 * time.Nanosecond,
		LoRALoadTime:        20 * time.Millisecond,
	}
}

// stepDuration is the model time of one step; see [Profile].
func (p *Profile) stepDuration(prefillTokens, decodeSeqs, contextTokens, loraLoads int) time.Duration {
	return p.StepTime +
		time.Duration(prefillTokens)*p.PrefillTokenTime +
		time.Duration(decodeSeqs)*p.DecodeSeqTime +
		time.Duration(contextTokens)*p.ContextTokenTime +
		time.Duration(loraLoads)*p.LoRALoadTime
}

// validate reports every problem of the profile.
func (p *Profile) validate() error {
	var errs []error
	positive := []struct {
		name string
		v    int
	}{
		{"max model len", p.MaxModelLen},
		{"max num seqs", p.MaxNumSeqs},
		{"max num batched tokens", p.MaxNumBatchedTokens},
		{"block size", p.BlockSize},
		{"num gpu blocks", p.NumGPUBlocks},
		{"max loras", p.MaxLoRAs},
	}
	for _, f := range positive {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("profile: %s must be positive, got %d", f.name, f.v))
		}
	}
	if p.BlockSize > 0 && p.NumGPUBlocks > 0 && p.MaxModelLen > 0 &&
		int64(p.NumGPUBlocks)*int64(p.BlockSize) < int64(p.MaxModelLen) {
		errs = append(errs, fmt.Errorf("profile: kv cache of %d blocks × %d tokens cannot hold max model len %d",
			p.NumGPUBlocks, p.BlockSize, p.MaxModelLen))
	}
	if p.StepTime <= 0 {
		errs = append(errs, fmt.Errorf("profile: step time must be positive, got %s", p.StepTime))
	}
	nonNegative := []struct {
		name string
		v    time.Duration
	}{
		{"prefill token time", p.PrefillTokenTime},
		{"decode seq time", p.DecodeSeqTime},
		{"context token time", p.ContextTokenTime},
		{"lora load time", p.LoRALoadTime},
	}
	for _, f := range nonNegative {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("profile: %s must not be negative, got %s", f.name, f.v))
		}
	}
	return errors.Join(errs...)
}
