package pool

import (
	"slices"
	"sync/atomic"
	"time"
)

// Engine names the model-server software behind an endpoint. It decides which
// metric names the scraper reads.
type Engine string

// Engines the gateway knows how to scrape.
const (
	EngineVLLM   Engine = "vllm"
	EngineSGLang Engine = "sglang"
	EngineTRTLLM Engine = "trtllm"
)

// Engines lists the known engines, the default ([EngineVLLM]) first.
func Engines() []Engine {
	return []Engine{EngineVLLM, EngineSGLang, EngineTRTLLM}
}

// Valid reports whether e is one of the known engines.
func (e Engine) Valid() bool {
	switch e {
	case EngineVLLM, EngineSGLang, EngineTRTLLM:
		return true
	}
	return false
}

// Metrics is one scrape's worth of model-server state for an endpoint. A
// published Metrics value is immutable: scrapers build a new one per scrape.
type Metrics struct {
	// WaitingQueue is the number of requests queued in the engine, not yet running.
	WaitingQueue int
	// Running is the number of requests in the engine's running batch.
	Running int
	// KVCacheUsage is the fraction of KV-cache blocks in use, from 0 to 1.
	KVCacheUsage float64
	// ActiveAdapters lists the LoRA adapters loaded and running.
	ActiveAdapters []string
	// WaitingAdapters lists the LoRA adapters requested by waiting requests.
	WaitingAdapters []string
	// MaxAdapters is the number of LoRA slots; 0 when unknown or LoRA is off.
	MaxAdapters int
	// BlockSize is the number of tokens per KV-cache block; 0 when unknown.
	BlockSize int
	// NumGPUBlocks is the KV-cache capacity in blocks; 0 when unknown.
	NumGPUBlocks int
	// ScrapedAt is when the scrape that produced these values finished.
	ScrapedAt time.Time
}

// HasAdapter reports whether adapter is in ActiveAdapters.
func (m *Metrics) HasAdapter(adapter string) bool {
	for _, a := range m.ActiveAdapters {
		if a == adapter {
			return true
		}
	}
	return false
}

// IsWaitingAdapter reports whether adapter is in WaitingAdapters.
func (m *Metrics) IsWaitingAdapter(adapter string) bool {
	for _, a := range m.WaitingAdapters {
		if a == adapter {
			return true
		}
	}
	return false
}

// Spec describes an endpoint as discovery sees it: where it is and what it runs.
type Spec struct {
	// Name is a stable, human-readable identifier (a pod name, or a name from
	// the config file). It appears in metrics labels and logs.
	Name string
	// Address is host:port of the model server's HTTP listener.
	Address string
	// Engine selects the metric names to scrape.
	Engine Engine
}

// Endpoint is one model-server replica. Name, Address and Engine are fixed at
// creation; the rest is live state, safe for concurrent use.
type Endpoint struct {
	spec Spec

	metrics        atomic.Pointer[Metrics]
	models         atomic.Pointer[[]string]
	inFlight       atomic.Int64
	inFlightTokens atomic.Int64
	scrapeFailures atomic.Int64
	outlier        outlierState
}

// NewEndpoint returns an endpoint with no metrics yet.
func NewEndpoint(s Spec) *Endpoint {
	if s.Engine == "" {
		s.Engine = EngineVLLM
	}
	return &Endpoint{spec: s}
}

// Name returns the endpoint's stable name.
func (e *Endpoint) Name() string { return e.spec.Name }

// Address returns host:port of the model server.
func (e *Endpoint) Address() string { return e.spec.Address }

// Engine returns the model-server engine type.
func (e *Endpoint) Engine() Engine { return e.spec.Engine }

// Spec returns the discovery description the endpoint was created from.
func (e *Endpoint) Spec() Spec { return e.spec }

// Metrics returns the latest scraped metrics, or nil before the first
// successful scrape. The result must not be modified.
func (e *Endpoint) Metrics() *Metrics { return e.metrics.Load() }

// SetMetrics publishes a new scrape result. m must not be modified afterwards.
func (e *Endpoint) SetMetrics(m *Metrics) {
	e.metrics.Store(m)
	e.scrapeFailures.Store(0)
}

// RecordScrapeFailure counts a consecutive failed scrape. A successful
// [Endpoint.SetMetrics] resets the count.
func (e *Endpoint) RecordScrapeFailure() { e.scrapeFailures.Add(1) }

// ScrapeFailures returns the number of consecutive failed scrapes.
func (e *Endpoint) ScrapeFailures() int64 { return e.scrapeFailures.Load() }

// Fresh reports whether the endpoint has metrics scraped within staleness of now.
func (e *Endpoint) Fresh(now time.Time, staleness time.Duration) bool {
	m := e.metrics.Load()
	return m != nil && now.Sub(m.ScrapedAt) <= staleness
}

// Models returns the model IDs the replica last listed at /v1/models (base
// model and loaded adapters). The result must not be modified.
func (e *Endpoint) Models() []string {
	if p := e.models.Load(); p != nil {
		return *p
	}
	return nil
}

// SetModels publishes the replica's model list. The slice must not be
// modified afterwards.
func (e *Endpoint) SetModels(models []string) { e.models.Store(&models) }

// ServesModel reports whether the replica last listed model.
func (e *Endpoint) ServesModel(model string) bool { return slices.Contains(e.Models(), model) }

// Acquire records a request the gateway sent to this endpoint, with its
// estimated token cost. Every Acquire must be paired with one Release.
func (e *Endpoint) Acquire(tokens int64) {
	e.inFlight.Add(1)
	e.inFlightTokens.Add(tokens)
}

// Release ends a request recorded by Acquire with the same token count.
func (e *Endpoint) Release(tokens int64) {
	e.inFlight.Add(-1)
	e.inFlightTokens.Add(-tokens)
}

// InFlight returns the number of requests the gateway has outstanding at this endpoint.
func (e *Endpoint) InFlight() int64 { return e.inFlight.Load() }

// InFlightTokens returns the estimated tokens of the requests outstanding at this endpoint.
func (e *Endpoint) InFlightTokens() int64 { return e.inFlightTokens.Load() }
