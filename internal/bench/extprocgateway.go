package bench

import (
	"errors"
	"log/slog"

	"github.com/infergate/infergate/internal/envoystandin"
)

// extProcGateway is a gateway whose requests go through its ext_proc
// picker behind the Envoy stand-in: url is the stand-in's, the rest the
// gateway's.
type extProcGateway struct {
	gatewayInstance
	standIn *envoystandin.StandIn
}

var _ gatewayInstance = (*extProcGateway)(nil)

// startExtProcGateway starts the gateway of a run (as a process when
// command is set) with ext_proc on in plaintext, and the stand-in in front
// of it.
func startExtProcGateway(command GatewayCommand, dir string, addrs []string, strategy string, timeScale float64, o *SchedulerOverride, cpu int, log *slog.Logger) (*extProcGateway, error) {
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
	g.standIn, err = envoystandin.New(envoystandin.Config{
		ExtProcAddr:    cfg.ExtProc.Listen,
		Plaintext:      true,
		MessageTimeout: -1, // real Envoy in FULL_DUPLEX_STREAMED: no per-message timer
		Logger:         log,
	})
	if err != nil {
		return nil, errors.Join(err, g.gatewayInstance.stop())
	}
	return g, nil
}

func (g *extProcGateway) url() string { return g.standIn.URL() }

func (g *extProcGateway) stop() error {
	return errors.Join(g.standIn.Close(), g.gatewayInstance.stop())
}
