package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// buildInfo returns the version and the VCS commit the binary was built from
// ("unknown" when the build did not record it).
func buildInfo() (ver, commit string) {
	commit = "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	return version, commit
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go runtime",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ver, commit := buildInfo()
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "infergate %s (commit %s, %s, %s/%s)\n", ver, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
