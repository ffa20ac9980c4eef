// Package gateway assembles a running infergate from a [config.Config]: the
// pool stores, the model-server scraper, the scheduler and admission, the
// router, the OpenAI proxy listener and the metrics/admin listener. It owns
// every background goroutine it starts and stops them in order on shutdown.
//
// cmd/infergate only loads configuration and calls [New], [Gateway.Listen]
// and [Gateway.Serve]; the demo does the same with a generated config.
package gateway
