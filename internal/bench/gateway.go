package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/gateway"
)

// gatewayInstance is a running gateway in front of a fleet.
type gatewayInstance interface {
	// url is the base URL of the OpenAI proxy.
	url() string
	// metricsURL is the URL of the gateway's /metrics.
	metricsURL() string
	// usage returns the gateway's resource use so far; ok is false when it
	// cannot be measured apart from this process (in-process gateway).
	usage() (u procUsage, ok bool, err error)
	// stop shuts the gateway down and waits for it.
	stop() error
}

// inProcessGateway runs the gateway in this process. Its CPU time and
// memory cannot be told apart from the load generator's and the
// simulators', so usage reports ok = false.
type inProcessGateway struct {
	proxy, metrics string
	cancel         context.CancelFunc
	exited         chan struct{} // closed when Serve has returned
	serveErr       error         // Serve's result, set before exited closes
}

// startInProcessGateway starts a gateway for the replicas at addrs.
func startInProcessGateway(addrs []string, strategy string, timeScale float64, o *SchedulerOverride) (*inProcessGateway, error) {
	cfg, err := gatewayConfig(addrs, strategy, timeScale, "127.0.0.1:0", "127.0.0.1:0", o)
	if err != nil {
		return nil, err
	}
	return startInProcessGatewayConfig(cfg)
}

// startInProcessGatewayConfig starts a gateway with configuration cfg in
// this process.
func startInProcessGatewayConfig(cfg *config.Config) (*inProcessGateway, error) {
	gw, err := gateway.New(cfg, gateway.Options{})
	if err != nil {
		return nil, fmt.Errorf("start gateway: %w", err)
	}
	if err := gw.Listen(); err != nil {
		return nil, fmt.Errorf("start gateway: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &inProcessGateway{
		proxy:   "http://" + gw.Addr().String(),
		metrics: "http://" + gw.MetricsAddr().String(),
		cancel:  cancel,
		exited:  make(chan struct{}),
	}
	go func() {
		g.serveErr = gw.Serve(ctx)
		close(g.exited)
	}()
	if err := waitReady(g.metrics+"/readyz", g.exited, 15*time.Second); err != nil {
		_ = g.stop()
		return nil, err
	}
	return g, nil
}

func (g *inProcessGateway) url() string                     { return g.proxy }
func (g *inProcessGateway) metricsURL() string              { return g.metrics + "/metrics" }
func (g *inProcessGateway) usage() (procUsage, bool, error) { return procUsage{}, false, nil }
func (g *inProcessGateway) stop() error                     { g.cancel(); <-g.exited; return g.serveErr }

var _ gatewayInstance = (*inProcessGateway)(nil)

// waitReady polls url until it answers 200, exited is closed (the gateway
// stopped early) or timeout passes.
func waitReady(url string, exited <-chan struct{}, timeout time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gateway not ready at %s after %s", url, timeout)
		}
		select {
		case <-exited:
			return errors.New("gateway stopped before it was ready")
		case <-tick.C:
		}
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, for a gateway process whose listeners this process cannot pass.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// startAttempts is how many times a gateway is started when a port picked
// by freeAddr was taken before the gateway bound it (by another process's
// ephemeral port, e.g. a parallel test's).
const startAttempts = 3

// withFreshPorts runs start, which picks its ports with freeAddr, again
// while it fails because one of them was taken meanwhile.
func withFreshPorts[T any](start func() (T, error)) (T, error) {
	var (
		g   T
		err error
	)
	for range startAttempts {
		if g, err = start(); err == nil || !addrInUse(err) {
			break
		}
	}
	return g, err
}

// addrInUse reports whether err is a listener's "address already in use",
// in this process or in a child's output.
func addrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}
