package config

import "time"

// Flow-control defaults (upstream's TTL and band size).
const (
	defaultFlowTTL            = 60 * time.Second
	defaultMaxRequestsPerBand = 5000
	defaultReservationLinger  = time.Second
)

// Flow-control modes, orderings and fairness policies.
const (
	// FlowModeOff admits everything; the replicas queue.
	FlowModeOff = "off"
	// FlowModeShed answers sheddable requests (priority < 0) 429 while the
	// pool is saturated and admits the rest.
	FlowModeShed = "shed"
	// FlowModeQueue holds requests in the gateway while the pool is
	// saturated.
	FlowModeQueue = "queue"

	// FlowOrderFCFS serves a flow's requests in arrival order.
	FlowOrderFCFS = "fcfs"
	// FlowOrderEDF serves the earliest TTFT deadline (arrival plus the SLO
	// header) first.
	FlowOrderEDF = "edf"

	// FlowFairRoundRobin shares a band among its fairness IDs in turn.
	FlowFairRoundRobin = "round-robin"
	// FlowFairGlobalStrict serves a band as one queue, whatever the
	// fairness ID.
	FlowFairGlobalStrict = "global-strict"
	// FlowFairShare serves first the fairness ID with the fewest requests
	// in flight (ties in turn); idle capacity is lent.
	FlowFairShare = "fair-share"
	// FlowFairReservedShare is fair-share that also holds a fairness ID at
	// its share of the pool's capacity while another one of its band is
	// active, so each finds its share free without waiting.
	FlowFairReservedShare = "reserved-share"
)

// FrontEnd names a front end for [FlowControl.ModeFor].
type FrontEnd string

// Front ends.
const (
	// FrontEndProxy is the native OpenAI proxy.
	FrontEndProxy FrontEnd = "proxy"
	// FrontEndExtProc is the Envoy ext_proc picker.
	FrontEndExtProc FrontEnd = "extProc"
)

// FlowControl tunes admission into a saturated pool: whether requests are
// admitted anyway, shed or queued in the gateway, and how queues are bounded
// and served.
type FlowControl struct {
	// Mode is "off", "shed" or "queue"; unset means the front end's
	// default (see [FlowControl.ModeFor]): queue for the native proxy,
	// shed for ext_proc, whose data plane times out a held message (Envoy:
	// 200ms by default).
	Mode string `yaml:"mode" json:"mode"`
	// TTL bounds how long a request waits in the queue; past it the
	// client gets 429 rejected-ttl-expired. Default 60s.
	TTL Duration `yaml:"ttl" json:"ttl"`
	// MaxRequestsPerBand bounds each priority band's queue; past it the
	// client gets 429 rejected-saturated. Queued bodies also count in
	// limits.maxBufferedBodyBytes, the one body budget shared with
	// in-flight requests. Default 5000.
	MaxRequestsPerBand int `yaml:"maxRequestsPerBand" json:"maxRequestsPerBand"`
	// Ordering orders one fairness ID's requests within a band: "fcfs"
	// or "edf" (earliest TTFT deadline from the SLO header first; requests
	// without one last). Default fcfs.
	Ordering string `yaml:"ordering" json:"ordering"`
	// Fairness shares a band among fairness IDs: "round-robin",
	// "global-strict" (one queue), "fair-share" (the ID with the fewest
	// requests in flight first; idle capacity is lent) or
	// "reserved-share" (fair-share, and an ID at or above its share of the
	// pool's capacity waits while another ID of its band is active, even
	// when the pool has room: the share is the capacity,
	// maxRequestsPerEndpoint × ready endpoints, which must be set, divided
	// by the active IDs). Default fair-share.
	Fairness string `yaml:"fairness" json:"fairness"`
	// ReservationLinger is how long a fairness ID keeps its reserved
	// share under reserved-share after its last request ended, so that a
	// light tenant between two of its requests does not lend its share to
	// a heavy one, which would then hold it until its own requests end.
	// Unset or 0 means 1s; a negative value turns the linger off.
	ReservationLinger Duration `yaml:"reservationLinger" json:"reservationLinger"`
	// NoEndpointHold is how long requests of every priority wait while
	// the pool has no endpoint (scale from zero) before 503
	// rejected-no-endpoints; 0 answers at once. At most ttl. Default 0.
	NoEndpointHold Duration `yaml:"noEndpointHold" json:"noEndpointHold"`
	// QueueDepthThreshold, when > 0, is the effective queue depth (waiting
	// requests plus requests sent since the last scrape) at which an
	// endpoint counts as full for flow control, instead of
	// scheduler.queueDepthThreshold. Lower keeps the waiting in the
	// gateway, where priority and fairness apply, instead of in the
	// replica's first-come queue; too low for the replicas' throughput
	// between two scrapes leaves batch slots empty. Default 0 (the
	// scheduler's, 5 by default).
	QueueDepthThreshold int `yaml:"queueDepthThreshold" json:"queueDepthThreshold"`
	// MaxRequestsPerEndpoint, when > 0, also counts an endpoint as full
	// once this gateway has that many requests outstanding there (the
	// gateway's own counters, no scrape lag). Default 0 (off): the scraped
	// queue depth and KV-cache use decide, with requests sent since the
	// last scrape added to the queue.
	MaxRequestsPerEndpoint int `yaml:"maxRequestsPerEndpoint" json:"maxRequestsPerEndpoint"`
	// MaxTokensPerEndpoint, when > 0, likewise counts an endpoint as full
	// at that many estimated tokens outstanding (prompt bytes/4 plus
	// max_tokens or 256). Default 0 (off).
	MaxTokensPerEndpoint int64 `yaml:"maxTokensPerEndpoint" json:"maxTokensPerEndpoint"`
}

// ModeFor returns the mode front end fe runs in: Mode when set, otherwise
// queue for the native proxy and shed for ext_proc.
func (f FlowControl) ModeFor(fe FrontEnd) string {
	if f.Mode != "" {
		return f.Mode
	}
	if fe == FrontEndExtProc {
		return FlowModeShed
	}
	return FlowModeQueue
}

// applyDefaults fills unset fields (Mode stays unset: its default depends
// on the front end).
func (f *FlowControl) applyDefaults() {
	durationOr(&f.TTL, defaultFlowTTL)
	if f.MaxRequestsPerBand == 0 {
		f.MaxRequestsPerBand = defaultMaxRequestsPerBand
	}
	if f.Ordering == "" {
		f.Ordering = FlowOrderFCFS
	}
	if f.Fairness == "" {
		f.Fairness = FlowFairShare
	}
	durationOr(&f.ReservationLinger, defaultReservationLinger)
}

// validate checks every field.
func (f FlowControl) validate() []error {
	var errs []error
	switch f.Mode {
	case "", FlowModeOff, FlowModeShed, FlowModeQueue:
	default:
		errs = append(errs, fieldErrorf("flowControl.mode", "%q is not one of off, shed, queue", f.Mode))
	}
	errs = append(errs, positiveDuration("flowControl.ttl", f.TTL)...)
	if f.MaxRequestsPerBand <= 0 {
		errs = append(errs, fieldErrorf("flowControl.maxRequestsPerBand", "must be > 0, got %d", f.MaxRequestsPerBand))
	}
	if f.Ordering != FlowOrderFCFS && f.Ordering != FlowOrderEDF {
		errs = append(errs, fieldErrorf("flowControl.ordering", "%q is not one of fcfs, edf", f.Ordering))
	}
	switch f.Fairness {
	case FlowFairRoundRobin, FlowFairGlobalStrict, FlowFairShare, FlowFairReservedShare:
	default:
		errs = append(errs, fieldErrorf("flowControl.fairness", "%q is not one of round-robin, global-strict, fair-share, reserved-share", f.Fairness))
	}
	if f.Fairness == FlowFairReservedShare && f.MaxRequestsPerEndpoint <= 0 {
		errs = append(errs, fieldErrorf("flowControl.fairness", "reserved-share needs flowControl.maxRequestsPerEndpoint > 0 (the pool's capacity it shares)"))
	}
	if f.NoEndpointHold.Duration < 0 {
		errs = append(errs, fieldErrorf("flowControl.noEndpointHold", "must be >= 0, got %s", f.NoEndpointHold))
	} else if f.TTL.Duration > 0 && f.NoEndpointHold.Duration > f.TTL.Duration {
		errs = append(errs, fieldErrorf("flowControl.noEndpointHold", "%s must be at most flowControl.ttl (%s)", f.NoEndpointHold, f.TTL))
	}
	if f.QueueDepthThreshold < 0 {
		errs = append(errs, fieldErrorf("flowControl.queueDepthThreshold", "must be >= 0, got %d", f.QueueDepthThreshold))
	}
	if f.MaxRequestsPerEndpoint < 0 {
		errs = append(errs, fieldErrorf("flowControl.maxRequestsPerEndpoint", "must be >= 0, got %d", f.MaxRequestsPerEndpoint))
	}
	if f.MaxTokensPerEndpoint < 0 {
		errs = append(errs, fieldErrorf("flowControl.maxTokensPerEndpoint", "must be >= 0, got %d", f.MaxTokensPerEndpoint))
	}
	return errs
}
