// Package gateway assembles a running infergate from a [config.Config]: the
// pool stores, the model-server scraper, the scheduler and admission, the
// router, the OpenAI proxy listener and the metrics/admin listener. It owns
// every background goroutine it starts and stops them in order on shutdown;
// its listeners are started in order and stopped in reverse order by one
// owner (servers.go), so the proxy drains while /metrics still answers.
//
// What the gateway routes over is a [config.Catalog] of pools, models and
// objectives. In static mode it is the config file's, applied once by [New];
// in Kubernetes mode the gateway runs [Options.Discovery] (the controller),
// handing it the function that applies each catalog it publishes (the same
// path as [Gateway.SetCatalog]), and the gateway reports
// ready once the first one has arrived. Pools that join get a store, a
// scheduler and their inference_pool_* metrics; pools that leave are dropped;
// endpoints that stay keep their scraped metrics and in-flight counts.
//
// cmd/infergate only loads configuration, builds the Kubernetes parts when
// the config asks for them, and calls [New], [Gateway.Listen] and
// [Gateway.Serve]; the demo does the same with a generated config.
package gateway
