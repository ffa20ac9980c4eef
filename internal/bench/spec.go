package bench

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/infergate/infergate/internal/scheduler"
)

// Workload types accepted by [Workload.Type].
const (
	// WorkloadSharedPrefix is groups of prompts that share a long system
	// prompt (sglang's generated-shared-prefix, inference-perf's
	// shared_prefix).
	WorkloadSharedPrefix = "shared-prefix"
	// WorkloadShareGPT is independent chats whose lengths follow
	// ShareGPT-like log-normal distributions.
	WorkloadShareGPT = "sharegpt"
	// WorkloadLoRA is chats spread over LoRA adapters by a Zipf law.
	WorkloadLoRA = "lora"
	// WorkloadLongPrompt is very large request bodies (hundreds of KB).
	WorkloadLongPrompt = "long-prompt"
	// WorkloadFixed is independent prompts of fixed length.
	WorkloadFixed = "fixed"
)

// Arrival types accepted by [Arrival.Type].
const (
	// ArrivalConstant sends at evenly spaced times.
	ArrivalConstant = "constant"
	// ArrivalPoisson sends with exponential gaps (a Poisson process).
	ArrivalPoisson = "poisson"
	// ArrivalGamma sends with gamma-distributed gaps; Burstiness < 1 is
	// burstier than Poisson.
	ArrivalGamma = "gamma"
	// ArrivalConcurrency keeps a fixed number of requests in flight.
	ArrivalConcurrency = "concurrency"
)

// Scenario kinds accepted by [Scenario.Kind].
const (
	// KindRouting compares gateway strategies on simulated replicas in
	// model time.
	KindRouting = "routing"
	// KindOverhead compares the same backends with and without the gateway
	// in wall time.
	KindOverhead = "overhead"
)

// StrategyDirect is the pseudo-strategy of an overhead run without the
// gateway: the load generator spreads requests over the replicas itself,
// round-robin.
const StrategyDirect = "direct"

// StrategyTarget labels the runs against an external endpoint
// ([Options.Target]).
const StrategyTarget = "target"

// Fleet profiles accepted by [Fleet.Profile].
const (
	// ProfileH100 is the simulator's default Llama-3.1-8B-on-H100 profile.
	ProfileH100 = "llama-3.1-8b-h100"
	// ProfileInstant answers as fast as the simulator can: a step costs
	// 1 µs and tokens cost nothing. It isolates the gateway's own cost.
	ProfileInstant = "instant"
)

// Suite is a benchmark description: shared settings and the scenarios to
// run, in order. It is read from YAML ([ParseSuite]); built-in suites are
// listed by [SuiteNames].
type Suite struct {
	// Name identifies the suite in reports.
	Name string `yaml:"name" json:"name"`
	// Description says what the suite shows.
	Description string `yaml:"description" json:"description"`
	// TimeScale is how many times faster than real time the simulated
	// replicas run in routing scenarios; the gateway's time-based settings
	// are divided by it. Default 10.
	TimeScale float64 `yaml:"timeScale" json:"timeScale"`
	// Seed drives every random choice (prompts, arrivals, simulators).
	Seed int64 `yaml:"seed" json:"seed"`
	// Model is the base model name sent in requests. Default [BaseModel],
	// which the simulated replicas serve; set it to drive a real endpoint
	// (see [Options.Target]).
	Model string `yaml:"model" json:"model"`
	// SLO is the goodput threshold.
	SLO SLO `yaml:"slo" json:"slo"`
	// Calibration runs the single-replica calibration first.
	Calibration bool `yaml:"calibration" json:"calibration"`
	// Scenarios run in order.
	Scenarios []Scenario `yaml:"scenarios" json:"scenarios"`
}

// SLO is a service-level objective: a request counts towards goodput when
// both its TTFT and its TPOT are within the limits (model time).
type SLO struct {
	// TTFT is the time-to-first-token limit.
	TTFT Duration `yaml:"ttft" json:"ttft"`
	// TPOT is the time-per-output-token limit.
	TPOT Duration `yaml:"tpot" json:"tpot"`
}

// Scenario is one comparison: a fleet, a workload and an arrival process,
// run once per strategy (and per sweep point), each time on a fresh fleet.
type Scenario struct {
	// Name identifies the scenario.
	Name string `yaml:"name" json:"name"`
	// Description says what the scenario shows.
	Description string `yaml:"description" json:"description"`
	// Kind is [KindRouting] (default) or [KindOverhead].
	Kind string `yaml:"kind" json:"kind"`
	// Strategies are the gateway strategies to compare (see
	// scheduler.Strategies); overhead scenarios also take [StrategyDirect].
	Strategies []string `yaml:"strategies" json:"strategies"`
	// Pin pins the gateway process to its own CPU and this process to the
	// others (overhead scenarios), when the machine has at least two CPUs.
	Pin bool `yaml:"pin" json:"pin"`
	// Seed, when set, replaces the scenario's seed (by default the suite's
	// seed plus the scenario's index), e.g. to give scenarios that compare
	// settings the same requests.
	Seed int64 `yaml:"seed" json:"seed,omitempty"`
	// TimeScale overrides the suite's time scale for a routing scenario:
	// heavy scenarios run slower so the host keeps up. 0 means the suite's.
	TimeScale float64 `yaml:"timeScale" json:"timeScale,omitempty"`
	// Fleet describes the simulated replicas.
	Fleet Fleet `yaml:"fleet" json:"fleet"`
	// Workload describes the requests.
	Workload Workload `yaml:"workload" json:"workload"`
	// Arrival describes when requests are sent.
	Arrival Arrival `yaml:"arrival" json:"arrival"`
	// Targets are the pass/fail criteria evaluated on this scenario.
	Targets []Target `yaml:"targets" json:"targets"`
	// Scheduler, when set, overrides the gateway's scheduler settings for
	// this scenario's gateway runs (to tune defaults with the benchmark).
	Scheduler *SchedulerOverride `yaml:"scheduler" json:"scheduler,omitempty"`
}

// SchedulerOverride replaces scheduler settings of the gateway
// configuration; unset fields keep the defaults.
type SchedulerOverride struct {
	// Weights are the scorer weights (see the gateway's scheduler.weights).
	Weights struct {
		Queue    *float64 `yaml:"queue" json:"queue,omitempty"`
		KVCache  *float64 `yaml:"kvCache" json:"kvCache,omitempty"`
		Prefix   *float64 `yaml:"prefix" json:"prefix,omitempty"`
		LoRA     *float64 `yaml:"lora" json:"lora,omitempty"`
		InFlight *float64 `yaml:"inFlight" json:"inFlight,omitempty"`
	} `yaml:"weights" json:"weights"`
	// QueueDepthThreshold replaces scheduler.queueDepthThreshold.
	QueueDepthThreshold int `yaml:"queueDepthThreshold" json:"queueDepthThreshold,omitempty"`
	// FlowQueueDepthThreshold replaces flowControl.queueDepthThreshold
	// (the dispatch gate only; the pick keeps the scheduler's).
	FlowQueueDepthThreshold int `yaml:"flowQueueDepthThreshold" json:"flowQueueDepthThreshold,omitempty"`
	// FlowMaxRequestsPerEndpoint replaces
	// flowControl.maxRequestsPerEndpoint: an endpoint counts as full for
	// dispatch at this many of the gateway's requests (the replicas'
	// batch size gates dispatch on free batch slots).
	FlowMaxRequestsPerEndpoint int `yaml:"flowMaxRequestsPerEndpoint" json:"flowMaxRequestsPerEndpoint,omitempty"`
	// FlowFairness replaces flowControl.fairness.
	FlowFairness string `yaml:"flowFairness" json:"flowFairness,omitempty"`
}

// Fleet describes identical simulated replicas.
type Fleet struct {
	// Replicas is the number of replicas. Default 4.
	Replicas int `yaml:"replicas" json:"replicas"`
	// Profile is [ProfileH100] (default) or [ProfileInstant].
	Profile string `yaml:"profile" json:"profile"`
	// NumGPUBlocks overrides the profile's KV-cache size in 16-token blocks.
	NumGPUBlocks int `yaml:"numGPUBlocks" json:"numGPUBlocks"`
	// MaxNumSeqs overrides the profile's batch size limit.
	MaxNumSeqs int `yaml:"maxNumSeqs" json:"maxNumSeqs"`
	// MaxLoRAs overrides the profile's adapter slots.
	MaxLoRAs int `yaml:"maxLoRAs" json:"maxLoRAs"`
	// LoRALoadTime overrides the profile's adapter load cost.
	LoRALoadTime Duration `yaml:"loraLoadTime" json:"loraLoadTime"`
	// Adapters is the number of LoRA adapters every replica can serve
	// (named adapter-0, adapter-1, …); none are preloaded.
	Adapters int `yaml:"adapters" json:"adapters"`
}

// Workload describes the request sequence. Only the section matching Type
// is read.
type Workload struct {
	// Type is one of the Workload* constants.
	Type string `yaml:"type" json:"type"`
	// Requests is the number of requests for every type but shared-prefix
	// (groups × prompts per group).
	Requests int `yaml:"requests" json:"requests"`
	// SharedPrefix configures [WorkloadSharedPrefix].
	SharedPrefix SharedPrefix `yaml:"sharedPrefix" json:"sharedPrefix"`
	// ShareGPT configures [WorkloadShareGPT].
	ShareGPT ShareGPT `yaml:"sharegpt" json:"sharegpt"`
	// LoRA configures [WorkloadLoRA].
	LoRA LoRA `yaml:"lora" json:"lora"`
	// LongPrompt configures [WorkloadLongPrompt].
	LongPrompt LongPrompt `yaml:"longPrompt" json:"longPrompt"`
	// Fixed configures [WorkloadFixed].
	Fixed Fixed `yaml:"fixed" json:"fixed"`
	// Classes configures [WorkloadClasses].
	Classes Classes `yaml:"classes" json:"classes"`
}

// SharedPrefix is groups × prompts per group chats; the prompts of a group
// share a system prompt, and every prompt has its own question. The
// requests are shuffled (seeded).
type SharedPrefix struct {
	Groups             int `yaml:"groups" json:"groups"`
	PromptsPerGroup    int `yaml:"promptsPerGroup" json:"promptsPerGroup"`
	SystemPromptTokens int `yaml:"systemPromptTokens" json:"systemPromptTokens"`
	QuestionTokens     int `yaml:"questionTokens" json:"questionTokens"`
	OutputTokens       int `yaml:"outputTokens" json:"outputTokens"`
}

// ShareGPT draws input and output lengths from log-normal distributions
// whose medians and spreads resemble the ShareGPT dataset, clamped to
// [Min, Max].
type ShareGPT struct {
	InputMedian  int     `yaml:"inputMedian" json:"inputMedian"`
	InputSigma   float64 `yaml:"inputSigma" json:"inputSigma"`
	OutputMedian int     `yaml:"outputMedian" json:"outputMedian"`
	OutputSigma  float64 `yaml:"outputSigma" json:"outputSigma"`
	MinTokens    int     `yaml:"minTokens" json:"minTokens"`
	MaxTokens    int     `yaml:"maxTokens" json:"maxTokens"`
}

// LoRA spreads requests over the fleet's adapters with a Zipf law of
// exponent ZipfS (adapter-0 most popular).
type LoRA struct {
	ZipfS        float64 `yaml:"zipfS" json:"zipfS"`
	InputTokens  int     `yaml:"inputTokens" json:"inputTokens"`
	OutputTokens int     `yaml:"outputTokens" json:"outputTokens"`
}

// LongPrompt is chats with a single user message of Bytes bytes. Bodies
// repeats among Distinct prompts.
type LongPrompt struct {
	Bytes        int `yaml:"bytes" json:"bytes"`
	Distinct     int `yaml:"distinct" json:"distinct"`
	OutputTokens int `yaml:"outputTokens" json:"outputTokens"`
}

// Fixed is chats with a prompt of InputTokens and OutputTokens of output.
type Fixed struct {
	InputTokens  int `yaml:"inputTokens" json:"inputTokens"`
	OutputTokens int `yaml:"outputTokens" json:"outputTokens"`
}

// Arrival describes when requests are sent. Rates are requests per second
// of model time.
type Arrival struct {
	// Type is one of the Arrival* constants.
	Type string `yaml:"type" json:"type"`
	// Rate is the request rate (constant, poisson, gamma).
	Rate float64 `yaml:"rate" json:"rate"`
	// Burstiness is the gamma shape (gamma only; 1 is Poisson, smaller is
	// burstier). Default 0.5.
	Burstiness float64 `yaml:"burstiness" json:"burstiness"`
	// Concurrency is the number of requests kept in flight (concurrency).
	Concurrency int `yaml:"concurrency" json:"concurrency"`
	// Sweep, when set, runs the scenario once per value, replacing Rate (or
	// Concurrency for the concurrency type).
	Sweep []float64 `yaml:"sweep" json:"sweep"`
}

// Target is a pass/fail criterion on a scenario's runs. The value of
// Metric for Strategy (at sweep point Point, when the scenario sweeps) is
// compared with Max or Min; with Baseline set, the compared value is the
// ratio value/baseline value (or, with Diff, the difference in the
// metric's unit).
type Target struct {
	// Name says what the target is, for the report.
	Name string `yaml:"name" json:"name"`
	// Metric is one of [MetricNames].
	Metric string `yaml:"metric" json:"metric"`
	// Strategy is the strategy under test. Default
	// [scheduler.StrategyDefault].
	Strategy string `yaml:"strategy" json:"strategy"`
	// Baseline, when set, is the strategy the value is compared with.
	Baseline string `yaml:"baseline" json:"baseline"`
	// BaselineScenario, when set, is the scenario whose Baseline run the
	// value is compared with (another workload as the reference, for
	// example the same tenant on a less loaded pool); default this one.
	// Both scenarios must run in the same invocation. Point then selects
	// only the strategy's run.
	BaselineScenario string `yaml:"baselineScenario" json:"baselineScenario,omitempty"`
	// Diff compares value − baseline instead of value / baseline.
	Diff bool `yaml:"diff" json:"diff"`
	// Point selects the sweep point (rate or concurrency).
	Point float64 `yaml:"point" json:"point"`
	// Max is the largest passing value; Min the smallest. Set one.
	Max *float64 `yaml:"max" json:"max,omitempty"`
	Min *float64 `yaml:"min" json:"min,omitempty"`
}

// Duration is a time.Duration written as a Go duration string in YAML and
// JSON.
type Duration struct {
	time.Duration
}

// UnmarshalYAML reads a duration string such as "500ms".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration string: %w", n.Line, err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration string (used by JSON and YAML).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a duration string (used by JSON).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// maxSuiteBytes caps a suite file.
const maxSuiteBytes = 1 << 20

// ParseSuite decodes a suite from YAML (unknown fields are errors), applies
// defaults and validates it, reporting every problem at once.
func ParseSuite(data []byte) (*Suite, error) {
	if len(data) > maxSuiteBytes {
		return nil, fmt.Errorf("suite is larger than %d bytes", maxSuiteBytes)
	}
	var s Suite
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode suite: %w", err)
	}
	s.applyDefaults()
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// applyDefaults fills unset fields.
func (s *Suite) applyDefaults() {
	if s.TimeScale == 0 {
		s.TimeScale = 10
	}
	if s.Model == "" {
		s.Model = BaseModel
	}
	if s.SLO.TTFT.Duration == 0 {
		s.SLO.TTFT.Duration = time.Second
	}
	if s.SLO.TPOT.Duration == 0 {
		s.SLO.TPOT.Duration = 50 * time.Millisecond
	}
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		if sc.Kind == "" {
			sc.Kind = KindRouting
		}
		if len(sc.Strategies) == 0 {
			sc.Strategies = defaultStrategies()
		}
		if sc.Fleet.Replicas == 0 {
			sc.Fleet.Replicas = 4
		}
		if sc.Fleet.Profile == "" {
			sc.Fleet.Profile = ProfileH100
		}
		if sc.Arrival.Type == ArrivalGamma && sc.Arrival.Burstiness == 0 {
			sc.Arrival.Burstiness = 0.5
		}
		if sc.Workload.Type == WorkloadLongPrompt && sc.Workload.LongPrompt.Distinct == 0 {
			sc.Workload.LongPrompt.Distinct = 8
		}
		for j := range sc.Targets {
			if sc.Targets[j].Strategy == "" {
				sc.Targets[j].Strategy = string(scheduler.StrategyDefault)
			}
		}
	}
}

// knownStrategies are the strategy names a scenario may list: the
// scheduler's strategies and [StrategyDirect].
var knownStrategies = append(strategyNames(scheduler.Strategies()), StrategyDirect)

// defaultStrategies are the strategies a routing scenario runs when it lists
// none: the scheduler's baselines, then its default strategy.
func defaultStrategies() []string {
	all := scheduler.Strategies() // the default first
	return strategyNames(append(all[1:], all[0]))
}

// strategyNames spells strategies as the suite file does.
func strategyNames(ss []scheduler.Strategy) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// validate reports every problem of the suite.
func (s *Suite) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.Name == "" {
		bad("name is required")
	}
	if !(s.TimeScale > 0) || math.IsInf(s.TimeScale, 0) {
		bad("timeScale must be positive, got %v", s.TimeScale)
	}
	if len(s.Scenarios) == 0 {
		bad("at least one scenario is required")
	}
	names := map[string]bool{}
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		p := fmt.Sprintf("scenarios[%d]", i)
		if sc.Name == "" {
			bad("%s.name is required", p)
		} else if names[sc.Name] {
			bad("%s.name %q is used twice", p, sc.Name)
		}
		names[sc.Name] = true
		if sc.Kind != KindRouting && sc.Kind != KindOverhead {
			bad("%s.kind must be %q or %q, got %q", p, KindRouting, KindOverhead, sc.Kind)
		}
		for _, st := range sc.Strategies {
			gw, ext := planeStrategy(st)
			base, mode := flowStrategy(gw)
			if !slices.Contains(knownStrategies, base) || (mode != "" && (base == StrategyDirect || !slices.Contains(flowModes, mode))) ||
				(ext && (base == StrategyDirect || sc.Kind != KindRouting)) {
				bad("%s.strategies: unknown strategy %q", p, st)
			}
			if st == StrategyDirect && sc.Kind != KindOverhead {
				bad("%s.strategies: %q is only for overhead scenarios", p, st)
			}
		}
		if sc.TimeScale < 0 || math.IsInf(sc.TimeScale, 0) || (sc.TimeScale > 0 && sc.Kind == KindOverhead) {
			bad("%s.timeScale must be positive, and is not for overhead scenarios (they run at 1), got %v", p, sc.TimeScale)
		}
		if sc.Fleet.Replicas < 1 || sc.Fleet.Replicas > 64 {
			bad("%s.fleet.replicas must be 1..64, got %d", p, sc.Fleet.Replicas)
		}
		if sc.Fleet.Profile != ProfileH100 && sc.Fleet.Profile != ProfileInstant {
			bad("%s.fleet.profile must be %q or %q, got %q", p, ProfileH100, ProfileInstant, sc.Fleet.Profile)
		}
		if sc.Fleet.NumGPUBlocks < 0 || sc.Fleet.MaxNumSeqs < 0 || sc.Fleet.MaxLoRAs < 0 || sc.Fleet.Adapters < 0 {
			bad("%s.fleet: sizes must not be negative", p)
		}
		errs = append(errs, sc.Workload.validate(p+".workload", sc.Fleet)...)
		errs = append(errs, sc.Arrival.validate(p+".arrival")...)
		for j, t := range sc.Targets {
			tp := fmt.Sprintf("%s.targets[%d]", p, j)
			if !slices.Contains(MetricNames(), t.Metric) && !isClassMetric(t.Metric) {
				bad("%s.metric: unknown metric %q", tp, t.Metric)
			}
			if !slices.Contains(sc.Strategies, t.Strategy) {
				bad("%s.strategy %q is not run by the scenario", tp, t.Strategy)
			}
			bs := sc
			if t.BaselineScenario != "" {
				bs = s.scenarioNamed(t.BaselineScenario)
			}
			switch {
			case t.BaselineScenario != "" && t.Baseline == "":
				bad("%s.baselineScenario needs a baseline strategy", tp)
			case bs == nil:
				bad("%s.baselineScenario %q is not in the suite", tp, t.BaselineScenario)
			case t.Baseline != "" && !slices.Contains(bs.Strategies, t.Baseline):
				bad("%s.baseline %q is not run by scenario %q", tp, t.Baseline, bs.Name)
			}
			if (t.Max == nil) == (t.Min == nil) {
				bad("%s: set exactly one of max and min", tp)
			}
			if len(sc.Arrival.Sweep) > 0 && !slices.Contains(sc.Arrival.Sweep, t.Point) {
				bad("%s.point %v is not a sweep point", tp, t.Point)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("suite %q: %w", s.Name, err)
	}
	return nil
}

func (w *Workload) validate(p string, f Fleet) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	positive := func(field string, v int) {
		if v <= 0 {
			bad("%s.%s must be positive, got %d", p, field, v)
		}
	}
	switch w.Type {
	case WorkloadSharedPrefix:
		sp := w.SharedPrefix
		positive("sharedPrefix.groups", sp.Groups)
		positive("sharedPrefix.promptsPerGroup", sp.PromptsPerGroup)
		positive("sharedPrefix.systemPromptTokens", sp.SystemPromptTokens)
		positive("sharedPrefix.questionTokens", sp.QuestionTokens)
		positive("sharedPrefix.outputTokens", sp.OutputTokens)
	case WorkloadShareGPT:
		positive("requests", w.Requests)
		g := w.ShareGPT
		positive("sharegpt.inputMedian", g.InputMedian)
		positive("sharegpt.outputMedian", g.OutputMedian)
		positive("sharegpt.minTokens", g.MinTokens)
		if g.MaxTokens < g.MinTokens {
			bad("%s.sharegpt.maxTokens must be >= minTokens", p)
		}
		if g.InputSigma < 0 || g.OutputSigma < 0 {
			bad("%s.sharegpt sigmas must not be negative", p)
		}
	case WorkloadLoRA:
		positive("requests", w.Requests)
		positive("lora.inputTokens", w.LoRA.InputTokens)
		positive("lora.outputTokens", w.LoRA.OutputTokens)
		if !(w.LoRA.ZipfS > 1) {
			bad("%s.lora.zipfS must be > 1, got %v", p, w.LoRA.ZipfS)
		}
		if f.Adapters < 1 {
			bad("%s: the lora workload needs fleet.adapters >= 1", p)
		}
	case WorkloadLongPrompt:
		positive("requests", w.Requests)
		positive("longPrompt.bytes", w.LongPrompt.Bytes)
		positive("longPrompt.distinct", w.LongPrompt.Distinct)
		positive("longPrompt.outputTokens", w.LongPrompt.OutputTokens)
	case WorkloadFixed:
		positive("requests", w.Requests)
		positive("fixed.inputTokens", w.Fixed.InputTokens)
		positive("fixed.outputTokens", w.Fixed.OutputTokens)
	case WorkloadClasses:
		positive("requests", w.Requests)
		errs = append(errs, validateClasses(p, w.Classes)...)
	default:
		bad("%s.type: unknown workload %q", p, w.Type)
	}
	return errs
}

func (a *Arrival) validate(p string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	finitePositive := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	switch a.Type {
	case ArrivalConstant, ArrivalPoisson, ArrivalGamma:
		if len(a.Sweep) == 0 && !finitePositive(a.Rate) {
			bad("%s.rate must be positive, got %v", p, a.Rate)
		}
		if a.Type == ArrivalGamma && !finitePositive(a.Burstiness) {
			bad("%s.burstiness must be positive, got %v", p, a.Burstiness)
		}
	case ArrivalConcurrency:
		if len(a.Sweep) == 0 && a.Concurrency < 1 {
			bad("%s.concurrency must be >= 1, got %d", p, a.Concurrency)
		}
		for _, v := range a.Sweep {
			if v != math.Trunc(v) {
				bad("%s.sweep: concurrency %v is not a whole number", p, v)
			}
		}
	default:
		bad("%s.type: unknown arrival %q", p, a.Type)
	}
	for _, v := range a.Sweep {
		if !finitePositive(v) {
			bad("%s.sweep values must be positive, got %v", p, v)
		}
	}
	return errs
}

// points returns the sweep points of the arrival, or the single rate or
// concurrency.
func (a *Arrival) points() []float64 {
	if len(a.Sweep) > 0 {
		return a.Sweep
	}
	if a.Type == ArrivalConcurrency {
		return []float64{float64(a.Concurrency)}
	}
	return []float64{a.Rate}
}

// at returns the arrival with its rate (or concurrency) set to point.
func (a Arrival) at(point float64) Arrival {
	if a.Type == ArrivalConcurrency {
		a.Concurrency = int(point)
	} else {
		a.Rate = point
	}
	a.Sweep = nil
	return a
}

// scenarioNamed returns s's scenario called name, or nil.
func (s *Suite) scenarioNamed(name string) *Scenario {
	for i := range s.Scenarios {
		if s.Scenarios[i].Name == name {
			return &s.Scenarios[i]
		}
	}
	return nil
}

// Select keeps only the named scenarios, in suite order; no names keeps
// all. Unknown names are an error.
func (s *Suite) Select(names ...string) error {
	if len(names) == 0 {
		return nil
	}
	var kept []Scenario
	for _, sc := range s.Scenarios {
		if slices.Contains(names, sc.Name) {
			kept = append(kept, sc)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(kept, func(sc Scenario) bool { return sc.Name == n }) {
			return fmt.Errorf("suite %q has no scenario %q", s.Name, n)
		}
	}
	s.Scenarios = kept
	return nil
}
