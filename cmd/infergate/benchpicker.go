package main

import (
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"github.com/infergate/infergate/internal/bench"
)

func newBenchPickerCmd() *cobra.Command {
	var (
		o        bench.PickerCostOptions
		planes   []string
		jsonPath string
	)
	cmd := &cobra.Command{
		Use:   "picker [--planes proxy,extproc,extproc-tls] [--rates 100,500] [--body-bytes 1024,220000] [--duration 10s]",
		Short: "Measure the ext_proc picker's cost beside the native proxy (Envoy stand-in as the data plane)",
		Long: `Run infergate serve as a child process in front of instant-answer simulated
replicas and offer an open-loop load of streamed chat completions at each rate and
body size, through the native proxy and through ext_proc behind the Go Envoy
stand-in (internal/envoystandin; not Envoy), plaintext and TLS. Prints, per point,
two decision latencies: the picker's own (last request message received → header
response handed to gRPC, from the gateway's infergate_extproc_decision_duration_seconds
scraped before and after the point: p50/p99 interpolated within its buckets, and the
exact shares at or under 0.3 ms and 2 ms) and the data plane's round trip (last
request-body message sent → header response received, at the stand-in) p50/p99;
the delay every streamed response chunk pays in the picker's response path, client
end-to-end latency and the gateway process's CPU per request (/proc, net of its idle
CPU measured before each point). The stand-in and the load generator run in this
process. --json also writes the rows as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the infergate binary: %w", err)
			}
			o.Command = func(configPath string) *exec.Cmd {
				return exec.Command(self, "serve", "--config", configPath, "--log-level", "warn")
			}
			dir, err := os.MkdirTemp("", "infergate-bench-picker-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			o.Dir = dir
			for _, p := range planes {
				switch pl := bench.PickerPlane(p); pl {
				case bench.PlaneProxy, bench.PlaneExtProc, bench.PlaneExtProcTLS:
					o.Planes = append(o.Planes, pl)
				default:
					return fmt.Errorf("--planes: unknown plane %q (proxy, extproc, extproc-tls)", p)
				}
			}
			ctx, stop := signalContext()
			defer stop()
			rows, err := bench.PickerCostStudy(ctx, o)
			if werr := bench.WritePickerCostTable(cmd.OutOrStdout(), rows); werr != nil && err == nil {
				err = werr
			}
			if jsonPath != "" {
				if werr := writePickerCostJSON(jsonPath, rows); werr != nil && err == nil {
					err = werr
				}
			}
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVar(&planes, "planes", []string{"proxy", "extproc", "extproc-tls"}, "data planes: proxy, extproc, extproc-tls")
	fs.Float64SliceVar(&o.Rates, "rates", []float64{100, 500}, "offered request rates per second")
	fs.IntSliceVar(&o.BodyBytes, "body-bytes", []int{1 << 10, 220_000}, "request body sizes in bytes")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "load time per point (after a 20-request warm-up)")
	fs.IntVar(&o.Replicas, "replicas", 4, "instant-answer simulated replicas")
	fs.IntVar(&o.OutputTokens, "output-tokens", 8, "streamed tokens per response")
	fs.StringVar(&jsonPath, "json", "", "also write the rows as a JSON report to this file")
	return cmd
}

// writePickerCostJSON writes the picker-cost rows as JSON to path.
func writePickerCostJSON(path string, rows []bench.PickerCostRow) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	if err := bench.WritePickerCostJSON(f, rows); err != nil {
		f.Close()
		return fmt.Errorf("--json: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	return nil
}
