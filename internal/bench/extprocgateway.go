package bench

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/infergate/infergate/internal/envoystandin"
)

// extProcGateway is a gateway whose requests go through its ext_proc
// picker behind the Envoy stand-in: url is the stand-in's, the rest the
// gateway's. The stand-in runs as a child process when the gateway does
// (proc), else in this process (standIn).
type extProcGateway struct {
	gatewayInstance
	standIn *envoystandin.StandIn
	proc    *processStandIn
	// standInStats are the counters the stand-in process reported when it
	// stopped.
	standInStats envoystandin.Stats
	// stopped and stopErr make stop run once.
	stopped bool
	stopErr error
}

var _ gatewayInstance = (*extProcGateway)(nil)

// startExtProcGateway starts the gateway of a run (as a process when
// command is set) with ext_proc on in plaintext, and the stand-in in front
// of it: as a process started by standIn, which a process gateway needs,
// else in this process. With cpu >= 0 both processes are pinned to cpu:
// the data plane and the picker share the CPU the native proxy gets.
func startExtProcGateway(command GatewayCommand, standIn StandInCommand, dir string, addrs []string, strategy string, timeScale float64, o *SchedulerOverride, cpu int, log *slog.Logger) (*extProcGateway, error) {
	return withFreshPorts(func() (*extProcGateway, error) {
		return startExtProcGatewayOnce(command, standIn, dir, addrs, strategy, timeScale, o, cpu, log)
	})
}

// startExtProcGatewayOnce is one attempt of startExtProcGateway.
func startExtProcGatewayOnce(command GatewayCommand, standIn StandInCommand, dir string, addrs []string, strategy string, timeScale float64, o *SchedulerOverride, cpu int, log *slog.Logger) (*extProcGateway, error) {
	if command != nil && standIn == nil {
		return nil, errors.New("an ext_proc arm with a gateway process needs the stand-in command too")
	}
	listen, metricsListen := "127.0.0.1:0", "127.0.0.1:0"
	var err error
	if command != nil {
		if listen, err = freeAddr(); err != nil {
			return nil, err
		}
		if metricsListen, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	cfg, err := gatewayConfig(addrs, strategy, timeScale, listen, metricsListen, o)
	if err != nil {
		return nil, err
	}
	if cfg.ExtProc.Listen, err = freeAddr(); err != nil {
		return nil, err
	}
	cfg.ExtProc.Plaintext = true
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &extProcGateway{}
	if command != nil {
		g.gatewayInstance, err = startProcessGatewayConfig(command, dir, cfg, cpu)
	} else {
		g.gatewayInstance, err = startInProcessGatewayConfig(cfg)
	}
	if err != nil {
		return nil, err
	}
	sc := envoystandin.Config{
		ExtProcAddr:    cfg.ExtProc.Listen,
		Plaintext:      true,
		MessageTimeout: -1, // real Envoy in FULL_DUPLEX_STREAMED: no per-message timer
	}
	if command != nil {
		g.proc, err = startProcessStandIn(standIn, sc, cpu)
	} else {
		sc.Logger = log
		g.standIn, err = envoystandin.New(sc)
	}
	if err != nil {
		return nil, errors.Join(err, g.gatewayInstance.stop())
	}
	return g, nil
}

func (g *extProcGateway) url() string {
	if g.proc != nil {
		return g.proc.url()
	}
	return g.standIn.URL()
}

// dataPlaneUsage returns the stand-in's resource use so far; ok is false
// when it runs in this process.
func (g *extProcGateway) dataPlaneUsage() (u procUsage, ok bool, err error) {
	if g.proc == nil {
		return procUsage{}, false, nil
	}
	u, err = g.proc.usage()
	return u, err == nil, err
}

// standInCounters returns the stand-in's counters: so far for one in this
// process, as reported at exit for a process (zero before it stopped).
func (g *extProcGateway) standInCounters() envoystandin.Stats {
	if g.standIn != nil {
		return g.standIn.Stats()
	}
	return g.standInStats
}

// stop stops the stand-in, then the gateway; later calls return the first
// one's error.
func (g *extProcGateway) stop() error {
	if g.stopped {
		return g.stopErr
	}
	g.stopped = true
	g.stopErr = g.stopOnce()
	return g.stopErr
}

// stopOnce is stop's work.
func (g *extProcGateway) stopOnce() error {
	var err error
	if g.proc != nil {
		g.standInStats, err = g.proc.stop()
	} else {
		err = g.standIn.Close()
	}
	if err != nil {
		err = fmt.Errorf("envoy stand-in: %w", err)
	}
	return errors.Join(err, g.gatewayInstance.stop())
}
