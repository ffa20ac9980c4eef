package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/infergate/infergate/internal/certfile"
	"github.com/infergate/infergate/internal/doctor"
)

func newDoctorCmd() *cobra.Command {
	var (
		url           string
		tokenFile     string
		caFile        string
		tokenSecret   string
		timeout       time.Duration
		interval      time.Duration
		cluster       doctor.Cluster
		clusterChecks bool
	)
	cmd := &cobra.Command{
		Use:   "doctor [URL]",
		Short: "Diagnose a gateway's metrics endpoint and its Managed Prometheus setup",
		Long: `Check a gateway's metrics endpoint the way the troubleshooting section of
Google's Managed Prometheus guide does: can it be reached, what a 401 or 403
means and which file, secret or RBAC object to fix, whether the metric
families the dashboards need are there, whether every pool has ready
endpoints, and (from a second scrape) whether the values are live.

The URL defaults to ` + doctor.DefaultURL + `. The token comes from
--token-file (the raw token, or the gateway's own token file) or from
--token-secret, the Kubernetes secret the collector sends:
` + doctor.ReaderSecret + ` in Google's guide.
The doctor checks that the secret exists, is of type
kubernetes.io/service-account-token and holds a token, then scrapes with it.
It never prints a token.

In-cluster checks run with --token-secret, --cluster or any other Kubernetes
flag. The doctor connects with --kubeconfig (default: $KUBECONFIG, then
~/.kube/config, then the pod's in-cluster configuration) and then checks:
  pods          pods matching --selector (default ` + doctor.DefaultSelector + `)
                exist in --namespace (or with --all-namespaces anywhere) and are Ready
  metrics port  each pod has a container port named ` + doctor.MetricsPortName + ` (monitoring
                objects select the port by name)
  metrics rbac  the secret's ServiceAccount may GET /metrics (ClusterRole
                ` + doctor.ReaderClusterRole + ` and ClusterRoleBinding
                ` + doctor.ReaderClusterRoleBinding + `)
  secret rbac   the collector (--collector, default ` + doctor.DefaultCollector + `; Autopilot:
                ` + doctor.AutopilotCollector + `) may read the secret (ClusterRole
                ` + doctor.SecretReadClusterRole + ` and its binding)
  monitoring    a ClusterPodMonitoring or PodMonitoring selects the pods (a
                warning when Managed Prometheus is not installed)
The RBAC checks ask the API server with SubjectAccessReviews; when the
doctor's own credentials may not create them, they are reported as "could
not check".

Each check prints ✓ (passed), ✗ (failed, with a one-line fix), ! (worth
knowing, not a failure) or – (skipped). The exit status is 1 when any check
failed.`,
		Example: `  infergate doctor --token-file infergate-demo.token
  infergate doctor http://10.0.0.7:9090/metrics --token-file /var/run/secrets/metrics/token
  kubectl port-forward -n inference pod/GATEWAY-POD 9090 &
  infergate doctor --token-secret default/` + doctor.ReaderSecret + ` --namespace inference`,
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
				st, err := secretRef(tokenSecret)
				if err != nil {
					return err
				}
				src = st
			}
			o := doctor.Options{URL: url, Token: src, Interval: interval}
			fs := cmd.Flags()
			if clusterChecks || tokenSecret != "" || fs.Changed("kubeconfig") || fs.Changed("namespace") ||
				fs.Changed("all-namespaces") || fs.Changed("selector") || fs.Changed("collector") {
				c := cluster
				o.Cluster = &c
			}
			client := &http.Client{Timeout: timeout}
			if caFile != "" {
				roots, err := certfile.LoadPool(caFile)
				if err != nil {
					return err
				}
				client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
			}
			defer client.CloseIdleConnections()
			o.Client = client
			ctx, stop := signalContext()
			defer stop()
			report := doctor.Run(ctx, o)
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
	fs.StringVar(&caFile, "ca-file", "", "PEM file of the CA that signed an https:// metrics listener's certificate (tls.metrics; default: the system roots)")
	fs.StringVar(&tokenSecret, "token-secret", "", "Kubernetes secret holding the bearer token, NAME or NAMESPACE/NAME (e.g. "+doctor.ReaderSecret+")")
	fs.DurationVar(&timeout, "timeout", doctor.DefaultTimeout, "timeout of each request")
	fs.DurationVar(&interval, "interval", doctor.DefaultInterval, "wait between the two scrapes that show whether values are live")
	fs.BoolVar(&clusterChecks, "cluster", false, "run the in-cluster checks (implied by --token-secret and the other Kubernetes flags)")
	fs.StringVar(&cluster.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster configuration)")
	fs.StringVarP(&cluster.Namespace, "namespace", "n", "", "namespace of the gateway's pods and of --token-secret (default: the kubeconfig context's, else default)")
	fs.BoolVarP(&cluster.AllNamespaces, "all-namespaces", "A", false, "look for the gateway's pods in every namespace")
	fs.StringVarP(&cluster.Selector, "selector", "l", doctor.DefaultSelector, "label selector of the gateway's pods")
	fs.StringVar(&cluster.Collector, "collector", doctor.DefaultCollector, "Managed Prometheus collector ServiceAccount as NAMESPACE:NAME (Autopilot: "+doctor.AutopilotCollector+")")
	cmd.MarkFlagsMutuallyExclusive("token-file", "token-secret")
	return cmd
}

// secretRef parses --token-secret: NAME, or NAMESPACE/NAME.
func secretRef(ref string) (doctor.SecretToken, error) {
	ns, name, ok := strings.Cut(ref, "/")
	if !ok {
		return doctor.SecretToken{Name: ref}, nil
	}
	if ns == "" || name == "" || strings.Contains(name, "/") {
		return doctor.SecretToken{}, fmt.Errorf("--token-secret %q: want NAME or NAMESPACE/NAME", ref)
	}
	return doctor.SecretToken{Namespace: ns, Name: name}, nil
}
