package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/infergate/infergate/internal/doctor"
)

func newDoctorCmd() *cobra.Command {
	var (
		url         string
		tokenFile   string
		tokenSecret string
		namespace   string
		timeout     time.Duration
		interval    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "doctor [URL]",
		Short: "Diagnose a gateway's metrics endpoint: reachability, auth, metric families",
		Long: `Check a gateway's metrics endpoint the way the troubleshooting section of
Google's Managed Prometheus guide does: can it be reached, what a 401 or 403
means and which file, secret or RBAC object to fix, whether the metric
families the dashboards need are there, whether every pool has ready
endpoints, and (from a second scrape) whether the values are live.

Each check prints ✓ (passed), ✗ (failed, with a one-line fix), ! (worth
knowing, not a failure) or – (skipped). The exit status is 1 when any check
failed.

The URL defaults to ` + doctor.DefaultURL + `. The token comes from
--token-file (the raw token, or the gateway's own token file). --token-secret
names the Kubernetes secret with the collector's token; reading it, and the
in-cluster checks, need Kubernetes mode and are reported as not available.`,
		Example: `  infergate doctor --token-file infergate-demo.token
  infergate doctor http://10.0.0.7:9090/metrics --token-file /var/run/secrets/metrics/token`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if cmd.Flags().Changed("url") {
					return errors.New("give the URL as an argument or with --url, not both")
				}
				url = args[0]
			}
			var src doctor.TokenSource
			switch {
			case tokenFile != "":
				src = doctor.FileToken(tokenFile)
			case tokenSecret != "":
				src = doctor.SecretToken{Namespace: namespace, Name: tokenSecret}
			}
			client := &http.Client{Timeout: timeout}
			defer client.CloseIdleConnections()
			ctx, stop := signalContext()
			defer stop()
			report := doctor.Run(ctx, doctor.Options{URL: url, Token: src, Client: client, Interval: interval})
			if err := report.Write(cmd.OutOrStdout()); err != nil {
				return err
			}
			if n := report.Failed(); n > 0 {
				return fmt.Errorf("doctor: %d of %d checks failed", n, len(report.Checks))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&url, "url", doctor.DefaultURL, "the gateway's metrics endpoint")
	fs.StringVar(&tokenFile, "token-file", "", "file holding the bearer token")
	fs.StringVar(&tokenSecret, "token-secret", "", "Kubernetes secret holding the bearer token (e.g. "+doctor.ReaderSecret+"; needs Kubernetes mode)")
	fs.StringVar(&namespace, "namespace", "", "namespace of --token-secret (default: the current one)")
	fs.DurationVar(&timeout, "timeout", doctor.DefaultTimeout, "timeout of each request")
	fs.DurationVar(&interval, "interval", doctor.DefaultInterval, "wait between the two scrapes that show whether values are live")
	cmd.MarkFlagsMutuallyExclusive("token-file", "token-secret")
	return cmd
}
