package bench

import (
	"context"
	"encoding/json"
	"image/png"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// testGatewayCommand runs this test binary as the gateway (see TestMain).
func testGatewayCommand(configPath string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), gatewayEnv+"="+configPath)
	return cmd
}

// testStandInCommand runs this test binary as the Envoy stand-in (see
// TestMain).
func testStandInCommand(args []string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), standInEnv+"=1")
	return cmd
}

// TestSmokeSuite runs the toy "smoke" suite end to end, with the gateway in
// this process (TestProcessGateway covers the child-process gateway), and
// checks that the report is complete and internally consistent. It checks
// no performance numbers.
func TestSmokeSuite(t *testing.T) {
	suite := smokeSuite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Suite: suite, Command: "go test", Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	dir := t.TempDir()
	if err := WriteReport(dir, rep); err != nil {
		t.Fatalf("WriteReport: %v", err)
	}
	for _, sc := range rep.Scenarios {
		for _, r := range sc.Runs {
			if r.Failed != "" {
				t.Fatalf("%s/%s failed: %s", sc.Name, r.Strategy, r.Failed)
			}
		}
	}
	checkReportFiles(t, dir, rep)
	checkConsistency(t, suite, rep)
}

// checkReportFiles checks that the folder holds a JSON report equal to rep,
// a Markdown summary and decodable PNG plots.
func checkReportFiles(t *testing.T, dir string, rep *Report) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("report.json does not parse: %v", err)
	}
	if back.Suite != rep.Suite || len(back.Scenarios) != len(rep.Scenarios) || len(back.Targets) != len(rep.Targets) {
		t.Errorf("report.json holds suite %q with %d scenarios and %d targets, want %q, %d, %d",
			back.Suite, len(back.Scenarios), len(back.Targets), rep.Suite, len(rep.Scenarios), len(rep.Targets))
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil || len(md) == 0 {
		t.Errorf("summary.md missing or empty (err %v)", err)
	}
	// Two single-point routing scenarios get a CDF and a throughput plot
	// each, the sweep a latency-versus-rate plot.
	if len(rep.Plots) != 5 {
		t.Errorf("report has plots %v, want 5", rep.Plots)
	}
	for _, p := range rep.Plots {
		f, err := os.Open(filepath.Join(dir, p))
		if err != nil {
			t.Errorf("plot %s: %v", p, err)
			continue
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("plot %s is not a PNG: %v", p, err)
		}
		f.Close()
	}
}

// checkConsistency checks what must hold in any report: every strategy of
// a scenario ran the same requests, counts add up, percentiles are ordered
// and ratios are in range.
func checkConsistency(t *testing.T, suite *Suite, rep *Report) {
	t.Helper()
	if len(rep.Scenarios) != len(suite.Scenarios) {
		t.Fatalf("report has %d scenarios, suite %d", len(rep.Scenarios), len(suite.Scenarios))
	}
	for i, sc := range rep.Scenarios {
		spec := suite.Scenarios[i]
		wantRuns := len(spec.Strategies) * len(spec.Arrival.points())
		if len(sc.Runs) != wantRuns {
			t.Errorf("%s: %d runs, want %d", sc.Name, len(sc.Runs), wantRuns)
		}
		for _, r := range sc.Runs {
			name := sc.Name + "/" + r.Strategy
			if r.Failed != "" {
				t.Errorf("%s failed: %s", name, r.Failed)
				continue
			}
			if r.Fingerprint != sc.Runs[0].Fingerprint {
				t.Errorf("%s sent requests %s, %s sent %s", name, r.Fingerprint, sc.Runs[0].Strategy, sc.Runs[0].Fingerprint)
			}
			errs := 0
			for _, n := range r.Errors {
				errs += n
			}
			if r.Completed+errs != r.Requests || r.Completed != r.Requests {
				t.Errorf("%s: %d completed + %d errors (%v), want all %d completed", name, r.Completed, errs, r.Errors, r.Requests)
			}
			served := 0
			for _, n := range r.PerReplica {
				served += n
			}
			if served != r.Completed || len(r.PerReplica) > spec.Fleet.Replicas {
				t.Errorf("%s: replicas served %v, want %d requests over at most %d replicas", name, r.PerReplica, r.Completed, spec.Fleet.Replicas)
			}
			for metric, l := range map[string]Latency{"TTFT": r.TTFT, "TPOT": r.TPOT, "ITL": r.ITL, "E2E": r.E2E} {
				// ITL is empty when every stream arrived in one read.
				if (l.N > 0 || metric != "ITL") && !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.Mean > 0) {
					t.Errorf("%s %s percentiles not ordered: %+v", name, metric, l)
				}
			}
			if r.TTFT.N != r.Completed || r.E2E.N != r.Completed {
				t.Errorf("%s: %d TTFT and %d E2E samples for %d completed requests", name, r.TTFT.N, r.E2E.N, r.Completed)
			}
			if r.TTFT.P99 > r.E2E.P99 || len(r.TTFTSamples) != r.Completed {
				t.Errorf("%s: TTFT p99 %v > E2E p99 %v, or %d TTFT samples for %d requests", name, r.TTFT.P99, r.E2E.P99, len(r.TTFTSamples), r.Completed)
			}
			if !(r.RequestsPerSecond > 0 && r.OutputTokensPerSec > 0 && r.GoodputFraction >= 0 && r.GoodputFraction <= 1) {
				t.Errorf("%s: rates out of range: %v req/s, %v tok/s, goodput %v", name, r.RequestsPerSecond, r.OutputTokensPerSec, r.GoodputFraction)
			}
			if !(r.PrefixHitRate >= 0 && r.PrefixHitRate <= 1 && r.HitCeiling <= 1) {
				t.Errorf("%s: hit rate %v, ceiling %v out of range", name, r.PrefixHitRate, r.HitCeiling)
			}
			if spec.Workload.Type == WorkloadSharedPrefix && r.HitCeiling <= 0 {
				t.Errorf("%s: no hit-rate ceiling for a shared-prefix workload", name)
			}
			if d := r.PrefixHitRate - r.UsageCachedRate; d > 0.02 || d < -0.02 {
				t.Errorf("%s: replicas' hit rate %v disagrees with the responses' cached tokens %v", name, r.PrefixHitRate, r.UsageCachedRate)
			}
			if r.Gateway != nil {
				t.Errorf("%s: gateway usage %+v reported for an in-process gateway", name, r.Gateway)
			}
		}
	}
	wantTargets := 0
	for _, sc := range suite.Scenarios {
		wantTargets += len(sc.Targets)
	}
	if len(rep.Targets) != wantTargets {
		t.Errorf("%d targets evaluated, want %d", len(rep.Targets), wantTargets)
	}
	for _, tr := range rep.Targets {
		if tr.Missing != "" {
			t.Errorf("target %s/%s not measured: %s", tr.Scenario, tr.Target.Name, tr.Missing)
		}
	}
}

// TestProcessGateway runs one run with the gateway as a child process (this
// test binary, see TestMain) and checks that its resource use is measured.
func TestProcessGateway(t *testing.T) {
	sc, reqs := processScenario(t)
	r := &runner{o: Options{Gateway: testGatewayCommand}, log: slog.New(slog.DiscardHandler), dir: t.TempDir()}
	res, err := r.runOne(t.Context(), runSpec{
		scenario: sc, strategy: "least-request", point: 4, reqs: reqs, timeScale: 1, seed: 1, gatewayCPU: -1,
	}, nil)
	if err != nil {
		t.Fatalf("runOne: %v", err)
	}
	if res.Completed != len(reqs) {
		t.Errorf("%d of %d requests completed: %v", res.Completed, len(reqs), res.Errors)
	}
	if res.Gateway == nil || res.Gateway.PeakRSSMiB <= 0 || res.Gateway.CPUSeconds <= 0 {
		t.Errorf("gateway usage %+v, want the child process's CPU time and peak RSS", res.Gateway)
	}
	if len(res.PerReplica) != 2 {
		t.Errorf("least-request used replicas %v, want both", res.PerReplica)
	}
}

// TestTargetMode drives an external endpoint (here a simulated replica)
// with a suite's workload, without fleets or a gateway of its own.
func TestTargetMode(t *testing.T) {
	fl, err := startFleet(Fleet{Replicas: 1, Profile: ProfileInstant}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.stop()
	suite, err := ParseSuite([]byte(`name: t
scenarios:
  - name: fixed
    workload: {type: fixed, requests: 10, fixed: {inputTokens: 8, outputTokens: 3}}
    arrival: {type: constant, rate: 200}
`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(t.Context(), Options{Suite: suite, Target: "http://" + fl.addrs[0] + "/"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	runs := rep.Scenarios[0].Runs
	if len(runs) != 1 || runs[0].Strategy != StrategyTarget || runs[0].Completed != 10 || runs[0].OutputTokensPerSec <= 0 {
		t.Fatalf("runs = %+v, want one target run with 10 completed requests", runs)
	}
	if rep.TimeScale != 1 || len(rep.Targets) != 0 || rep.Calibration != nil {
		t.Errorf("target report: time scale %v, %d targets, calibration %v; want 1, none, none", rep.TimeScale, len(rep.Targets), rep.Calibration)
	}
}

// processScenario is a short routing scenario on two instant replicas, and
// its requests, for the tests that run one gateway as a process.
func processScenario(t *testing.T) (*Scenario, []Request) {
	t.Helper()
	sc := &Scenario{
		Name:     "process",
		Kind:     KindRouting,
		Fleet:    Fleet{Replicas: 2, Profile: ProfileInstant},
		Workload: Workload{Type: WorkloadFixed, Requests: 20, Fixed: Fixed{InputTokens: 16, OutputTokens: 4}},
		Arrival:  Arrival{Type: ArrivalConcurrency, Concurrency: 4},
	}
	reqs, err := generate(sc.Workload, sc.Fleet, BaseModel, 1)
	if err != nil {
		t.Fatal(err)
	}
	return sc, reqs
}

// smokeSuite returns the built-in smoke suite, parsed.
func smokeSuite(t *testing.T) *Suite {
	t.Helper()
	data, err := BuiltinSuite("smoke")
	if err != nil {
		t.Fatal(err)
	}
	suite, err := ParseSuite(data)
	if err != nil {
		t.Fatal(err)
	}
	return suite
}

// instantFleet starts two instant-answer replicas, stopped when the test
// ends.
func instantFleet(t *testing.T) *fleet {
	t.Helper()
	fl, err := startFleet(Fleet{Replicas: 2, Profile: ProfileInstant}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := fl.stop(); err != nil {
			t.Error(err)
		}
	})
	return fl
}
