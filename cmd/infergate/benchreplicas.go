package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/infergate/infergate/internal/bench"
)

func newBenchReplicasCmd() *cobra.Command {
	var o bench.ReplicaFlowStudyOptions
	cmd := &cobra.Command{
		Use:   "replicas [--replicas 2,4,8] [--sync 50ms,500ms] [--seed N]",
		Short: "Model flow control across active-active gateway replicas (discrete-event simulation)",
		Long: `Run the discrete-event model of flow control across N gateway replicas behind a
random load balancer, and print how far per-replica queues drift from one global
queue (dispatches out of priority order and out of round-robin order between
tenants), with and without the shared state that docs/active-active-flow-control.md
proposes. Every row replays the same seeded requests; it takes a second.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := bench.ReplicaFlowStudy(o)
			if err != nil {
				return err
			}
			return bench.WriteReplicaFlowTable(cmd.OutOrStdout(), rows)
		},
	}
	fs := cmd.Flags()
	fs.IntSliceVar(&o.Replicas, "replicas", []int{2, 4, 8}, "gateway replica counts")
	fs.DurationSliceVar(&o.Syncs, "sync", []time.Duration{50 * time.Millisecond, 500 * time.Millisecond}, "shared-state sync intervals")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the request sequence")
	return cmd
}
