package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// ChaosOptions configure [RunChaos].
type ChaosOptions struct {
	// Bin is the infergate binary: replicas run `Bin sim`, the gateway
	// `Bin serve`.
	Bin string
	// Duration is how long the load runs; at least 30s.
	Duration time.Duration
	// Dir receives the gateway configuration and the report.
	Dir string
	// Progress, when set, receives one line per fault event.
	Progress func(format string, args ...any)
}

// Chaos fleet shape (hostile clients run next to it: chaoshostile.go): five replicas of eight batch slots. sim-0 is killed
// and restarted on its port, sim-1 is stopped (SIGSTOP) for longer than the
// scrape staleness, sim-2 answers bursts of 503, sim-3 stalls every stream
// for a second (far below the idle timeout), sim-4 is healthy. The load
// keeps 80 % of the batch slots busy.
const (
	chaosReplicas  = 5
	chaosSlots     = 8
	chaosTimeScale = 2
	chaosStaleness = 2 * time.Second
	chaosKilled    = "sim-0"
	chaosStopped   = "sim-1"
)

// chaosFaultArgs are the fault flags of each replica.
var chaosFaultArgs = [chaosReplicas][]string{
	2: {"--unavailable-every", "7s", "--unavailable-for", "2s"},
	3: {"--stall-for", "1s"},
}

// chaosRun is one run's processes and recordings.
type chaosRun struct {
	o       ChaosOptions
	sims    [chaosReplicas]*chaosProc
	addrs   [chaosReplicas]string
	gw      *chaosProc
	proxy   string
	metrics string

	mu     sync.Mutex
	events []chaosEvent
}

// chaosEvent is a fault starting or ending.
type chaosEvent struct {
	At   time.Time
	Pod  string
	What string // "kill", "restart", "stop", "cont"
}

// RunChaos runs the chaos suite: a gateway process in front of simulator
// processes held at about 80 % of their capacity while faults are injected
// on a schedule, and returns its report. The report's Pass says whether
// every check held.
func RunChaos(ctx context.Context, o ChaosOptions) (*ChaosReport, error) {
	if o.Duration < 30*time.Second {
		return nil, fmt.Errorf("chaos: duration %v is below 30s", o.Duration)
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	r := &chaosRun{o: o}
	defer r.stopAll()
	if err := r.startFleet(); err != nil {
		return nil, err
	}
	start := time.Now()
	samples := newChaosSampler(r.metrics, r.gw.pid())
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { samples.run(ctx) })
	load := newChaosLoad(r.proxy, int(0.8*chaosReplicas*chaosSlots))
	wg.Go(func() { load.run(ctx) })
	hostile := &chaosHostile{addr: strings.TrimPrefix(r.proxy, "http://")}
	wg.Go(func() { hostile.run(ctx) })
	err := r.schedule(ctx, start)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	rep := buildChaosReport(o.Duration, load.records(), samples, r.eventsCopy())
	rep.HostileRequests = int(hostile.requests.Load())
	return rep, nil
}

// startFleet starts the replicas and the gateway.
func (r *chaosRun) startFleet() error {
	for i := range chaosReplicas {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		r.addrs[i] = addr
		name := fmt.Sprintf("sim-%d", i)
		args := append([]string{"sim", "--listen", addr, "--name", name, "--model", BaseModel,
			"--time-scale", fmt.Sprint(chaosTimeScale), "--max-num-seqs", fmt.Sprint(chaosSlots),
			"--seed", fmt.Sprint(i + 1), "--log-level", "error"}, chaosFaultArgs[i]...)
		r.sims[i] = &chaosProc{name: name, bin: r.o.Bin, args: args}
		if err := r.sims[i].start("http://" + addr + "/health"); err != nil {
			return err
		}
	}
	listen, err := freeAddr()
	if err != nil {
		return err
	}
	metricsListen, err := freeAddr()
	if err != nil {
		return err
	}
	cfg, err := gatewayConfig(r.addrs[:], "default", 1, listen, metricsListen, nil)
	if err != nil {
		return err
	}
	cfg.Scrape.Staleness.Duration = chaosStaleness
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("write gateway config: %w", err)
	}
	path := filepath.Join(r.o.Dir, "gateway.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write gateway config: %w", err)
	}
	r.gw = &chaosProc{name: "gateway", bin: r.o.Bin, args: []string{"serve", "--config", path, "--log-level", "error"}}
	if err := r.gw.start("http://" + metricsListen + "/readyz"); err != nil {
		return err
	}
	r.proxy, r.metrics = "http://"+listen, "http://"+metricsListen+"/metrics"
	return nil
}

// stopAll stops every process still running.
func (r *chaosRun) stopAll() {
	if r.gw != nil {
		r.gw.stop(10 * time.Second)
	}
	for _, p := range r.sims {
		if p != nil {
			p.stop(2 * time.Second)
		}
	}
}

// chaosCycle is the schedule's period: the faults repeat every cycle.
func chaosCycle(d time.Duration) time.Duration { return min(max(d/3, 20*time.Second), 2*time.Minute) }

// schedule injects the faults until ctx ends: every cycle, sim-0 is killed
// at 10 % and restarted on its port 3 s later; sim-1 is stopped at 50 %
// for the staleness plus 3 s. The last cycle's faults are not started
// when they would not end before the run does.
func (r *chaosRun) schedule(ctx context.Context, start time.Time) error {
	cycle := chaosCycle(r.o.Duration)
	end := start.Add(r.o.Duration)
	stopFor := chaosStaleness + 3*time.Second
	for c := start; c.Before(end); c = c.Add(cycle) {
		killAt, stopAt := c.Add(cycle/10), c.Add(cycle/2)
		if killAt.Add(3*time.Second).Before(end) && wait(ctx, killAt) {
			r.event(chaosKilled, "kill")
			r.sims[0].kill()
			if !wait(ctx, killAt.Add(3*time.Second)) {
				return r.restart()
			}
			if err := r.restart(); err != nil {
				return err
			}
		}
		if stopAt.Add(stopFor).Before(end) && wait(ctx, stopAt) {
			r.event(chaosStopped, "stop")
			r.sims[1].signal(syscall.SIGSTOP)
			wait(ctx, stopAt.Add(stopFor))
			r.sims[1].signal(syscall.SIGCONT)
			r.event(chaosStopped, "cont")
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	wait(ctx, end)
	return nil
}

// restart starts the killed replica again on its port.
func (r *chaosRun) restart() error {
	if err := r.sims[0].start("http://" + r.addrs[0] + "/health"); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	r.event(chaosKilled, "restart")
	return nil
}

// event records a fault event.
func (r *chaosRun) event(pod, what string) {
	r.mu.Lock()
	r.events = append(r.events, chaosEvent{At: time.Now(), Pod: pod, What: what})
	r.mu.Unlock()
	r.o.Progress("%s %s", what, pod)
}

func (r *chaosRun) eventsCopy() []chaosEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]chaosEvent(nil), r.events...)
}

// wait waits until t, reporting false when ctx ended first.
func wait(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ErrChaosFailed reports that a chaos run completed but a check failed.
var ErrChaosFailed = errors.New("chaos: a check failed")
