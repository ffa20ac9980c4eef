// Package pool holds the gateway's view of the model-server replicas it can
// route to.
//
// An [Endpoint] is one replica (one address). Its scraped model-server state
// ([Metrics]) and the gateway's own in-flight counters are updated with
// atomics, so readers never lock. A [Snapshot] is an immutable list of
// endpoints; a [Store] publishes snapshots atomically, so a request does one
// [Store.Load] and works on a consistent view while discovery swaps in new
// membership behind it.
//
// The package imports no HTTP, gRPC or Kubernetes code: the scheduler, the
// scrapers, the proxy and the Kubernetes controller all meet here.
package pool
