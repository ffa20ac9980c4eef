package main

import (
	"github.com/spf13/cobra"

	"github.com/infergate/infergate/internal/demo"
)

func newDemoCmd() *cobra.Command {
	var (
		o    demo.Options
		logs logFlags
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run simulated replicas, the gateway and secured metrics on loopback",
		Long: `Start simulated vLLM replicas (each with a different LoRA adapter loaded), the
gateway in front of them and its metrics listener guarded by a fresh bearer
token, then print ready-to-paste curl commands. Runs until Ctrl-C.

Traces: with OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) set, the gateway exports its
spans (service infergate) and the replicas their "llm_request" spans continuing the
gateway's trace (service infergate-sim) over OTLP; the standard OTEL_* variables apply.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			o.Out, o.Logger = cmd.OutOrStdout(), log
			ctx, stop := signalContext()
			defer stop()
			return demo.Run(ctx, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "OpenAI proxy listen address")
	fs.StringVar(&o.MetricsListen, "metrics-listen", "127.0.0.1:9090", "metrics/admin listen address")
	fs.StringVar(&o.TokenFile, "token-file", "infergate-demo.token", "where to write the fresh metrics bearer token (mode 0600)")
	fs.IntVar(&o.Replicas, "replicas", 4, "number of simulated replicas")
	fs.Float64Var(&o.TimeScale, "time-scale", 1, "simulated replicas run this many times faster than real time")
	fs.BoolVar(&o.Load, "load", false, "drive light background traffic so the metrics move")
	logs.bind(fs, "warn")
	return cmd
}
