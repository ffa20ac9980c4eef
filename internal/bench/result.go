package bench

import "time"

// Report is everything one suite run measured. It is written as
// report.json; the Markdown summary, the terminal table and the plots are
// derived from it.
type Report struct {
	Suite       string    `json:"suite"`
	Description string    `json:"description"`
	Command     string    `json:"command"`
	StartedAt   time.Time `json:"startedAt"`
	WallSeconds float64   `json:"wallSeconds"`
	Machine     Machine   `json:"machine"`
	// TimeScale is the simulated-time speed-up of the routing scenarios.
	TimeScale float64 `json:"timeScale"`
	Seed      int64   `json:"seed"`
	SLO       SLO     `json:"slo"`
	// GatewayMode is "process" (CPU and RSS measured) or "in-process".
	GatewayMode string            `json:"gatewayMode"`
	Calibration *Calibration      `json:"calibration,omitempty"`
	Scenarios   []*ScenarioResult `json:"scenarios"`
	Targets     []TargetResult    `json:"targets"`
	// PlaneComparisons compare the targets of strategies that also ran
	// through ext_proc ("<strategy> via ext_proc" arms) with their native
	// proxy runs; empty when no scenario had such an arm.
	PlaneComparisons []PlaneComparison `json:"planeComparisons,omitempty"`
	// Plots are the PNG files written next to the report, relative names.
	Plots []string `json:"plots,omitempty"`
}

// Machine describes where the suite ran.
type Machine struct {
	CPU         string `json:"cpu"`
	CPUs        int    `json:"cpus"`
	OS          string `json:"os"`
	Kernel      string `json:"kernel"`
	GoVersion   string `json:"goVersion"`
	LoadAverage string `json:"loadAverageAtStart"`
}

// ScenarioResult holds the runs of one scenario.
type ScenarioResult struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Kind        string   `json:"kind"`
	Fleet       Fleet    `json:"fleet"`
	Workload    Workload `json:"workload"`
	Arrival     Arrival  `json:"arrival"`
	// TimeScale is the speed-up used: the suite's for routing scenarios,
	// 1 for overhead scenarios.
	TimeScale float64 `json:"timeScale"`
	// Pinned reports whether the gateway had a CPU of its own.
	Pinned bool         `json:"pinned"`
	Runs   []*RunResult `json:"runs"`
}

// RunResult is one strategy at one sweep point on a fresh fleet. Latencies
// and rates are in model time (wall time × time scale).
type RunResult struct {
	Strategy string  `json:"strategy"`
	Point    float64 `json:"point"`
	// Plane is the gateway's data plane in this run: [PlaneNative] or
	// [PlaneExtProcStandIn]; empty without a gateway.
	Plane string `json:"plane,omitempty"`
	// Failed is set when the run could not be carried out; nothing else
	// is then meaningful.
	Failed string `json:"failed,omitempty"`
	// Fingerprint identifies the request sequence sent: equal across the
	// strategies of a scenario.
	Fingerprint string `json:"fingerprint"`
	Requests    int    `json:"requests"`
	Completed   int    `json:"completed"`
	// Errors counts failed requests by HTTP status or failure class.
	Errors map[string]int `json:"errors"`
	// Shed counts 429 answers (load shedding); they are also in Errors.
	Shed int `json:"shed"`

	DurationSeconds    float64 `json:"durationSeconds"`
	WallSeconds        float64 `json:"wallSeconds"`
	RequestsPerSecond  float64 `json:"requestsPerSecond"`
	OutputTokensPerSec float64 `json:"outputTokensPerSecond"`
	InputTokensPerSec  float64 `json:"inputTokensPerSecond"`
	TTFT               Latency `json:"ttft"`
	TPOT               Latency `json:"tpot"`
	ITL                Latency `json:"itl"`
	E2E                Latency `json:"e2e"`
	// EngineTTFT is TTFT as the replicas measured it in model time (from
	// arrival at the engine; no network, gateway or host delays), estimated
	// from their histograms' buckets; Mean and N are not set.
	EngineTTFT *Latency `json:"engineTtft,omitempty"`
	// Goodput is completed requests per second meeting the SLO;
	// GoodputFraction is their share of all requests. For a classes
	// workload sent on a schedule, "per second" is per second of the
	// arrival window (ArrivalWindowSeconds, the same for every strategy
	// of the scenario), otherwise of the run (DurationSeconds).
	Goodput         float64 `json:"goodput"`
	GoodputFraction float64 `json:"goodputFraction"`
	// GoodputPerRunSecond is the same count per second of the whole run,
	// until the last answer (classes workloads only).
	GoodputPerRunSecond float64 `json:"goodputPerRunSecond,omitempty"`
	// ArrivalWindowSeconds is the model time from the first scheduled
	// send to the last (0 for closed-loop arrival).
	ArrivalWindowSeconds float64 `json:"arrivalWindowSeconds,omitempty"`

	// PrefixHitRate is hits/queries, in prompt tokens, from the
	// simulators' counters (from the responses' usage for an external
	// target); HitCeiling is the shared-prefix workload's
	// best possible rate (0 for other workloads).
	PrefixHitRate float64 `json:"prefixHitRate"`
	// UsageCachedRate is the same ratio from the responses' usage
	// (cached_tokens ÷ prompt_tokens of completed requests).
	UsageCachedRate float64 `json:"usageCachedRate"`
	HitCeiling      float64 `json:"hitCeiling,omitempty"`
	PromptTokens    float64 `json:"promptTokensQueried"`
	// KVUsageMean and KVUsagePeak are sampled from the simulators' gauges
	// (mean over replicas and samples; highest replica sample).
	KVUsageMean float64 `json:"kvUsageMean"`
	KVUsagePeak float64 `json:"kvUsagePeak"`
	// WaitingPeak is the highest sampled waiting queue of any replica.
	WaitingPeak float64 `json:"waitingPeak"`
	Preemptions float64 `json:"preemptions"`
	// PerReplica counts completed requests by serving replica.
	PerReplica map[string]int `json:"perReplica"`
	// SendLagMaxMs is how late (model ms) the load generator sent its
	// latest request compared with the schedule: large values mean the
	// host could not keep up.
	SendLagMaxMs float64 `json:"sendLagMaxMs"`

	// Gateway is the gateway's own resource use (nil for direct runs or an
	// in-process gateway).
	Gateway *GatewayUsage `json:"gateway,omitempty"`
	// DataPlane is the Envoy stand-in's own resource use in an ext_proc
	// arm whose stand-in runs as a process (nil otherwise; its scrape
	// errors are not counted); Gateway is then the picker's.
	DataPlane *GatewayUsage `json:"dataPlane,omitempty"`
	// PlaneLatency is what the ext_proc data plane added to the way to
	// the first token in an ext_proc arm (nil otherwise).
	PlaneLatency *PlaneLatency `json:"planeLatency,omitempty"`
	// Classes are the per-class results of a classes workload, by class
	// name (nil for other workloads); Goodput then counts requests within
	// their own class's SLO.
	Classes map[string]*ClassResult `json:"classes,omitempty"`
	// TTFTSamples are the completed requests' TTFTs in ms, sorted (for the
	// CDF plot).
	TTFTSamples []float64 `json:"ttftSamplesMs,omitempty"`
}

// GatewayUsage is the gateway process's resource use during one run.
type GatewayUsage struct {
	// CPUSeconds is wall-clock CPU time (user+system) used while the load
	// ran.
	CPUSeconds float64 `json:"cpuSeconds"`
	// CPUMsPerRequest is CPUSeconds per request sent, in ms.
	CPUMsPerRequest float64 `json:"cpuMsPerRequest"`
	// PeakRSSMiB is the process's peak resident set size.
	PeakRSSMiB float64 `json:"peakRssMiB"`
	// ScrapeErrors counts failed metric scrapes of the replicas.
	ScrapeErrors float64 `json:"scrapeErrors"`
}

// TargetResult is one target's verdict.
type TargetResult struct {
	Scenario string  `json:"scenario"`
	Target   Target  `json:"target"`
	Value    float64 `json:"value"`
	// BaselineValue is the baseline strategy's value (when compared).
	BaselineValue float64 `json:"baselineValue,omitempty"`
	// Compared is the number held against Max or Min: the value, the
	// ratio value/baseline or the difference value−baseline.
	Compared float64 `json:"compared"`
	Met      bool    `json:"met"`
	// Missing is set when a run the target needs is absent or failed.
	Missing string `json:"missing,omitempty"`
}
