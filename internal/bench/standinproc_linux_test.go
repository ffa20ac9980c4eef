package bench

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// recordingCommands wraps the test gateway and stand-in commands and keeps
// the commands they return, to check on the processes afterwards.
type recordingCommands struct {
	gateways, standIns []*exec.Cmd
	standInArgs        []string // appended to the stand-in's flags
}

func (c *recordingCommands) gateway(path string) *exec.Cmd {
	cmd := testGatewayCommand(path)
	c.gateways = append(c.gateways, cmd)
	return cmd
}

func (c *recordingCommands) standIn(args []string) *exec.Cmd {
	cmd := testStandInCommand(append(args, c.standInArgs...))
	c.standIns = append(c.standIns, cmd)
	return cmd
}

// checkReaped fails unless every started command's process has exited and
// been reaped (a zombie or a live process still answers signal 0).
func checkReaped(t *testing.T, cmds ...*exec.Cmd) {
	t.Helper()
	for _, cmd := range cmds {
		if cmd.Process == nil {
			continue
		}
		if err := syscall.Kill(cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d (%s) still there after stop: kill 0 = %v", cmd.Process.Pid, strings.Join(cmd.Args, " "), err)
		}
	}
}

// TestExtProcGatewayStandInProcess: with a gateway command, the ext_proc
// gateway's stand-in is a child process of its own (not this process),
// pinned with the gateway to the gateway's CPU; the requests go through
// it, and stop ends and reaps it.
func TestExtProcGatewayStandInProcess(t *testing.T) {
	fl := instantFleet(t)
	rc := &recordingCommands{}
	cpus := onlineCPUs()
	cpu := cpus[len(cpus)-1]
	g, err := startExtProcGateway(rc.gateway, rc.standIn, t.TempDir(), fl.addrs, "default", 1, nil, cpu, nil)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = g.stop()
		}
	}()
	if g.proc == nil || g.standIn != nil {
		t.Fatalf("stand-in in this process (%v), want a child process", g.standIn != nil)
	}
	pid := g.proc.pid()
	if pid == os.Getpid() || len(rc.standIns) != 1 || rc.standIns[0].Process.Pid != pid {
		t.Fatalf("stand-in pid %d, this process %d, started %d stand-ins", pid, os.Getpid(), len(rc.standIns))
	}
	for _, cmd := range []*exec.Cmd{rc.gateways[0], rc.standIns[0]} {
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(cmd.Process.Pid, &set); err != nil || set.Count() != 1 || !set.IsSet(cpu) {
			t.Errorf("%s: affinity %v (%v), want CPU %d alone", cmd.Args[len(cmd.Args)-1], set, err, cpu)
		}
	}
	if !strings.HasPrefix(g.url(), "http://127.0.0.1:") {
		t.Errorf("stand-in URL %q", g.url())
	}
	if ppid := parentPID(t, pid); ppid != os.Getpid() {
		t.Errorf("stand-in's parent %d, want this process %d", ppid, os.Getpid())
	}
	hc := &http.Client{}
	defer hc.CloseIdleConnections()
	for range 3 {
		if _, err := pickerRequest(context.Background(), hc, g.url(), pickerBody(1<<10, 4)); err != nil {
			t.Fatal(err)
		}
	}
	if u, ok, err := g.dataPlaneUsage(); err != nil || !ok || u.PeakRSS <= 0 {
		t.Errorf("stand-in usage %+v, %v, %v: want the child's", u, ok, err)
	}
	stopped = true
	if err := g.stop(); err != nil {
		t.Fatal(err)
	}
	if st := g.standInStats; st.Forwarded != 3 || st.Decisions != 3 {
		t.Errorf("stand-in process reported %+v, want 3 requests forwarded on the picker's decision", st)
	}
	checkReaped(t, append(rc.gateways, rc.standIns...)...)
}

// parentPID reads the parent of process pid from /proc.
func parentPID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// After the command name: state, then the parent's pid.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatal(err)
	}
	return ppid
}

// TestExtProcGatewayStandInFails: a stand-in that cannot start leaves no
// process behind, the gateway's included.
func TestExtProcGatewayStandInFails(t *testing.T) {
	rc := &recordingCommands{standInArgs: []string{"--chunk-size=-1"}}
	addrs := []string{"127.0.0.1:1"}
	_, err := startExtProcGateway(rc.gateway, rc.standIn, t.TempDir(), addrs, "default", 1, nil, -1, nil)
	if err == nil || !strings.Contains(err.Error(), "chunkSize") {
		t.Fatalf("start with a bad stand-in flag: %v, want the stand-in's config error", err)
	}
	if len(rc.gateways) != 1 || len(rc.standIns) != 1 {
		t.Fatalf("started %d gateways, %d stand-ins", len(rc.gateways), len(rc.standIns))
	}
	checkReaped(t, append(rc.gateways, rc.standIns...)...)
	if _, err := startExtProcGateway(rc.gateway, nil, t.TempDir(), addrs, "default", 1, nil, -1, nil); err == nil {
		t.Error("a gateway process without a stand-in command: no error")
	}
}

// TestProcessStandInRun: an ext_proc arm run with the gateway and the
// stand-in as processes measures the stand-in apart (DataPlane) from the
// picker (Gateway).
func TestProcessStandInRun(t *testing.T) {
	sc, reqs := processScenario(t)
	rc := &recordingCommands{}
	r := &runner{o: Options{Gateway: rc.gateway, StandIn: rc.standIn}, log: slog.New(slog.DiscardHandler), dir: t.TempDir()}
	res, err := r.runOne(t.Context(), runSpec{
		scenario: sc, strategy: "least-request" + ExtProcArmSuffix, point: 4, reqs: reqs, timeScale: 1, seed: 1, gatewayCPU: -1,
	}, nil)
	if err != nil {
		t.Fatalf("runOne: %v", err)
	}
	if res.Completed != len(reqs) || res.Plane != PlaneExtProcStandIn {
		t.Errorf("%d of %d requests completed on plane %q: %v", res.Completed, len(reqs), res.Plane, res.Errors)
	}
	if res.Gateway == nil || res.Gateway.CPUSeconds <= 0 {
		t.Errorf("picker usage %+v, want the gateway process's", res.Gateway)
	}
	if res.DataPlane == nil || res.DataPlane.PeakRSSMiB <= 0 {
		t.Errorf("data plane usage %+v, want the stand-in process's", res.DataPlane)
	}
	if pl := res.PlaneLatency; pl == nil || pl.Decisions != int64(len(reqs)) || pl.DecisionRoundTripMs <= 0 || pl.ResponseChunks == 0 || pl.ResponseChunkMs <= 0 {
		t.Errorf("data-plane latency %+v, want the stand-in process's means over %d decisions", pl, len(reqs))
	}
	if len(rc.standIns) != 1 {
		t.Errorf("started %d stand-in processes, want 1", len(rc.standIns))
	}
	checkReaped(t, append(rc.gateways, rc.standIns...)...)
}

// TestRunNeedsStandInCommand: ext_proc arms with a gateway process and no
// stand-in command are refused (they would run the data plane in the
// harness's process).
func TestRunNeedsStandInCommand(t *testing.T) {
	s := &Suite{Name: "x", Scenarios: []Scenario{{Name: "a", Kind: KindRouting, Strategies: []string{"default"}}}}
	for _, o := range []Options{
		{Suite: s, Gateway: testGatewayCommand, CompareExtProc: true},
		{Suite: s, Gateway: testGatewayCommand, ExtProc: true},
	} {
		if _, err := Run(t.Context(), o); err == nil || !strings.Contains(err.Error(), "stand-in") {
			t.Errorf("compare %v, extproc %v: %v, want the missing stand-in command", o.CompareExtProc, o.ExtProc, err)
		}
	}
}
