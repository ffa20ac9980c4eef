package bench

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// ReplicaFlowStudyOptions choose the points of [ReplicaFlowStudy].
type ReplicaFlowStudyOptions struct {
	// Replicas are the gateway replica counts compared (default 2, 4, 8).
	Replicas []int
	// Syncs are the shared-state sync intervals compared (default 50ms and
	// 500ms).
	Syncs []time.Duration
	// Seed draws the request sequence every row replays.
	Seed uint64
}

// ReplicaFlowRow is one line of the study: a mode at a replica count (and
// sync interval for shared state), next to the global queue on the same
// requests.
type ReplicaFlowRow struct {
	Replicas int
	Mode     ReplicaFlowMode
	Sync     time.Duration // shared state only
	// Partitioned: replica 0 is cut off the store half-way through.
	Partitioned bool
	Result      ReplicaFlowResult
	// FairnessError is the tenant-share distance to the global queue.
	FairnessError float64
}

// DefaultReplicaFlowConfig is the study's workload: a pool of 16 slots
// (mean service 1 s) offered 140 % of its capacity for 20 s, then 60 %, for
// 400 s; three bands (priority 10, 0 and -1: 20/50/30 % of requests); four
// tenants sending 8:4:2:1; a 20 s queue TTL.
func DefaultReplicaFlowConfig(seed uint64) ReplicaFlowConfig {
	return ReplicaFlowConfig{
		Slots: 16, ServiceMean: 1, Overload: 1.4, Underload: 0.6, Period: 40, Duration: 400, TTL: 20,
		Bands:   []ReplicaFlowBand{{Priority: 10, Share: 0.2}, {Priority: 0, Share: 0.5}, {Priority: -1, Share: 0.3}},
		Tenants: []float64{8, 4, 2, 1},
		Seed:    seed,
	}
}

// ReplicaFlowStudy runs the discrete-event model of flow control across
// active-active replicas behind a random load balancer: per replica count,
// per-replica queues (today) and the shared-state design at each sync
// interval, with a partitioned replica for the shortest interval.
func ReplicaFlowStudy(o ReplicaFlowStudyOptions) ([]ReplicaFlowRow, error) {
	if len(o.Replicas) == 0 {
		o.Replicas = []int{2, 4, 8}
	}
	if len(o.Syncs) == 0 {
		o.Syncs = []time.Duration{50 * time.Millisecond, 500 * time.Millisecond}
	}
	base := DefaultReplicaFlowConfig(o.Seed)
	base.Mode, base.Replicas = FlowGlobal, 1
	global, err := RunReplicaFlow(base)
	if err != nil {
		return nil, err
	}
	rows := []ReplicaFlowRow{{Replicas: 1, Mode: FlowGlobal, Result: global}}
	for _, n := range o.Replicas {
		c := base
		c.Replicas, c.Mode = n, FlowLocal
		points := []ReplicaFlowRow{{Replicas: n, Mode: FlowLocal}}
		for i, s := range o.Syncs {
			points = append(points, ReplicaFlowRow{Replicas: n, Mode: FlowShared, Sync: s})
			if i == 0 {
				points = append(points, ReplicaFlowRow{Replicas: n, Mode: FlowShared, Sync: s, Partitioned: true})
			}
		}
		for _, p := range points {
			c.Mode, c.SyncInterval, c.PartitionAt = p.Mode, p.Sync.Seconds(), 0
			if p.Partitioned {
				c.PartitionAt = c.Duration / 2
			}
			if p.Result, err = RunReplicaFlow(c); err != nil {
				return nil, err
			}
			p.FairnessError = p.Result.FairnessError(global)
			rows = append(rows, p)
		}
	}
	return rows, nil
}

// WriteReplicaFlowTable writes rows as a Markdown table.
func WriteReplicaFlowTable(w io.Writer, rows []ReplicaFlowRow) error {
	_, err := fmt.Fprintln(w, "| replicas | flow state | out of priority order | out of fair order | tenant-share error | p99 wait, priority 10 | expired | idle slots while queued |\n|---:|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		mode := r.Mode.String()
		if r.Mode == FlowShared {
			mode += ", sync " + r.Sync.String()
		}
		if r.Partitioned {
			mode += ", 1 partitioned"
		}
		res := r.Result
		p99 := "-"
		if len(res.WaitP99) > 0 {
			p99 = strconv.FormatFloat(res.WaitP99[0], 'f', 2, 64) + " s"
		}
		if _, err2 := fmt.Fprintf(w, "| %d | %s | %.1f %% | %.1f %% | %.3f | %s | %.1f %% | %.2f %% |\n",
			r.Replicas, mode, 100*res.OutOfOrder, 100*res.OutOfFairOrder, r.FairnessError, p99,
			100*float64(res.Expired)/float64(max(res.Arrived, 1)), 100*res.IdleSlotShare); err2 != nil && err == nil {
			err = err2
		}
	}
	return err
}
