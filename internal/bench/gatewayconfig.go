package bench

import (
	"fmt"
	"time"

	"github.com/infergate/infergate/internal/config"
)

// gatewayConfig returns the gateway configuration of a benchmark run: one
// pool of the replicas at addrs, the given strategy and scheduler
// overrides (o may be nil), metrics auth off
// (loopback only), and every time-based setting of the gateway (scrape
// interval, timeout and staleness, the model-list interval, upstream
// timeouts) divided by timeScale, so that in model time the gateway behaves
// as it would in front of real replicas.
func gatewayConfig(addrs []string, strategy string, timeScale float64, listen, metricsListen string, o *SchedulerOverride) (*config.Config, error) {
	cfg := config.Default()
	cfg.Listen, cfg.MetricsListen = listen, metricsListen
	eps := make([]config.Endpoint, len(addrs))
	for i, a := range addrs {
		eps[i] = config.Endpoint{Name: fmt.Sprintf("sim-%d", i), Address: a, Engine: config.EngineVLLM}
	}
	cfg.Pools = []config.Pool{{Name: "bench", Endpoints: eps}}
	strategy, mode := flowStrategy(strategy)
	cfg.Scheduler.Strategy = strategy
	cfg.Objectives = benchObjectives
	scaleFlowControl(&cfg.FlowControl, mode, timeScale)
	if o != nil {
		w := &cfg.Scheduler.Weights
		for _, f := range []struct{ dst, src **float64 }{
			{&w.Queue, &o.Weights.Queue}, {&w.KVCache, &o.Weights.KVCache}, {&w.Prefix, &o.Weights.Prefix},
			{&w.LoRA, &o.Weights.LoRA}, {&w.InFlight, &o.Weights.InFlight},
		} {
			if *f.src != nil {
				*f.dst = *f.src
			}
		}
		if o.QueueDepthThreshold > 0 {
			cfg.Scheduler.QueueDepthThreshold = o.QueueDepthThreshold
		}
		cfg.FlowControl.QueueDepthThreshold = o.FlowQueueDepthThreshold
		cfg.FlowControl.MaxRequestsPerEndpoint = o.FlowMaxRequestsPerEndpoint
		if o.FlowFairness != "" {
			cfg.FlowControl.Fairness = o.FlowFairness
		}
	}
	// Every request comes from this process's one loopback address: the
	// per-address connection limit would turn an overload scenario's
	// backlog into 503s and closed connections.
	cfg.Limits.MaxConnsPerAddress, cfg.Limits.MaxConns = 100000, 100000
	cfg.Metrics.Auth.Enabled = new(false)
	cfg.Shutdown.GracePeriod.Duration = 5 * time.Second
	scale := func(d *config.Duration) { d.Duration = time.Duration(float64(d.Duration) / timeScale) }
	for _, d := range []*config.Duration{
		&cfg.Scrape.Interval, &cfg.Scrape.Timeout, &cfg.Scrape.Staleness, &cfg.Scrape.ModelsInterval,
		&cfg.Upstream.ConnectTimeout, &cfg.Upstream.FirstByteTimeout, &cfg.Upstream.IdleTimeout,
	} {
		scale(d)
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	return cfg, nil
}
