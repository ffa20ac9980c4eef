package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/spf13/cobra"

	deploymonitoring "github.com/infergate/infergate/deploy/monitoring"
	"github.com/infergate/infergate/internal/monitoring"
)

func newMonitoringCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "monitoring",
		Short: "Check monitoring objects and turn them into a Prometheus scrape config",
		Long: `Work with the objects that tell Prometheus how to scrape the gateway's /metrics:
Google Cloud Managed Service for Prometheus' ClusterPodMonitoring and PodMonitoring, and
prometheus-operator's ServiceMonitor. Without -f, the objects shipped in deploy/monitoring
(embedded in the binary) are used.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newMonitoringValidateCmd(), newMonitoringPrometheusConfigCmd())
	return cmd
}

func newMonitoringValidateCmd() *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "validate [[-f] FILE]...",
		Short: "Check monitoring objects with Managed Prometheus' rules",
		Long: `Check ClusterPodMonitoring, PodMonitoring and ServiceMonitor objects the way Managed
Prometheus (or prometheus-operator) would, and explain each problem: timeout longer than the
interval, more than 10 endpoints, relabeling that writes or drops a protected label, labelmap,
a port that is a number or cannot name a container port, malformed secret references (a
namespace is not allowed in a PodMonitoring), unknown fields in GMP objects (the API server
drops them, so a mis-indented authorization block means no token), an empty selector. Other kinds in the files are skipped. Exits 1 when there are problems.
The files come as arguments or with -f; - reads standard input.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			files := append(slices.Clone(files), args...)
			objs, err := loadMonitoringObjects(cmd, files, deploymonitoring.Files())
			if err != nil {
				return err
			}
			checked := 0
			for _, o := range objs {
				if o.Monitoring() {
					checked++
				} else {
					fmt.Fprintf(cmd.ErrOrStderr(), "skipping %s/%s (%s): not a monitoring object\n", o.Kind, o.Metadata.Name, o.Source)
				}
			}
			if checked == 0 {
				return fmt.Errorf("no ClusterPodMonitoring, PodMonitoring or ServiceMonitor objects found")
			}
			problems := monitoring.Validate(objs)
			out := cmd.OutOrStdout()
			for _, p := range problems {
				if _, err := fmt.Fprintln(out, p); err != nil {
					return err
				}
			}
			if len(problems) > 0 {
				return fmt.Errorf("%d problem(s) in %d monitoring object(s)", len(problems), checked)
			}
			_, err = fmt.Fprintf(out, "%d monitoring object(s) valid\n", checked)
			return err
		},
	}
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "YAML file with objects (repeatable; - for standard input)")
	return cmd
}

func newMonitoringPrometheusConfigCmd() *cobra.Command {
	var (
		files  []string
		opts   monitoring.ScrapeOptions
		output string
	)
	cmd := &cobra.Command{
		Use:   "prometheus-config [[-f] FILE]...",
		Short: "Turn ClusterPodMonitoring/PodMonitoring objects into a Prometheus scrape config",
		Long: `Render ClusterPodMonitoring and PodMonitoring objects as a Prometheus configuration
(scrape_configs) for people who run their own Prometheus in the cluster: Kubernetes pod
discovery, the objects' selector, port name, interval, timeout, path and scheme, the bearer
token read from a file, and the target labels Managed Prometheus adds (job = object name,
instance = <pod>:<port>, namespace, pod, container, top-level controller; project_id,
location and cluster when given). The files come as arguments or with -f (either way,
- reads standard input); without any, Google's ClusterPodMonitoring from deploy/monitoring
is used. ServiceMonitors are skipped: prometheus-operator renders those. The objects are
validated first; problems are an error.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			files := append(slices.Clone(files), args...)
			objs, err := loadMonitoringObjects(cmd, files, []string{deploymonitoring.ClusterPodMonitoringFile})
			if err != nil {
				return err
			}
			for _, o := range objs {
				if o.Pod == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "skipping %s/%s (%s): only PodMonitoring and ClusterPodMonitoring are converted\n", o.Kind, o.Metadata.Name, o.Source)
				}
			}
			cfg, err := monitoring.PrometheusConfig(objs, opts)
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				_, err = cmd.OutOrStdout().Write(cfg)
				return err
			}
			if err := os.WriteFile(output, cfg, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", output, err)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVarP(&files, "file", "f", nil, "YAML file with objects (repeatable; - for standard input)")
	fs.StringVarP(&output, "output", "o", "", "write the configuration to this file instead of standard output")
	fs.StringVar(&opts.CredentialsFile, "credentials-file", "", "file the bearer token is mounted at (default <secrets-dir>/<secret name>/<key>)")
	fs.StringVar(&opts.SecretsDir, "secrets-dir", monitoring.DefaultSecretsDir, "directory the referenced Secrets are mounted under, one subdirectory per Secret")
	fs.StringVar(&opts.DefaultNamespace, "namespace", "default", "namespace of PodMonitorings that name none")
	fs.StringVar(&opts.Cluster, "cluster", "", "value of the cluster label on every target (left out when empty)")
	fs.StringVar(&opts.Location, "location", "", "value of the location label on every target (left out when empty)")
	fs.StringVar(&opts.ProjectID, "project-id", "", "value of the project_id label on every target (left out when empty)")
	return cmd
}

// loadMonitoringObjects parses the given files ("-" is standard input), or
// the embedded defaults when there are none.
func loadMonitoringObjects(cmd *cobra.Command, files, defaults []string) ([]monitoring.Object, error) {
	type source struct {
		name string
		read func() ([]byte, error)
	}
	var sources []source
	for _, f := range files {
		if f == "-" {
			sources = append(sources, source{"<stdin>", func() ([]byte, error) {
				return io.ReadAll(io.LimitReader(cmd.InOrStdin(), monitoring.MaxInputBytes+1))
			}})
			continue
		}
		sources = append(sources, source{f, func() ([]byte, error) { return os.ReadFile(f) }})
	}
	if len(sources) == 0 {
		for _, f := range defaults {
			sources = append(sources, source{"deploy/monitoring/" + f, func() ([]byte, error) {
				return fs.ReadFile(deploymonitoring.Objects, f)
			}})
		}
	}
	var objs []monitoring.Object
	for _, s := range sources {
		data, err := s.read()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", s.name, err)
		}
		parsed, err := monitoring.Parse(s.name, data)
		if err != nil {
			return nil, err
		}
		objs = append(objs, parsed...)
	}
	return objs, nil
}
