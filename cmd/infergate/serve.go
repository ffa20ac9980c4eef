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
	"github.com/infergate/infergate/internal/telemetry"
)

func newServeCmd() *cobra.Command {
	var (
		path          string
		listen        string
		metricsListen string
		kubeconfig    string
		poolNames     []string
		poolNamespace string
		metricsAuth   bool
		logs          logFlags
		ext           extProcFlags
	)
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the gateway as a native OpenAI proxy",
		Long: `Run the gateway: an OpenAI-compatible proxy on --listen that routes every request
to the best model-server endpoint of its pool, and the metrics/admin listener on
--metrics-listen. Settings come from the config file; flags override it.
Print an example config with "infergate serve --print-example-config".

Kubernetes mode serves InferencePools from the cluster instead of the file's
pools: set kubernetes.enabled in the file, or pass --pool-name (then the config
file is optional and /metrics is checked with TokenReview and
SubjectAccessReview, as upstream's endpoint picker does).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if printExample, _ := cmd.Flags().GetBool("print-example-config"); printExample {
				_, err := cmd.OutOrStdout().Write(config.Example)
				return err
			}
			if path == "" && len(poolNames) == 0 {
				return errors.New("--config or --pool-name is required (see --print-example-config)")
			}
			log, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ext.warnIgnored(cmd.Flags(), log)
			flags := func(c *config.Config) {
				if len(poolNames) > 0 {
					c.Kubernetes.Enabled = true
					c.Kubernetes.Pools = poolNames
				}
				if cmd.Flags().Changed("pool-namespace") {
					c.Kubernetes.Namespace = poolNamespace
				}
				if cmd.Flags().Changed("kubeconfig") {
					c.Kubernetes.Kubeconfig = kubeconfig
				}
				if cmd.Flags().Changed("metrics-endpoint-auth") {
					c.Metrics.Auth.Enabled = &metricsAuth
				}
				if cmd.Flags().Changed("listen") {
					c.Listen = listen
				}
				if cmd.Flags().Changed("metrics-listen") {
					c.MetricsListen = metricsListen
				}
				kubePool := ""
				if len(poolNames) == 1 {
					kubePool = poolNames[0]
				}
				ext.apply(cmd.Flags(), c, kubePool)
			}
			cfg, err := config.LoadOrKubernetesDefaults(path, flags)
			if err != nil {
				return err
			}
			ver, commit := buildInfo()
			reg := telemetry.NewRegistry()
			kube, err := newKubeParts(cfg, reg, log)
			if err != nil {
				return err
			}
			opts := gateway.Options{Logger: log, Commit: commit, BuildRef: ver, Registry: reg, MetricsAuth: kube.auth}
			if kube.controller != nil {
				opts.Discovery = kube.controller
			}
			gw, err := gateway.New(cfg, opts)
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
	fs.StringSliceVar(&poolNames, "pool-name", nil, "serve this InferencePool (repeatable; turns on Kubernetes mode)")
	fs.StringVar(&poolNamespace, "pool-namespace", "", "namespace of the InferencePools (default: $POD_NAMESPACE, then the service account's)")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)")
	fs.BoolVar(&metricsAuth, "metrics-endpoint-auth", true, "require a bearer token on /metrics, /debug/pprof/ and /dashboard (false turns auth off)")
	fs.Bool("print-example-config", false, "print a commented example config and exit")
	ext.bind(fs)
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
