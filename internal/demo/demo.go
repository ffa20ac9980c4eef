// Package demo runs infergate's one-command demonstration: simulated model
// server replicas, the gateway in front of them and its token-guarded metrics
// listener, all on loopback, with optional background traffic.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/gateway"
	"github.com/infergate/infergate/internal/simulator"
	"github.com/infergate/infergate/internal/tracing"
)

// BaseModel is the model every demo replica serves.
const BaseModel = "meta-llama/Llama-3.1-8B-Instruct"

// Adapters are the LoRA adapters of the demo. Replica i serves two of them,
// Adapters[i] (loaded at start) and Adapters[i+1], so each adapter lives on
// two of the four replicas and the gateway must route adapter requests to
// the replicas that hold them.
var Adapters = []string{"sql-lora", "chat-lora", "code-lora", "summarize-lora"}

// Options configure a demo run.
type Options struct {
	// Listen is the proxy address (default 127.0.0.1:8080).
	Listen string
	// MetricsListen is the metrics/admin address (default 127.0.0.1:9090).
	MetricsListen string
	// TokenFile receives a fresh metrics bearer token, mode 0600.
	TokenFile string
	// Replicas is the number of simulated replicas (default 4).
	Replicas int
	// TimeScale speeds up the simulated replicas (default 1 = real time).
	TimeScale float64
	// Load drives light background traffic so the metrics move.
	Load bool
	// Out receives the instructions for the user.
	Out io.Writer
	// Logger receives logs; nil discards.
	Logger *slog.Logger
	// Ready, when set, is called with the bound proxy and metrics
	// addresses once everything is listening.
	Ready func(proxy, metrics string)
	// Getenv reads the OTEL_* environment variables that turn tracing on
	// (as for `infergate serve`: OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT,
	// unless OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none); nil means
	// os.Getenv. With tracing on, the gateway exports its spans as service
	// "infergate" and the replicas their llm_request spans as
	// "infergate-sim".
	Getenv func(string) string
}

// Run starts the replicas, the gateway and (optionally) the load, prints how
// to use them, and runs until ctx is done. It shuts everything down before
// returning.
func Run(ctx context.Context, o Options) error {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8080"
	}
	if o.MetricsListen == "" {
		o.MetricsListen = "127.0.0.1:9090"
	}
	if o.TokenFile == "" {
		o.TokenFile = "infergate-demo.token"
	}
	if o.Replicas <= 0 {
		o.Replicas = 4
	}
	if o.TimeScale <= 0 {
		o.TimeScale = 1
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := writeToken(o.TokenFile); err != nil {
		return err
	}

	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	// The replicas share one tracer provider, on when the gateway's is
	// (same configuration, same variables); each span names its replica.
	simTracing, err := tracing.New(ctx, Config(o.Listen, o.MetricsListen, o.TokenFile, nil).Tracing, getenv, "infergate-sim", "github.com/infergate/infergate/internal/simulator")
	if err != nil {
		return err
	}
	// Deferred first, so it runs last: after the replicas have stopped.
	defer func() {
		flushCtx, cancelFlush := context.WithTimeout(context.Background(), tracingFlushTimeout)
		defer cancelFlush()
		if err := simTracing.Shutdown(flushCtx); err != nil {
			log.Warn("tracing: flushing the replicas' last spans failed", "err", err)
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	defer func() { cancel(); _ = g.Wait() }()

	endpoints := make([]config.Endpoint, 0, o.Replicas)
	for i := range o.Replicas {
		name := fmt.Sprintf("sim-%d", i)
		cfg := simulator.DefaultConfig()
		cfg.Name = name
		cfg.Model = BaseModel
		own, next := Adapters[i%len(Adapters)], Adapters[(i+1)%len(Adapters)]
		cfg.LoRAs = []string{own, next}
		cfg.PreloadedLoRAs = []string{own}
		cfg.TimeScale = o.TimeScale
		cfg.Seed = int64(i + 1)
		cfg.Tracer, cfg.Propagator = simTracing.Tracer(), simTracing.Propagator()
		srv, err := simulator.New(cfg, log)
		if err != nil {
			return fmt.Errorf("replica %s: %w", name, err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("replica %s: %w", name, err)
		}
		g.Go(func() error { return srv.Serve(ctx, ln) })
		endpoints = append(endpoints, config.Endpoint{Name: name, Address: ln.Addr().String(), Engine: "vllm"})
	}

	cfg := Config(o.Listen, o.MetricsListen, o.TokenFile, endpoints)
	gw, err := gateway.New(cfg, gateway.Options{Logger: log, Getenv: getenv})
	if err != nil {
		return err
	}
	if err := gw.Listen(); err != nil {
		return err
	}
	proxyAddr, metricsAddr := gw.Addr().String(), gw.MetricsAddr().String()
	printInstructions(o.Out, proxyAddr, metricsAddr, o.TokenFile, o.Replicas, o.Load)
	if o.Load {
		g.Go(func() error { runLoad(ctx, "http://"+proxyAddr, log); return nil })
	}
	if o.Ready != nil {
		o.Ready(proxyAddr, metricsAddr)
	}
	err = gw.Serve(ctx)
	cancel()
	if werr := g.Wait(); werr != nil && !errors.Is(werr, context.Canceled) {
		err = errors.Join(err, werr)
	}
	return err
}

// tracingFlushTimeout bounds exporting the replicas' last spans at exit.
const tracingFlushTimeout = 5 * time.Second

// Config is the gateway configuration the demo runs: one pool of the given
// endpoints, a served alias per adapter and three objectives.
func Config(listen, metricsListen, tokenFile string, endpoints []config.Endpoint) *config.Config {
	cfg := config.Default()
	cfg.Listen, cfg.MetricsListen = listen, metricsListen
	cfg.Pools = []config.Pool{{Name: "demo", Endpoints: endpoints}}
	cfg.Objectives = []config.Objective{
		{Name: "critical", Priority: 10},
		{Name: "standard", Priority: 0},
		{Name: "batch", Priority: -1},
	}
	cfg.Models = []config.Model{
		{Name: "llama", Objective: "standard", Targets: []config.Target{{Model: BaseModel}}},
		{Name: "sql", Objective: "standard", Targets: []config.Target{{Model: "sql-lora"}}},
	}
	cfg.Metrics.Auth.TokenFile = tokenFile
	cfg.ApplyDefaults()
	return cfg
}

// writeToken writes a fresh random token to path with mode 0600.
func writeToken(path string) error {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("generate token: %w", err)
	}
	tok := hex.EncodeToString(b[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write token file: %w", err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write token file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	return nil
}

func printInstructions(w io.Writer, proxyAddr, metricsAddr, tokenFile string, replicas int, load bool) {
	fmt.Fprintf(w, `infergate demo: %d simulated replicas of %s behind the gateway.

  OpenAI proxy:  http://%s/v1   (models: llama, sql, %s, and the LoRA adapters %v)
  Metrics:       http://%s/metrics  (bearer token in %s, regenerated on every start)
  Dashboard:     http://%s/dashboard  (open it in a browser; log in with the token from %s)

A chat completion:
  curl -s http://%s/v1/chat/completions -H 'Content-Type: application/json' \
    -d '{"model":"llama","messages":[{"role":"user","content":"Hello!"}],"max_tokens":32}'

A streaming one:
  curl -sN http://%s/v1/chat/completions -H 'Content-Type: application/json' \
    -d '{"model":"sql-lora","stream":true,"messages":[{"role":"user","content":"Write a query."}],"max_tokens":32}'

The gateway's metrics (with the token):
  curl -s -H "Authorization: Bearer $(cat %s)" http://%s/metrics | grep '^inference_'

`, replicas, BaseModel, proxyAddr, BaseModel, Adapters, metricsAddr, tokenFile, metricsAddr, tokenFile, proxyAddr, proxyAddr, tokenFile, metricsAddr)
	if load {
		fmt.Fprintln(w, "Background load is on (--load): a few requests per second.")
	}
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}
