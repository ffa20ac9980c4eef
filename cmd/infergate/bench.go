package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/infergate/infergate/internal/bench"
)

func newBenchCmd() *cobra.Command {
	var (
		suiteName  string
		out        string
		timeScale  float64
		scenarios  []string
		target     string
		model      string
		inProcess  bool
		noPin      bool
		extProc    bool
		compareExt bool
		noProgress bool
		list       bool
		printSuite bool
		logs       logFlags
		// chaosDuration is the load's length in the chaos suite.
		chaosDuration time.Duration
	)
	cmd := &cobra.Command{
		Use:   "bench [--suite standard|overhead|chaos|FILE] [--target URL]",
		Short: "Benchmark routing strategies and the gateway's overhead on simulated fleets",
		Long: `Run a benchmark suite. Each routing scenario starts identical simulated fleets
(fresh, cold caches) and puts each routing strategy of the gateway in front in turn
(round-robin, random, least-request, infergate's default), replaying the same seeded
request sequence; overhead scenarios compare the same backends with and without the
gateway. The report folder gets report.json, summary.md and PNG plots; a table is
printed at the end.

With --target, the suite's workloads are sent to an existing OpenAI endpoint instead
(a gateway or a replica), in wall time.

With --compare-extproc, each routing scenario's strategies under test (its targets'
strategies) also run through the gateway's ext_proc picker behind the Go Envoy
stand-in, as arms named "<strategy> via ext_proc" on the same fleet, requests,
arrival times and flow-control mode; the report compares each target between the two
planes (ext_proc / native, within 5 %) and the replica-side TTFT. Suites may also list
such arms themselves.

Suites: a built-in name (--list) or a YAML file (--print-suite shows the format).

--suite chaos is different: simulator and gateway processes of this binary run
under load for --duration while replicas are killed and restarted, stopped
(SIGSTOP), answer 503 bursts and stall, and hostile clients run from other
loopback addresses; it prints and writes report.md and fails when a check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if list {
				for _, n := range bench.SuiteNames() {
					fmt.Fprintln(cmd.OutOrStdout(), n)
				}
				fmt.Fprintln(cmd.OutOrStdout(), "chaos")
				return nil
			}
			if suiteName == "chaos" {
				return runChaos(cmd, chaosDuration, out)
			}
			data, err := bench.BuiltinSuite(suiteName)
			if err != nil {
				var ferr error
				if data, ferr = os.ReadFile(suiteName); ferr != nil {
					return errors.Join(err, ferr)
				}
			}
			if printSuite {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			suite, err := bench.ParseSuite(data)
			if err != nil {
				return err
			}
			if err := suite.Select(scenarios...); err != nil {
				return err
			}
			if timeScale > 0 {
				suite.TimeScale = timeScale
			}
			if model != "" {
				suite.Model = model
			}
			log, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			opts := bench.Options{
				Suite:     suite,
				TimeScale: timeScale,
				NoPin:     noPin,
				Target:    target,
				ExtProc:   extProc,
				// Compare the planes in one run: the strategies under test
				// also run through ext_proc.
				CompareExtProc: compareExt,
				Command:        "infergate " + strings.Join(os.Args[1:], " "),
				Logger:         log,
			}
			if !noProgress {
				opts.Progress = cmd.ErrOrStderr()
			}
			if !inProcess {
				self, err := os.Executable()
				if err != nil {
					return fmt.Errorf("find the infergate binary: %w", err)
				}
				opts.Gateway = func(configPath string) *exec.Cmd {
					return exec.Command(self, "serve", "--config", configPath, "--log-level", "warn")
				}
				opts.StandIn = func(args []string) *exec.Cmd {
					return exec.Command(self, append([]string{"envoy-standin", "--log-level", "warn"}, args...)...)
				}
			}
			if out == "" {
				out = filepath.Join("reports", suite.Name+"-"+time.Now().Format("20060102-150405"))
			}
			ctx, stop := signalContext()
			defer stop()
			rep, err := bench.Run(ctx, opts)
			if err != nil {
				return err
			}
			if err := bench.WriteReport(out, rep); err != nil {
				return err
			}
			if err := bench.WriteTable(cmd.OutOrStdout(), rep); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", out)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&suiteName, "suite", "standard", "built-in suite name, chaos, or suite YAML file")
	fs.DurationVar(&chaosDuration, "duration", 30*time.Minute, "length of the chaos suite's run (--suite chaos; at least 30s)")
	fs.StringVar(&out, "out", "", "report folder (default reports/<suite>-<time>)")
	fs.Float64Var(&timeScale, "time-scale", 0, "override the simulated-time speed-up of the suite and all its routing scenarios")
	fs.StringSliceVar(&scenarios, "scenario", nil, "run only these scenarios (repeatable or comma-separated)")
	fs.StringVar(&target, "target", "", "send the workloads to this OpenAI endpoint (http://host:port) instead of simulated fleets")
	fs.StringVar(&model, "model", "", "model name to send (default the suite's; needed with --target)")
	fs.BoolVar(&inProcess, "in-process", false, "run the gateway inside this process (its CPU and RSS are then not measured)")
	fs.BoolVar(&extProc, "extproc", false, "send the gateway runs through its ext_proc picker behind the Go Envoy stand-in instead of the native proxy (routing quality through ext_proc)")
	fs.BoolVar(&compareExt, "compare-extproc", false, "also run each routing scenario's strategies under test through the ext_proc picker behind the Go Envoy stand-in (arms named \"<strategy> via ext_proc\", same requests and fleet) and compare the targets of both planes in this run (within 5 %)")
	fs.BoolVar(&noPin, "no-pin", false, "do not pin the gateway and the load generator to separate CPUs in overhead scenarios")
	fs.BoolVar(&noProgress, "no-progress", false, "do not draw a progress bar")
	fs.BoolVar(&list, "list", false, "list the built-in suites and exit")
	fs.BoolVar(&printSuite, "print-suite", false, "print the suite's YAML and exit")
	logs.bind(fs, "warn")
	cmd.AddCommand(newBenchReplicasCmd(), newBenchPickerCmd())
	return cmd
}
