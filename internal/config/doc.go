// Package config defines the gateway's configuration file: a versioned YAML
// document (apiVersion [APIVersion], kind [Kind]) that names the pools of
// model servers, the models clients may request, the objectives (priorities)
// requests run under, and the tuning of the scheduler, scraper, upstream
// proxy, metrics and shutdown.
//
// # Life cycle
//
// [Load] reads a file and calls [Parse], which decodes strictly (unknown
// fields are errors, reported with their path and line), then runs
// [Config.ApplyDefaults] and [Config.Validate]. Validate reports every
// problem at once, each prefixed with the field path in YAML key names, for
// example:
//
//	pools[0].endpoints[1].address: "x" is not host:port
//
// Names of pools, endpoints, models, targets and objectives are free-form
// but must be non-empty UTF-8 without control characters or surrounding
// white space, since they travel in headers, metric labels and logs.
//
// Code that builds a Config itself starts from [Default], adds pools,
// calls ApplyDefaults again (it is idempotent) and then Validate.
//
// A Config is a plain value with no locks: build it, validate it, then treat
// it as read-only. A reload builds and validates a new Config and swaps it in;
// it never mutates the live one.
//
// # Defaults
//
// A zero or nil field means "use the default". Fields where zero is a
// meaningful setting (scorer weights, maxRetries, the booleans) are pointers;
// the accessor methods ([ScorerWeights.QueueWeight], [Upstream.Retries],
// [Upstream.ForwardAuth], [Metrics.Legacy], [MetricsAuth.On]) return the
// default for nil, so they are correct whether or not ApplyDefaults ran.
//
// # Example
//
// [Example] holds a complete, commented configuration (testdata/example.yaml)
// that parses cleanly.
package config
