package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"time"
)

// Options configure [Run].
type Options struct {
	// Suite is the benchmark to run.
	Suite *Suite
	// Gateway starts the gateway as a child process, which lets the report
	// measure its CPU time and peak RSS; nil runs the gateway in this
	// process (not measured).
	Gateway GatewayCommand
	// StandIn starts the Go Envoy stand-in as a child process; the ext_proc
	// arms (ExtProc, CompareExtProc) of a process gateway need it, so that
	// their data plane, like the native proxy, runs outside the process of
	// the load generator and the simulated replicas.
	StandIn StandInCommand
	// Progress receives a progress bar; nil draws none.
	Progress io.Writer
	// NoPin disables CPU pinning even where a scenario asks for it.
	NoPin bool
	// TimeScale, when positive, replaces the time scale of the suite and of
	// every routing scenario.
	TimeScale float64
	// Target, when set, is the base URL (http://host:port) of an
	// OpenAI-compatible endpoint, a gateway or a replica, that receives
	// every scenario's workload instead of simulated fleets: each scenario
	// runs once per sweep point in wall time, without calibration,
	// simulator metrics or targets.
	Target string
	// ExtProc sends every gateway run's requests through the gateway's
	// ext_proc picker behind the Go Envoy stand-in (internal/envoystandin,
	// plaintext) instead of the native proxy, to compare routing quality
	// through ext_proc with the proxy's.
	ExtProc bool
	// CompareExtProc adds to every routing scenario, for each strategy
	// under test (a target's strategy), an arm running it through the
	// gateway's ext_proc picker behind the stand-in ("<strategy> via
	// ext_proc", see [ExtProcArmSuffix]) on the same fleet, requests and
	// arrival times, and compares the targets of the two arms in
	// [Report.PlaneComparisons].
	CompareExtProc bool
	// Command is the command line recorded in the report.
	Command string
	// Logger receives progress logs; nil discards.
	Logger *slog.Logger
}

// harnessGCPercent is the GOGC of this process while a suite runs.
const harnessGCPercent = 400

// runner carries the state of one suite run.
type runner struct {
	o   Options
	log *slog.Logger
	dir string // scratch directory for gateway configs
}

// Run runs every scenario of the suite (and the calibration, if asked) and
// returns the report, with the targets evaluated. A run that fails is
// recorded as failed and the suite goes on; Run returns an error only when
// it cannot start or ctx is cancelled.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Suite == nil {
		return nil, fmt.Errorf("bench: no suite")
	}
	if o.CompareExtProc && (o.ExtProc || o.Target != "") {
		return nil, fmt.Errorf("bench: comparing the planes needs the native proxy arms (not with ExtProc or Target)")
	}
	if (o.CompareExtProc || o.ExtProc) && o.Gateway != nil && o.StandIn == nil {
		return nil, fmt.Errorf("bench: ext_proc arms with a gateway process need the stand-in command (Options.StandIn)")
	}
	if o.CompareExtProc {
		o.Suite = addExtProcArms(o.Suite)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "infergate-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)
	r := &runner{o: o, log: log, dir: dir}
	s := o.Suite
	// The load generator and the simulated replicas share this process and
	// allocate for every streamed token; with the default GOGC the
	// collector's mark phase keeps taking one of two CPUs, which shows up
	// as latency spikes of the harness, not of the gateway. A larger heap
	// target makes collections rare. The gateway child process keeps the
	// runtime defaults (it is what is measured).
	defer debug.SetGCPercent(debug.SetGCPercent(harnessGCPercent))
	rep := &Report{
		Suite:       s.Name,
		Description: s.Description,
		Command:     o.Command,
		StartedAt:   time.Now().UTC(),
		Machine:     describeMachine(),
		TimeScale:   s.TimeScale,
		Seed:        s.Seed,
		SLO:         s.SLO,
		GatewayMode: "in-process",
	}
	if o.Gateway != nil {
		rep.GatewayMode = "process"
	}
	if o.TimeScale > 0 {
		rep.TimeScale = o.TimeScale
	}
	reqsets := make([][]Request, len(s.Scenarios))
	total := 0
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		reqs, err := generate(sc.Workload, sc.Fleet, s.Model, sc.seed(s, i))
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
		}
		reqsets[i] = reqs
		total += len(reqs) * len(sc.Strategies) * len(sc.Arrival.points())
	}
	if o.Target != "" {
		rep.GatewayMode = "external target " + o.Target
		rep.TimeScale = 1
		total = 0
		for i := range s.Scenarios {
			total += len(reqsets[i]) * len(s.Scenarios[i].Arrival.points())
		}
	} else if s.Calibration {
		total += calibrationRequests
	}
	bar := newProgress(o.Progress, total)
	defer bar.finish()
	start := time.Now()

	if s.Calibration && o.Target == "" {
		bar.describe("calibration")
		cal, err := r.calibrate(ctx, s.TimeScale, s.Seed, bar.add)
		if err != nil {
			return nil, err
		}
		rep.Calibration = cal
	}
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		res, err := r.runScenario(ctx, sc, reqsets[i], s, sc.seed(s, i), bar)
		if err != nil {
			return nil, err
		}
		rep.Scenarios = append(rep.Scenarios, res)
	}
	rep.WallSeconds = time.Since(start).Seconds()
	if o.Target == "" {
		rep.Targets = evaluateTargets(s, rep)
		rep.PlaneComparisons = comparePlanes(s, rep)
	}
	return rep, nil
}

// runScenario runs every strategy at every sweep point of sc.
func (r *runner) runScenario(ctx context.Context, sc *Scenario, reqs []Request, s *Suite, seed int64, bar *progress) (*ScenarioResult, error) {
	scale := s.TimeScale
	if sc.TimeScale > 0 {
		scale = sc.TimeScale
	}
	if r.o.TimeScale > 0 {
		scale = r.o.TimeScale
	}
	strategies := sc.Strategies
	if sc.Kind == KindOverhead || r.o.Target != "" {
		scale = 1
	}
	if r.o.Target != "" {
		strategies = []string{StrategyTarget}
	}
	res := &ScenarioResult{
		Name:        sc.Name,
		Description: sc.Description,
		Kind:        sc.Kind,
		Fleet:       sc.Fleet,
		Workload:    sc.Workload,
		Arrival:     sc.Arrival,
		TimeScale:   scale,
	}
	gatewayCPU := -1
	if sc.Pin && !r.o.NoPin && r.o.Gateway != nil && r.o.Target == "" {
		cpus := onlineCPUs()
		if len(cpus) >= 2 {
			gatewayCPU = cpus[len(cpus)-1]
			restore, err := pinSelf(cpus[:len(cpus)-1], cpus)
			if err != nil {
				return nil, err
			}
			defer restore()
			res.Pinned = true
		}
	}
	for _, point := range sc.Arrival.points() {
		for _, st := range strategies {
			bar.describe(fmt.Sprintf("%s %s @%g", sc.Name, st, point))
			spec := runSpec{
				scenario:   sc,
				strategy:   st,
				point:      point,
				reqs:       reqs,
				timeScale:  scale,
				seed:       seed,
				slo:        s.SLO,
				gatewayCPU: gatewayCPU,
			}
			if st == StrategyDirect {
				spec.gatewayCPU = -1
			}
			run, err := r.runOne(ctx, spec, bar.add)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil {
				r.log.Warn("run failed", "scenario", sc.Name, "strategy", st, "point", point, "err", err)
				run = &RunResult{Strategy: st, Point: point, Failed: err.Error(), Requests: len(reqs), Fingerprint: fingerprint(reqs)}
			}
			res.Runs = append(res.Runs, run)
			r.log.Info("run done", "scenario", sc.Name, "strategy", st, "point", point,
				"ttft_p90_ms", run.TTFT.P90, "out_tok_s", run.OutputTokensPerSec, "hit_rate", run.PrefixHitRate)
		}
	}
	return res, nil
}

// seed returns the seed of scenario i of s.
func (sc *Scenario) seed(s *Suite, i int) int64 {
	if sc.Seed != 0 {
		return sc.Seed
	}
	return s.Seed + int64(i)
}

// startGateway starts a gateway for a run, as a process when the options
// say how, else in this process.
func (r *runner) startGateway(addrs []string, strategy string, timeScale float64, o *SchedulerOverride, cpu int) (gatewayInstance, error) {
	strategy, ext := gatewayArm(strategy)
	if r.o.ExtProc || ext {
		return startExtProcGateway(r.o.Gateway, r.o.StandIn, r.dir, addrs, strategy, timeScale, o, cpu, r.log)
	}
	if r.o.Gateway == nil {
		return startInProcessGateway(addrs, strategy, timeScale, o)
	}
	return startProcessGateway(r.o.Gateway, r.dir, addrs, strategy, timeScale, o, cpu)
}

// pinSelf pins this process to cpus and sets GOMAXPROCS to match; the
// returned function restores all CPUs.
func pinSelf(cpus, all []int) (func(), error) {
	if err := pinProcess(os.Getpid(), cpus); err != nil {
		return nil, err
	}
	prev := runtime.GOMAXPROCS(len(cpus))
	return func() {
		_ = pinProcess(os.Getpid(), all)
		runtime.GOMAXPROCS(prev)
	}, nil
}

// findRun returns the run of strategy at point, or nil.
func (sr *ScenarioResult) findRun(strategy string, point float64) *RunResult {
	i := slices.IndexFunc(sr.Runs, func(r *RunResult) bool {
		return r.Strategy == strategy && (point == 0 || r.Point == point)
	})
	if i < 0 {
		return nil
	}
	return sr.Runs[i]
}
