// Package scheduler picks the model-server endpoint for each inference
// request.
//
// # Pipeline
//
// [Scheduler.Pick] runs one cycle over a [pool.Snapshot]:
//
//  1. Filters (filter.go) drop endpoints the request already tried, then
//     endpoints with repeatedly failing scrapes, then endpoints with stale
//     metrics. The last two fail open: if they would leave nothing, they
//     keep everything.
//  2. Scorers each write a score in [0,1] per candidate into a slice
//     indexed like the candidates; an endpoint's total is the weighted sum
//     ([Weights]). Each scorer's file opens with its signal, formula,
//     complexity and behaviour on stale data: queue.go, kvcache.go,
//     prefix.go, lora.go, inflight.go.
//  3. The picker (picker.go) takes the highest total in one pass, breaking
//     ties uniformly at random by reservoir sampling.
//
// Each step is a [Plugin]. A scheduler built [WithPluginObserver] times
// them, one monotonic clock read per step boundary, and reports each
// step's duration after the pick (for the gateway's
// inference_extension_plugin_duration_seconds).
//
// No step sorts, shuffles or builds maps, and all per-cycle slices come from
// a sync.Pool, so a Pick over a hundred endpoints allocates nothing.
//
// # Prefix affinity
//
// The prompt is hashed into chained block hashes (package prefix). After a
// request is sent, [Scheduler.Commit] adds its blocks to the chosen
// endpoint's entry in the prefix index, an LRU bounded by the engine's
// reported KV-cache size; the prefix scorer then credits each candidate with
// the fraction of the next prompt's leading blocks it holds.
//
// Affinity only pays while its target has headroom: piling a hot prefix on
// one replica turns saved prefill into queueing. The default weights
// ([DefaultConfig]) and the queue scorer's quadratic shape make a prefix
// match decide while the holder's queue is within a few requests of the
// least-loaded candidate, and make load decide once the gap nears
// QueueDepthThreshold. A replica that takes over some of a hot prefix's
// traffic becomes a holder itself, so hot prefixes spread over just as many
// replicas as their load needs.
//
// # Saturation
//
// [Scheduler.Saturation] condenses the pool's load into one number for
// admission control (package admission): at 1 or more, sheddable requests
// are rejected.
//
// The package imports no HTTP, gRPC, Kubernetes or Prometheus code.
package scheduler
