package main

import "github.com/spf13/cobra"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "infergate",
		Short:         "Inference gateway for LLM model servers",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newSimCmd(), newDemoCmd(), newVersionCmd(), newMonitoringCmd(), newBenchCmd(), newDoctorCmd(), newEnvoyStandInCmd())
	return root
}
