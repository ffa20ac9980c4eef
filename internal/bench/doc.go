// Package bench is infergate's benchmark: it compares the gateway's routing
// strategies on simulated fleets and measures the gateway's own overhead,
// and writes the results as a report (JSON, Markdown, PNG plots, a terminal
// table). The `infergate bench` command wires it; docs/bench.md describes
// the methodology.
//
// # Suites and scenarios
//
// A [Suite] (YAML, see [ParseSuite]; built-in ones in suites/, listed by
// [SuiteNames]) is a list of scenarios. A routing scenario ([KindRouting])
// runs every listed strategy — "round-robin", "random", "least-request" and
// "default", the values of the gateway's scheduler.strategy — once per
// sweep point, each time on a fresh fleet of simulated replicas
// (internal/simulator, in this process on loopback) with a fresh gateway in
// front, replaying the same seeded request sequence at the same seeded
// times. An overhead scenario ([KindOverhead]) runs the same instant-answer
// replicas directly ("direct": the load generator spreads requests itself)
// and through the gateway, at time scale 1.
//
// # Time scaling
//
// Routing scenarios run the replicas TimeScale times faster than real time
// and divide every time-based gateway setting (scrape interval, timeout and
// staleness, model-list interval, upstream timeouts) by the same factor
// (gatewayconfig.go). Client-side measurements are converted to model time
// (× TimeScale), so the gateway's own wall-clock cost is magnified, never
// hidden.
//
// # Measurements
//
// The load generator (client.go, loadgen.go) streams every request and
// records TTFT, inter-token gaps, E2E and usage per request (record.go);
// run.go turns them into percentiles, rates and goodput (stats.go), and
// reads the replicas' own counters for the prefix-cache hit rate, KV usage
// and engine-side TTFT (simmetrics.go, histogram.go, sampler.go). The
// gateway runs as a child process when [Options.Gateway] is set, so its CPU
// time and peak RSS come from /proc (procstat.go); overhead scenarios can
// pin it to a CPU of its own (pin_linux.go). Targets declared in the suite
// are evaluated on the results (targets.go).
package bench
