package simulator

import (
	"errors"
	"fmt"
	"math"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Engine names accepted by [Config.Engine].
const (
	// EngineVLLM exposes vLLM (V1 engine) metric names.
	EngineVLLM = "vllm"
	// EngineSGLang exposes SGLang metric names.
	EngineSGLang = "sglang"
)

// Config configures one simulated model-server replica. Start from
// [DefaultConfig] and change what you need; [New] validates it.
type Config struct {
	// Tracer, when set with Propagator, traces each completion request as
	// vLLM does: a server span continuing the caller's W3C traceparent.
	// nil traces nothing.
	Tracer trace.Tracer
	// Propagator reads the caller's traceparent/tracestate.
	Propagator propagation.TextMapPropagator
	// Name is the replica name sent in the x-inference-pod response header.
	Name string
	// Model is the base model name served, e.g. "meta-llama/Llama-3.1-8B-Instruct".
	Model string
	// LoRAs are the adapter names clients may request besides Model.
	LoRAs []string
	// PreloadedLoRAs are loaded into slots at start (no load cost on their
	// first use). They are servable even when not listed in LoRAs. At most
	// Profile.MaxLoRAs.
	PreloadedLoRAs []string
	// Engine selects the metric names: [EngineVLLM] or [EngineSGLang].
	Engine string
	// Profile holds the simulated hardware limits and step costs.
	Profile Profile
	// TimeScale divides every simulated duration (engine steps, adapter
	// loads, AddedLatency) before it is spent in wall-clock time: 10 runs ten
	// times faster than real time. Metrics record model time, so reports do
	// not depend on it. Must be positive.
	TimeScale float64
	// Seed makes output text, response ids and injected errors reproducible.
	Seed int64
	// DefaultMaxTokens is the output length of a request that sets neither
	// max_tokens nor max_completion_tokens (capped by Profile.MaxModelLen).
	DefaultMaxTokens int
	// ErrorRate is the fraction (0..1) of completion requests answered with
	// an injected 500 error.
	ErrorRate float64
	// AddedLatency delays every completion request before it reaches the
	// engine (model time, divided by TimeScale).
	AddedLatency time.Duration
	// UnavailableEvery and UnavailableFor inject bursts of 503: during the
	// first UnavailableFor of every UnavailableEvery (real time, from New)
	// completion requests are answered 503. Both must be set, or neither.
	UnavailableEvery, UnavailableFor time.Duration
	// StallFor pauses every streamed response once, after its first
	// event, for this long (real time): a replica whose bodies stall.
	StallFor time.Duration
	// Hang makes completion requests block without an answer until the
	// client goes away or the server shuts down.
	Hang bool
	// ExitAfter, when positive, closes [Server.Done] once that many completion
	// requests have been answered; [Server.Serve] then shuts down and returns
	// nil.
	ExitAfter int
	// ShutdownTimeout bounds the graceful drain of in-flight requests in
	// [Server.Serve]; when it expires connections are closed.
	ShutdownTimeout time.Duration
}

// DefaultConfig returns a configuration for one Llama-3.1-8B-Instruct replica
// on an H100 in real time, with the vLLM metric names.
func DefaultConfig() Config {
	return Config{
		Name:             "sim",
		Model:            "meta-llama/Llama-3.1-8B-Instruct",
		Engine:           EngineVLLM,
		Profile:          DefaultProfile(),
		TimeScale:        1,
		Seed:             1,
		DefaultMaxTokens: 128,
		ShutdownTimeout:  5 * time.Second,
	}
}

// validate reports every problem of the configuration at once.
func (c *Config) validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name must not be empty"))
	}
	if c.Model == "" {
		errs = append(errs, errors.New("model must not be empty"))
	}
	if c.Engine != EngineVLLM && c.Engine != EngineSGLang {
		errs = append(errs, fmt.Errorf("engine must be %q or %q, got %q", EngineVLLM, EngineSGLang, c.Engine))
	}
	if err := c.Profile.validate(); err != nil {
		errs = append(errs, err)
	}
	if !(c.TimeScale > 0) || math.IsInf(c.TimeScale, 0) {
		errs = append(errs, fmt.Errorf("time scale must be positive and finite, got %v", c.TimeScale))
	}
	if c.DefaultMaxTokens <= 0 {
		errs = append(errs, fmt.Errorf("default max tokens must be positive, got %d", c.DefaultMaxTokens))
	}
	if c.UnavailableFor < 0 || c.UnavailableEvery < 0 || (c.UnavailableFor > 0) != (c.UnavailableEvery > 0) || c.UnavailableFor > c.UnavailableEvery {
		errs = append(errs, fmt.Errorf("unavailable bursts need 0 < for (%v) <= every (%v), or neither", c.UnavailableFor, c.UnavailableEvery))
	}
	if c.StallFor < 0 {
		errs = append(errs, fmt.Errorf("stall must not be negative, got %v", c.StallFor))
	}
	if !(c.ErrorRate >= 0 && c.ErrorRate <= 1) {
		errs = append(errs, fmt.Errorf("error rate must be within [0, 1], got %v", c.ErrorRate))
	}
	if c.AddedLatency < 0 {
		errs = append(errs, fmt.Errorf("added latency must not be negative, got %s", c.AddedLatency))
	}
	if c.ExitAfter < 0 {
		errs = append(errs, fmt.Errorf("exit after must not be negative, got %d", c.ExitAfter))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout must not be negative, got %s", c.ShutdownTimeout))
	}
	seen := make(map[string]bool)
	check := func(field, name string) {
		switch {
		case name == "":
			errs = append(errs, fmt.Errorf("%s: adapter name must not be empty", field))
		case name == c.Model:
			errs = append(errs, fmt.Errorf("%s: adapter %q has the base model's name", field, name))
		}
	}
	for _, name := range c.LoRAs {
		check("loras", name)
		if seen[name] {
			errs = append(errs, fmt.Errorf("loras: adapter %q listed twice", name))
		}
		seen[name] = true
	}
	preloaded := make(map[string]bool)
	for _, name := range c.PreloadedLoRAs {
		check("preloaded loras", name)
		if preloaded[name] {
			errs = append(errs, fmt.Errorf("preloaded loras: adapter %q listed twice", name))
		}
		preloaded[name] = true
	}
	if c.Profile.MaxLoRAs > 0 && len(c.PreloadedLoRAs) > c.Profile.MaxLoRAs {
		errs = append(errs, fmt.Errorf("preloaded loras: %d adapters exceed max loras %d", len(c.PreloadedLoRAs), c.Profile.MaxLoRAs))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("simulator config: %w", err)
	}
	return nil
}

// adapters returns the servable adapter names: LoRAs, then preloaded
// adapters not already listed.
func (c *Config) adapters() []string {
	out := make([]string, 0, len(c.LoRAs)+len(c.PreloadedLoRAs))
	seen := make(map[string]bool)
	for _, list := range [][]string{c.LoRAs, c.PreloadedLoRAs} {
		for _, name := range list {
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out
}
