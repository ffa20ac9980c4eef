package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAddExtProcArms(t *testing.T) {
	t.Parallel()
	data, err := BuiltinSuite("standard")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSuite(data)
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(s.Scenarios[0].Strategies)
	c := addExtProcArms(s)
	if !slices.Equal(s.Scenarios[0].Strategies, before) {
		t.Fatalf("the caller's suite changed: %v", s.Scenarios[0].Strategies)
	}
	want := map[string][]string{
		// Targets of the default strategy: its arm follows it.
		"shared-prefix": {"round-robin", "random", "least-request", "default", "default via ext_proc"},
		// No target, but the default strategy runs.
		"shared-prefix-sweep": {"round-robin", "default", "default via ext_proc"},
	}
	for _, sc := range c.Scenarios {
		if w, ok := want[sc.Name]; ok && !slices.Equal(sc.Strategies, w) {
			t.Errorf("%s: strategies %q, want %q", sc.Name, sc.Strategies, w)
		}
	}
	if err := c.validate(); err != nil {
		t.Fatalf("the suite with ext_proc arms does not validate: %v", err)
	}
	if again := addExtProcArms(c); !slices.Equal(again.Scenarios[0].Strategies, c.Scenarios[0].Strategies) {
		t.Errorf("adding the arms twice: %q", again.Scenarios[0].Strategies)
	}
}

func TestExtProcArmNames(t *testing.T) {
	t.Parallel()
	const head = "name: s\nscenarios:\n  - name: a\n    workload: {type: shared-prefix, sharedPrefix: {groups: 2, promptsPerGroup: 2, systemPromptTokens: 64, questionTokens: 8, outputTokens: 4}}\n    arrival: {type: poisson, rate: 5}\n"
	for _, tc := range []struct {
		strategies string
		ok         bool
	}{
		{`[round-robin, default, "default via ext_proc"]`, true},
		{`["default@shed via ext_proc", "round-robin via ext_proc"]`, true},
		{`["bogus via ext_proc"]`, false},
		{`["default via ext_proc@shed"]`, false},
		{`["default via envoy"]`, false},
	} {
		_, err := ParseSuite([]byte(head + "    strategies: " + tc.strategies + "\n"))
		if (err == nil) != tc.ok {
			t.Errorf("strategies %s: error %v, want ok=%v", tc.strategies, err, tc.ok)
		}
	}
	const overhead = "name: s\nscenarios:\n  - name: o\n    kind: overhead\n    strategies: [direct, \"default via ext_proc\"]\n    fleet: {profile: instant}\n    workload: {type: long-prompt, requests: 2, longPrompt: {bytes: 100, outputTokens: 2}}\n    arrival: {type: concurrency, concurrency: 1}\n"
	if _, err := ParseSuite([]byte(overhead)); err == nil || !strings.Contains(err.Error(), "via ext_proc") {
		t.Errorf("an ext_proc arm in an overhead scenario: error %v, want it rejected", err)
	}
}

func TestGatewayArm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		arm, strategy string
		ext           bool
	}{
		{"default", "default", false},
		{"default@shed", "default@shed", false},
		{"default via ext_proc", "default@queue", true}, // the proxy's mode, not ext_proc's shed
		{"default@shed via ext_proc", "default@shed", true},
		{"round-robin@off via ext_proc", "round-robin@off", true},
	} {
		if st, ext := gatewayArm(tc.arm); st != tc.strategy || ext != tc.ext {
			t.Errorf("gatewayArm(%q) = %q, %v; want %q, %v", tc.arm, st, ext, tc.strategy, tc.ext)
		}
	}
}

func TestComparePlanes(t *testing.T) {
	t.Parallel()
	maxv, minv := 0.5, 1.1
	s := &Suite{Scenarios: []Scenario{{
		Name:       "sp",
		Strategies: []string{"round-robin", "default", "default via ext_proc"},
		Targets: []Target{
			{Name: "ratio", Metric: "ttft_p90", Strategy: "default", Baseline: "round-robin", Max: &maxv},
			{Name: "plain", Metric: "hit_gap_pct", Strategy: "default", Max: &maxv},
			{Name: "far", Metric: "output_tokens_s", Strategy: "default", Baseline: "round-robin", Min: &minv},
		},
	}}}
	run := func(st string, ttft, hit, tok float64) *RunResult {
		return &RunResult{Strategy: st, Completed: 1, TTFT: Latency{P90: ttft}, PrefixHitRate: hit / 100, HitCeiling: 0.95, OutputTokensPerSec: tok}
	}
	rep := &Report{Scenarios: []*ScenarioResult{{Name: "sp", Runs: []*RunResult{
		run("round-robin", 100, 30, 1000),
		run("default", 10, 90, 1200),
		run("default via ext_proc", 10.4, 86, 1000),
	}}}}
	got := comparePlanes(s, rep)
	if len(got) != 3 {
		t.Fatalf("%d comparisons, want 3: %+v", len(got), got)
	}
	for i, w := range []struct {
		native, ext, ratio float64
		within             bool
	}{
		{0.1, 0.104, 1.04, true},  // ratios to the same native baseline
		{90, 86, 86.0 / 90, true}, // the hit rate, not its gap to the ceiling (5 vs 9 points)
		{1.2, 1, 1 / 1.2, false},
	} {
		g := got[i]
		if wantBasis := map[bool]string{true: "hit_rate_pct"}[i == 1]; g.Basis != wantBasis {
			t.Errorf("%s: basis %q, want %q", g.Target.Name, g.Basis, wantBasis)
		}
		if g.Missing != "" || !near(g.Native, w.native) || !near(g.ExtProc, w.ext) || !near(g.Ratio, w.ratio) || g.Within != w.within {
			t.Errorf("%s: %+v, want %+v", g.Target.Name, g, w)
		}
	}
	rep.Scenarios[0].Runs[2].Completed = 0
	if got := comparePlanes(s, rep); got[0].Missing == "" || got[0].Within {
		t.Errorf("ext_proc arm without completed requests: %+v", got[0])
	}
}

func near(a, b float64) bool { return abs(a-b) < 1e-9 }

// TestSmokeComparesPlanes runs the smoke suite's shared-prefix scenario
// with the ext_proc arm added: the default strategy runs through the
// native proxy and through the stand-in and picker in one run, on the same
// requests, and the report compares its targets between the two.
func TestSmokeComparesPlanes(t *testing.T) {
	suite := smokeSuite(t)
	if err := suite.Select("shared-prefix"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Suite: suite, CompareExtProc: true, Command: "go test"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	runs := rep.Scenarios[0].Runs
	var arms, planes []string
	for _, r := range runs {
		arms, planes = append(arms, r.Strategy), append(planes, r.Plane)
		if r.Failed != "" || r.Completed != r.Requests || r.Fingerprint != runs[0].Fingerprint {
			t.Errorf("%s: failed %q, %d/%d completed, requests %s (first arm %s)", r.Strategy, r.Failed, r.Completed, r.Requests, r.Fingerprint, runs[0].Fingerprint)
		}
	}
	if want := []string{"round-robin", "default", "default via ext_proc"}; !slices.Equal(arms, want) {
		t.Fatalf("arms %q, want %q", arms, want)
	}
	if want := []string{PlaneNative, PlaneNative, PlaneExtProcStandIn}; !slices.Equal(planes, want) {
		t.Fatalf("planes %q, want %q", planes, want)
	}
	if n := len(suite.Scenarios[0].Targets) + 1; len(rep.PlaneComparisons) != n {
		t.Fatalf("%d plane comparisons, want one per target and the replica-side TTFT (%d): %+v", len(rep.PlaneComparisons), n, rep.PlaneComparisons)
	}
	if last := rep.PlaneComparisons[len(rep.PlaneComparisons)-1]; last.Target.Name != engineTTFTName {
		t.Errorf("last comparison %q, want the replica-side TTFT", last.Target.Name)
	}
	for _, pc := range rep.PlaneComparisons {
		if pc.Missing != "" || pc.Ratio <= 0 {
			t.Errorf("%s: %+v", pc.Target.Name, pc)
		}
	}
	var md, tab bytes.Buffer
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteTable(&tab, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "## Routing quality through ext_proc") || !strings.Contains(tab.String(), "ext_proc vs native proxy") {
		t.Errorf("the comparison is missing from the outputs:\n%s\n%s", md.String(), tab.String())
	}
	if _, err := Run(ctx, Options{Suite: suite, CompareExtProc: true, ExtProc: true}); err == nil {
		t.Error("CompareExtProc with ExtProc: no error")
	}
}

// An ext_proc arm whose stand-in ran as a process shows the picker's and
// the stand-in's CPU in both tables.
func TestCPUCellShowsStandIn(t *testing.T) {
	t.Parallel()
	native := &RunResult{Strategy: "default", Gateway: &GatewayUsage{CPUSeconds: 1.5}}
	ext := &RunResult{Strategy: "default via ext_proc", Gateway: &GatewayUsage{CPUSeconds: 1.25}, DataPlane: &GatewayUsage{CPUSeconds: 2}}
	if got := cpuSecondsCell(native); got != "1.50" {
		t.Errorf("native cell %q, want 1.50", got)
	}
	if got := cpuSecondsCell(ext); got != "1.25 + 2.00" {
		t.Errorf("ext_proc cell %q, want 1.25 + 2.00", got)
	}
	rep := &Report{Scenarios: []*ScenarioResult{{Name: "s", Kind: KindRouting, Runs: []*RunResult{native, ext}}}}
	var tb, md strings.Builder
	if err := WriteTable(&tb, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"table": tb.String(), "markdown": md.String()} {
		if !strings.Contains(out, "1.25 + 2.00") {
			t.Errorf("%s lacks the picker + stand-in cell:\n%s", name, out)
		}
	}
}

// A gateway that could not bind a port picked as free is started again;
// other start errors are not retried.
func TestAddrInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, bindErr := net.Listen("tcp", ln.Addr().String())
	if bindErr == nil || !addrInUse(fmt.Errorf("start gateway: %w", bindErr)) {
		t.Errorf("in-process bind error %v not recognised", bindErr)
	}
	child := errors.New("gateway exited: exit status 1; gateway output:\nlisten tcp 127.0.0.1:37731: bind: address already in use")
	if !addrInUse(child) {
		t.Error("a child's bind error not recognised")
	}
	if addrInUse(errors.New("gateway not ready at http://127.0.0.1:1/readyz after 15s")) {
		t.Error("another start error taken for a port clash")
	}
}
