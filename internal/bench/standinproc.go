package bench

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"

	"github.com/infergate/infergate/internal/envoystandin"
)

// StandInCommand returns the command that runs the Go Envoy stand-in
// configured by args (its flags, see envoystandin.Config.Args), normally
// `infergate envoy-standin args...`. The benchmark sets the command's
// output and adds to its environment (os.Environ() when Env is nil).
type StandInCommand func(args []string) *exec.Cmd

// standInReadyTimeout bounds a stand-in process's start-up.
const standInReadyTimeout = 15 * time.Second

// processStandIn is the Envoy stand-in running as a child process, so that
// the data plane of an ext_proc arm takes no CPU from the load generator
// and the simulated replicas, as the native proxy (in the gateway process)
// takes none.
type processStandIn struct {
	cmd     *exec.Cmd
	base    string                      // the listener's base URL
	log     *syncBuffer                 // its output but the announcements
	ann     *envoystandin.Announcements // read until exited closes
	exited  chan struct{}               // closed when the process has exited
	waitErr error                       // cmd.Wait's result, set before exited closes
}

// startProcessStandIn starts the stand-in with cfg (its fields with flags)
// by command and waits until it listens. With cpu >= 0 the process is
// pinned to that CPU and runs with GOMAXPROCS=1.
func startProcessStandIn(command StandInCommand, cfg envoystandin.Config, cpu int) (*processStandIn, error) {
	cmd := command(cfg.Args())
	prepareChild(cmd, cpu)
	p := &processStandIn{
		cmd:    cmd,
		log:    new(syncBuffer),
		ann:    envoystandin.NewAnnouncements(),
		exited: make(chan struct{}),
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start envoy stand-in: %w", err)
	}
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start envoy stand-in %s: %w", cmd.Path, err)
	}
	// This goroutine owns the process: it reads its output to the end,
	// then reaps it; stop ends it.
	go func() {
		if err := envoystandin.ReadAnnouncements(stdout, p.ann, p.log); err != nil {
			_, _ = io.Copy(io.Discard, stdout)
		}
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if cpu >= 0 {
		if err := pinProcess(cmd.Process.Pid, []int{cpu}); err != nil {
			_, _ = p.stop()
			return nil, err
		}
	}
	timer := time.NewTimer(standInReadyTimeout)
	defer timer.Stop()
	select {
	case p.base = <-p.ann.Ready:
	case <-p.exited:
		return nil, fmt.Errorf("envoy stand-in exited before listening (%v); output:\n%s", p.waitErr, tail(p.log.Bytes(), 2048))
	case <-timer.C:
		_, _ = p.stop()
		return nil, fmt.Errorf("envoy stand-in not listening after %v; output:\n%s", standInReadyTimeout, tail(p.log.Bytes(), 2048))
	}
	if cpu >= 0 {
		// As for the gateway: pin again any thread created before the
		// first pinning took effect.
		if err := pinProcess(cmd.Process.Pid, []int{cpu}); err != nil {
			_, _ = p.stop()
			return nil, err
		}
	}
	return p, nil
}

// url returns the stand-in's base URL.
func (p *processStandIn) url() string { return p.base }

// pid returns the stand-in's process ID.
func (p *processStandIn) pid() int { return p.cmd.Process.Pid }

// usage returns the stand-in process's resource use so far.
func (p *processStandIn) usage() (procUsage, error) { return readProcUsage(p.pid()) }

// stop sends SIGTERM, waits up to ten seconds for the stand-in to finish
// the requests in flight and exit, then kills it. It returns the counters
// the stand-in reported at exit (zero, with an error, when it reported
// none).
func (p *processStandIn) stop() (envoystandin.Stats, error) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return envoystandin.Stats{}, errors.New("envoy stand-in did not stop within 10s of SIGTERM; killed")
	}
	if p.waitErr != nil {
		return envoystandin.Stats{}, fmt.Errorf("envoy stand-in exited with %w; output:\n%s", p.waitErr, tail(p.log.Bytes(), 2048))
	}
	if !p.ann.HasStats {
		return envoystandin.Stats{}, fmt.Errorf("envoy stand-in reported no stats at exit (%v)", p.ann.StatsErr)
	}
	return p.ann.Stats, nil
}
