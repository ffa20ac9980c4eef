package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/gateway"
)

func newServeCmd() *cobra.Command {
	var (
		path          string
		listen        string
		metricsListen string
		logs          logFlags
	)
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the gateway as a native OpenAI proxy",
		Long: `Run the gateway: an OpenAI-compatible proxy on --listen that routes every request
to the best model-server endpoint of its pool, and the metrics/admin listener on
--metrics-listen. Settings come from the config file; flags override it.
Print an example config with "infergate serve --print-example-config".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if printExample, _ := cmd.Flags().GetBool("print-example-config"); printExample {
				_, err := cmd.OutOrStdout().Write(config.Example)
				return err
			}
			if path == "" {
				return errors.New("--config is required (see --print-example-config)")
			}
			log, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("listen") {
				cfg.Listen = listen
			}
			if cmd.Flags().Changed("metrics-listen") {
				cfg.MetricsListen = metricsListen
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			ver, commit := buildInfo()
			gw, err := gateway.New(cfg, gateway.Options{Logger: log, Commit: commit, BuildRef: ver})
			if err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			return gw.Serve(ctx)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&path, "config", "c", "", "path to the gateway config file (YAML)")
	fs.StringVar(&listen, "listen", config.DefaultListen, "OpenAI proxy listen address (overrides the config file)")
	fs.StringVar(&metricsListen, "metrics-listen", config.DefaultMetricsListen, "metrics/admin listen address (overrides the config file)")
	fs.Bool("print-example-config", false, "print a commented example config and exit")
	logs.bind(fs, "info")
	return cmd
}

// signalContext is cancelled by the first SIGINT or SIGTERM; after that the
// default signal behaviour is restored, so a second signal exits at once.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}
