package main

import (
	"github.com/spf13/cobra"

	"github.com/infergate/infergate/internal/envoystandin"
)

// newEnvoyStandInCmd is the hidden subcommand the benchmark runs the Go
// Envoy stand-in with, as a process of its own (see envoystandin.Serve).
func newEnvoyStandInCmd() *cobra.Command {
	var (
		cfg  envoystandin.Config
		logs logFlags
	)
	cmd := &cobra.Command{
		Use:    "envoy-standin",
		Short:  "Run the Go Envoy stand-in in front of an ext_proc picker (benchmark use)",
		Hidden: true,
		Long: `Run the Go Envoy stand-in (internal/envoystandin): an HTTP listener whose requests go
through the ext_proc picker at --extproc-addr in FULL_DUPLEX_STREAMED mode and on to the
endpoint it picks. infergate bench runs it as a child process in its ext_proc arms.

Prints "` + envoystandin.ReadyPrefix + `<url>" once listening. On SIGINT or SIGTERM it
stops, waiting for requests in flight, and prints "` + envoystandin.StatsPrefix + `<json>".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cfg.Logger = log
			ctx, stop := signalContext()
			defer stop()
			return envoystandin.Serve(ctx, cfg, cmd.OutOrStdout())
		},
	}
	cfg.BindFlags(cmd.Flags())
	logs.bind(cmd.Flags(), "warn")
	return cmd
}
