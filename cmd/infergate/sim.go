package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/simulator"
	"github.com/infergate/infergate/internal/tracing"
)

func newSimCmd() *cobra.Command {
	cfg := simulator.DefaultConfig()
	var (
		listen string
		tlsF   simTLSFlags
		logs   logFlags
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run a vLLM-compatible model-server simulator",
		Long: `Run one simulated model-server replica: the OpenAI completion and chat endpoints,
/v1/models, /health and /metrics (vLLM or SGLang names) over an approximate engine model
(continuous batching, chunked prefill, a paged KV cache with prefix caching, LoRA slots,
preemption) of Llama-3.1-8B-Instruct on one H100. --time-scale speeds simulated time up.
--tls-cert-file and --tls-key-file serve HTTPS instead of HTTP.

Prints "listening on <addr>" once listening. Stops gracefully on SIGINT or SIGTERM, and
after --exit-after completion requests (exit status 0).

Traces: with OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) set, each completion request
gets an "llm_request" server span continuing the caller's traceparent, as vLLM does, exported
over OTLP (the standard OTEL_* variables apply; service name infergate-sim).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			// OTLP export when the OTEL_* variables ask for it, as vLLM.
			tp, err := tracing.New(cmd.Context(), config.Tracing{}, os.Getenv, "infergate-sim", "github.com/infergate/infergate/internal/simulator")
			if err != nil {
				return err
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := tp.Shutdown(ctx); err != nil {
					log.Warn("tracing shutdown", "err", err)
				}
			}()
			cfg.Tracer, cfg.Propagator = tp.Tracer(), tp.Propagator()
			srv, err := simulator.New(cfg, log)
			if err != nil {
				return err
			}
			tlsCfg, err := tlsF.config(log)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen %s: %w", listen, err)
			}
			if tlsCfg != nil {
				ln = tls.NewListener(ln, tlsCfg)
			}
			if _, err := fmt.Fprintf(cmd.OutOrStdout(), "listening on %s\n", ln.Addr()); err != nil {
				ln.Close()
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			return srv.Serve(ctx, ln)
		},
	}
	fs := cmd.Flags()
	p := &cfg.Profile
	fs.StringVar(&listen, "listen", "127.0.0.1:8000", "listen address (port 0 picks a free port)")
	fs.StringVar(&cfg.Name, "name", cfg.Name, "replica name, sent in the x-inference-pod header")
	fs.StringVar(&cfg.Model, "model", cfg.Model, "base model name")
	fs.StringSliceVar(&cfg.LoRAs, "lora", nil, "servable LoRA adapter names (repeatable or comma-separated)")
	fs.StringSliceVar(&cfg.PreloadedLoRAs, "preload-lora", nil, "adapters loaded into slots at start (repeatable or comma-separated; also servable)")
	fs.IntVar(&p.MaxLoRAs, "max-loras", p.MaxLoRAs, "LoRA adapter slots")
	fs.IntVar(&p.MaxNumSeqs, "max-num-seqs", p.MaxNumSeqs, "maximum running sequences (batch size)")
	fs.IntVar(&p.MaxNumBatchedTokens, "max-num-batched-tokens", p.MaxNumBatchedTokens, "token budget of one engine step (prefill chunk size)")
	fs.IntVar(&p.MaxModelLen, "max-model-len", p.MaxModelLen, "context length in tokens")
	fs.IntVar(&p.NumGPUBlocks, "num-gpu-blocks", p.NumGPUBlocks, "KV cache blocks")
	fs.IntVar(&p.BlockSize, "block-size", p.BlockSize, "tokens per KV cache block")
	fs.StringVar(&cfg.Engine, "engine", cfg.Engine, "metric names to expose: vllm or sglang")
	fs.Float64Var(&cfg.TimeScale, "time-scale", cfg.TimeScale, "simulated time runs this many times faster than real time")
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "seed of output text, response ids and injected errors")
	fs.IntVar(&cfg.DefaultMaxTokens, "default-max-tokens", cfg.DefaultMaxTokens, "output tokens when a request sets no max_tokens")
	fs.Float64Var(&cfg.ErrorRate, "error-rate", cfg.ErrorRate, "fraction (0..1) of completion requests answered 500")
	fs.DurationVar(&cfg.AddedLatency, "added-latency", cfg.AddedLatency, "simulated delay before each completion request reaches the engine (divided by --time-scale)")
	fs.DurationVar(&cfg.UnavailableEvery, "unavailable-every", 0, "answer completions 503 during the first --unavailable-for of every this long (real time)")
	fs.DurationVar(&cfg.UnavailableFor, "unavailable-for", 0, "length of each 503 burst (with --unavailable-every)")
	fs.DurationVar(&cfg.StallFor, "stall-for", 0, "pause every streamed response once, after its first event, this long (real time)")
	fs.BoolVar(&cfg.Hang, "hang", cfg.Hang, "accept completion requests and never answer them")
	fs.IntVar(&cfg.ExitAfter, "exit-after", cfg.ExitAfter, "shut down (exit 0) after answering this many completion requests; 0 never")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long in-flight requests may finish on shutdown")
	tlsF.bind(fs)
	logs.bind(fs, "info")
	return cmd
}
