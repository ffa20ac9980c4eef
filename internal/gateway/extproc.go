package gateway

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/certfile"
	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/extproc"
)

// extProcFront is the ext_proc front end: the picker, its gRPC server and
// the health server (nil when healthListen is off), with their listeners.
type extProcFront struct {
	server       *extproc.Server
	grpc         *extproc.GRPC
	health       *extproc.Health
	ln, healthLn net.Listener
	tls          bool
	pool         string
}

// newExtProc builds the ext_proc front end of cfg, sharing the proxy's body
// budget and in-flight cap; nil when extProc.listen is off.
func (g *Gateway) newExtProc(cfg *config.Config, budget *admission.Budget, inflight *admission.InFlight) (*extProcFront, error) {
	if !cfg.ExtProc.On() {
		return nil, nil
	}
	log := g.log.With("component", "extproc")
	tlsCfg, err := extProcTLS(cfg.ExtProc, log)
	if err != nil {
		return nil, fmt.Errorf("extProc.tls: %w", err)
	}
	pool := cfg.ExtProcPool()
	e := &extProcFront{tls: tlsCfg != nil, pool: pool}
	e.server = extproc.New(extproc.Options{
		Router:             g.router,
		Pool:               pool,
		Metrics:            g.metrics,
		Panics:             g.metrics,
		Decisions:          g.metrics,
		Logger:             log,
		MaxBodyBytes:       cfg.Limits.MaxBodyBytes,
		Budget:             budget,
		InFlight:           inflight,
		DropControlHeaders: !cfg.TrustsControlHeaders(),
		Fallbacks:          cfg.ExtProc.Fallbacks,
		EndpointScores:     cfg.ExtProc.EndpointScores,
		FlowMode:           admission.Mode(cfg.FlowControl.ModeFor(config.FrontEndExtProc)),
		Conformance:        cfg.ExtProc.Conformance,
		PoolLabel:          cfg.ExtProcPoolLabel(),
		Tracer:             g.tracing.Tracer(),
		Propagator:         g.tracing.Propagator(),
	})
	if cfg.ExtProc.Conformance {
		log.Warn("ext_proc conformance mode: the GIE conformance suite's picker contract, no inference routing (tests only)")
	}
	e.grpc = extproc.NewGRPC(e.server, tlsCfg)
	if cfg.ExtProc.HealthOn() {
		// Plaintext always, as upstream's picker: the kubelet's gRPC probe
		// (which upstream's manifests and the Helm chart use) cannot speak
		// TLS, and health reveals nothing worth encrypting.
		e.health = extproc.NewHealth(nil)
	}
	return e, nil
}

// extProcTLS returns the server TLS configuration of the ext_proc listener
// (its health listener is always plaintext): nil in plaintext mode, the configured key pair (re-read when
// it changes), or a self-signed certificate generated now, as upstream's
// picker does without --cert-path.
func extProcTLS(e config.ExtProc, log *slog.Logger) (*tls.Config, error) {
	if e.Plaintext {
		return nil, nil
	}
	if e.TLS.IsSet() {
		p, err := certfile.Load(e.TLS.CertFile, e.TLS.KeyFile, certfile.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: p.GetCertificate}, nil
	}
	cert, err := certfile.SelfSigned("infergate-extproc", time.Now())
	if err != nil {
		return nil, err
	}
	log.Info("ext_proc serves a generated self-signed certificate (set extProc.tls or --cert-path to serve your own)")
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert}}, nil
}

// listen binds the ext_proc listeners.
func (e *extProcFront) listen(cfg config.ExtProc) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	e.ln = ln
	if e.health != nil {
		hl, err := net.Listen("tcp", cfg.HealthListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen %s: %w", cfg.HealthListen, err)
		}
		e.healthLn = hl
	}
	return nil
}

// setReady marks the health services ready or not.
func (e *extProcFront) setReady(ready bool) {
	if e != nil && e.health != nil {
		e.health.SetReady(ready)
	}
}

// logAttrs are the ext_proc attributes of the "gateway serving" line.
func (e *extProcFront) logAttrs() []any {
	if e == nil {
		return nil
	}
	health := "off"
	if e.healthLn != nil {
		health = e.healthLn.Addr().String()
	}
	return []any{"extproc", e.ln.Addr().String(), "extproc_health", health, "extproc_tls", e.tls, "extproc_pool", e.pool}
}

// ExtProcAddr returns the ext_proc listener's address (after Listen), nil
// when ext_proc is off.
func (g *Gateway) ExtProcAddr() net.Addr {
	if g.extProc == nil || g.extProc.ln == nil {
		return nil
	}
	return g.extProc.ln.Addr()
}

// ExtProcHealthAddr returns the gRPC health listener's address (after
// Listen), nil when it is off.
func (g *Gateway) ExtProcHealthAddr() net.Addr {
	if g.extProc == nil || g.extProc.healthLn == nil {
		return nil
	}
	return g.extProc.healthLn.Addr()
}
