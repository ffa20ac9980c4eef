package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/infergate/infergate/internal/bench"
)

// runChaos runs `bench --suite chaos`: simulator and gateway processes of
// this binary under load while faults are injected, the report printed and
// written to out; it fails when a check fails.
func runChaos(cmd *cobra.Command, d time.Duration, out string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the infergate binary: %w", err)
	}
	if out == "" {
		out = filepath.Join("reports", "chaos-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create report folder: %w", err)
	}
	ctx, stop := signalContext()
	defer stop()
	errOut := cmd.ErrOrStderr()
	rep, err := bench.RunChaos(ctx, bench.ChaosOptions{
		Bin:      self,
		Duration: d,
		Dir:      out,
		Progress: func(format string, args ...any) {
			fmt.Fprintf(errOut, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
		},
	})
	if err != nil {
		return err
	}
	if err := bench.WriteChaosReport(out, rep); err != nil {
		return err
	}
	if err := rep.WriteMarkdown(cmd.OutOrStdout()); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", out)
	if !rep.Pass {
		return bench.ErrChaosFailed
	}
	return nil
}
