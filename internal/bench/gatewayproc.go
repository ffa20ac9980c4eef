package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/infergate/infergate/internal/config"
)

// GatewayCommand returns the command that runs the gateway with the
// configuration file at configPath, normally `infergate serve --config
// configPath`. The benchmark sets the command's output and adds to its
// environment (os.Environ() when Env is nil).
type GatewayCommand func(configPath string) *exec.Cmd

// processGateway is a gateway running as a child process, so its CPU time
// and peak RSS are its own.
type processGateway struct {
	cmd            *exec.Cmd
	proxy, metrics string
	log            *syncBuffer
	exited         chan struct{} // closed when the process has exited
	waitErr        error         // cmd.Wait's result, set before exited closes
}

// startProcessGateway writes the run's configuration into dir and starts
// the gateway with command. With cpu >= 0 the process is pinned to that
// CPU and runs with GOMAXPROCS=1.
func startProcessGateway(command GatewayCommand, dir string, addrs []string, strategy string, timeScale float64, o *SchedulerOverride, cpu int) (*processGateway, error) {
	return withFreshPorts(func() (*processGateway, error) {
		return startProcessGatewayOnce(command, dir, addrs, strategy, timeScale, o, cpu)
	})
}

// startProcessGatewayOnce is one attempt of startProcessGateway.
func startProcessGatewayOnce(command GatewayCommand, dir string, addrs []string, strategy string, timeScale float64, o *SchedulerOverride, cpu int) (*processGateway, error) {
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	metricsListen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg, err := gatewayConfig(addrs, strategy, timeScale, listen, metricsListen, o)
	if err != nil {
		return nil, err
	}
	return startProcessGatewayConfig(command, dir, cfg, cpu)
}

// startProcessGatewayConfig starts the gateway as startProcessGateway does,
// with the configuration cfg (its listen and metricsListen addresses set).
func startProcessGatewayConfig(command GatewayCommand, dir string, cfg *config.Config, cpu int) (*processGateway, error) {
	listen, metricsListen := cfg.Listen, cfg.MetricsListen
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("write gateway config: %w", err)
	}
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("write gateway config: %w", err)
	}
	cmd := command(path)
	prepareChild(cmd, cpu)
	g := &processGateway{
		cmd:     cmd,
		proxy:   "http://" + listen,
		metrics: "http://" + metricsListen,
		log:     new(syncBuffer),
		exited:  make(chan struct{}),
	}
	cmd.Stdout, cmd.Stderr = g.log, g.log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start gateway %s: %w", cmd.Path, err)
	}
	go func() {
		g.waitErr = cmd.Wait()
		close(g.exited)
	}()
	if cpu >= 0 {
		if err := pinProcess(cmd.Process.Pid, []int{cpu}); err != nil {
			_ = g.stop()
			return nil, err
		}
	}
	if err := waitReady(g.metrics+"/readyz", g.exited, 15*time.Second); err != nil {
		_ = g.stop()
		return nil, fmt.Errorf("%w; gateway output:\n%s", err, tail(g.log.Bytes(), 2048))
	}
	if cpu >= 0 {
		// Threads started during start-up inherited the mask from a
		// pinned thread, but pin again in case one was created before.
		if err := pinProcess(cmd.Process.Pid, []int{cpu}); err != nil {
			_ = g.stop()
			return nil, err
		}
	}
	return g, nil
}

var _ gatewayInstance = (*processGateway)(nil)

func (g *processGateway) url() string        { return g.proxy }
func (g *processGateway) metricsURL() string { return g.metrics + "/metrics" }

func (g *processGateway) usage() (procUsage, bool, error) {
	u, err := readProcUsage(g.cmd.Process.Pid)
	return u, err == nil, err
}

// stop sends SIGTERM, waits up to ten seconds for a graceful exit, then
// kills the process.
func (g *processGateway) stop() error {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
		var exit *exec.ExitError
		if errors.As(g.waitErr, &exit) {
			return fmt.Errorf("gateway exited with %v; output:\n%s", g.waitErr, tail(g.log.Bytes(), 2048))
		}
		return g.waitErr
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.exited
		return errors.New("gateway did not stop within 10s of SIGTERM; killed")
	}
}

// tail returns the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
