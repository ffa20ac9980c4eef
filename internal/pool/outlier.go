package pool

import (
	"sync"
	"sync/atomic"
	"time"
)

// Result is how one attempt at an endpoint ended, as passive outlier
// detection counts it.
type Result uint8

// Results. Only the failures count towards an ejection; a success resets
// the endpoint's consecutive-failure counts.
const (
	// ResultSuccess: response headers with a status below 500.
	ResultSuccess Result = iota
	// ResultServerError: a 5xx answer.
	ResultServerError
	// ResultConnectFailure: no answer: the connection could not be made,
	// or was reset or closed before response headers.
	ResultConnectFailure
	// ResultFirstByteTimeout: no response headers within the first-byte
	// timeout.
	ResultFirstByteTimeout
)

// OutlierReason is why an endpoint was ejected: the kind of failure that
// reached its consecutive threshold, or a failed half-open probe.
type OutlierReason uint8

// Ejection reasons, dense from 0 to [NumOutlierReasons]-1.
const (
	// ReasonServerError: consecutive 5xx answers.
	ReasonServerError OutlierReason = iota
	// ReasonConnectFailure: consecutive connect failures.
	ReasonConnectFailure
	// ReasonFirstByteTimeout: consecutive first-byte timeouts.
	ReasonFirstByteTimeout
	// ReasonProbeFailed: the half-open probe after an ejection failed.
	ReasonProbeFailed
	// NumOutlierReasons is the number of reasons.
	NumOutlierReasons
)

// outlierReasonNames are the reason label values, indexed by OutlierReason.
var outlierReasonNames = [NumOutlierReasons]string{"5xx", "connect_failure", "first_byte_timeout", "probe_failed"}

// String returns the reason as a metric label value ("5xx",
// "connect_failure", "first_byte_timeout", "probe_failed").
func (r OutlierReason) String() string {
	if r >= NumOutlierReasons {
		return "unknown"
	}
	return outlierReasonNames[r]
}

// OutlierConfig tunes passive outlier detection, as Envoy's: an endpoint
// whose attempts fail Consecutive* times in a row is ejected for
// BaseEjectionTime times the number of times it was ejected in a row, at most
// MaxEjectionTime. After that it is half-open: it takes one request at a
// time (when the gateway has nothing else in flight there); a success
// returns it, a failure ejects it again for longer. At most
// MaxEjectionPercent of the pool's endpoints (and at least one) are ejected
// at once.
type OutlierConfig struct {
	// Consecutive5xx is the number of 5xx answers in a row that eject an
	// endpoint; 0 disables this trigger.
	Consecutive5xx int
	// ConsecutiveConnectFailures is the number of connect failures in a
	// row that eject an endpoint; 0 disables this trigger.
	ConsecutiveConnectFailures int
	// ConsecutiveFirstByteTimeouts is the number of first-byte timeouts in
	// a row that eject an endpoint; 0 disables this trigger.
	ConsecutiveFirstByteTimeouts int
	// BaseEjectionTime is the first ejection's length; must be > 0.
	BaseEjectionTime time.Duration
	// MaxEjectionTime caps an ejection's length. An endpoint in service
	// for longer than this since its last ejection starts again at
	// BaseEjectionTime. Values below BaseEjectionTime mean BaseEjectionTime.
	MaxEjectionTime time.Duration
	// MaxEjectionPercent is the largest share (0–100) of the pool's
	// endpoints ejected at once; one endpoint may always be ejected.
	MaxEjectionPercent int
}

// DefaultBaseEjectionTime replaces a BaseEjectionTime that is not positive.
const DefaultBaseEjectionTime = 30 * time.Second

// threshold returns the consecutive threshold of r's failure kind.
func (c *OutlierConfig) threshold(r Result) int {
	switch r {
	case ResultServerError:
		return c.Consecutive5xx
	case ResultConnectFailure:
		return c.ConsecutiveConnectFailures
	case ResultFirstByteTimeout:
		return c.ConsecutiveFirstByteTimeouts
	}
	return 0
}

// OutlierObserver is told about ejections and returns; telemetry implements
// it. Calls come from request goroutines and must not block.
type OutlierObserver interface {
	// Ejected records that an endpoint of pool was ejected for reason.
	Ejected(pool string, reason OutlierReason)
	// Returned records that an ejected endpoint of pool passed its
	// half-open probe and is back in service.
	Returned(pool string)
}

// OutlierDetector is the passive outlier detection of one pool: attempts'
// results come in through [Store.Report], and the scheduler skips the
// endpoints it ejected ([Endpoint.Ejected]). It is safe for concurrent use.
type OutlierDetector struct {
	cfg OutlierConfig
	now func() time.Time
	obs OutlierObserver
	// mu serializes ejections and returns, so the max-ejection share holds.
	mu sync.Mutex
}

// NewOutlierDetector returns a detector with cfg, the clock now (nil means
// time.Now) and obs (nil records nothing).
func NewOutlierDetector(cfg OutlierConfig, now func() time.Time, obs OutlierObserver) *OutlierDetector {
	if now == nil {
		now = time.Now
	}
	if cfg.BaseEjectionTime <= 0 {
		cfg.BaseEjectionTime = DefaultBaseEjectionTime
	}
	cfg.MaxEjectionTime = max(cfg.MaxEjectionTime, cfg.BaseEjectionTime)
	cfg.MaxEjectionPercent = min(max(cfg.MaxEjectionPercent, 0), 100)
	return &OutlierDetector{cfg: cfg, now: now, obs: obs}
}

// outlierState is an endpoint's outlier-detection state. The fields the
// scheduler reads are atomics; changes of ejectedUntil happen under the
// detector's lock.
type outlierState struct {
	// consecutive counts failures in a row, per failure Result.
	consecutive [ResultFirstByteTimeout + 1]atomic.Int32
	// ejectedUntil is when the current ejection ends (unix nanoseconds);
	// 0 while in service. Past it the endpoint is half-open until a
	// result arrives.
	ejectedUntil atomic.Int64
	// ejections counts ejections in a row (the backoff multiplier);
	// returnedAt is when the endpoint last came back (unix nanoseconds).
	ejections  int
	returnedAt int64
}

// Ejected reports whether the scheduler should skip e at now: it is
// ejected, or half-open with a request of the gateway's already in flight
// there (the probe, or requests from before the ejection).
func (e *Endpoint) Ejected(now time.Time) bool {
	u := e.outlier.ejectedUntil.Load()
	return u != 0 && (now.UnixNano() < u || e.inFlight.Load() > 0)
}

// EjectedUntil returns when e's current ejection ends (it is half-open
// after that, until a result arrives), and whether it is ejected at all.
func (e *Endpoint) EjectedUntil() (time.Time, bool) {
	u := e.outlier.ejectedUntil.Load()
	if u == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, u), true
}

// report records result r of an attempt at ep of store.
func (d *OutlierDetector) report(store *Store, ep *Endpoint, r Result) {
	st := &ep.outlier
	if u := st.ejectedUntil.Load(); u != 0 {
		d.reportEjected(store, ep, r, u)
		return
	}
	if r == ResultSuccess {
		for i := range st.consecutive {
			if st.consecutive[i].Load() != 0 {
				st.consecutive[i].Store(0)
			}
		}
		return
	}
	limit := d.cfg.threshold(r)
	if limit <= 0 || int(st.consecutive[r].Add(1)) < limit {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if st.ejectedUntil.Load() != 0 || int(st.consecutive[r].Load()) < limit {
		return // raced with another report
	}
	if !d.mayEject(store, ep) {
		return // the count stays; the next failure tries again
	}
	d.eject(store, ep, OutlierReason(r-ResultServerError))
}

// reportEjected handles a result from an ejected endpoint: one that
// arrives once the ejection time is over is the half-open probe's, which
// returns it to service or ejects it again; earlier ones (requests sent
// before the ejection) change nothing.
func (d *OutlierDetector) reportEjected(store *Store, ep *Endpoint, r Result, until int64) {
	now := d.now()
	if now.UnixNano() < until {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &ep.outlier
	if st.ejectedUntil.Load() != until {
		return // another probe's result came first
	}
	if r != ResultSuccess {
		d.eject(store, ep, ReasonProbeFailed)
		return
	}
	st.ejectedUntil.Store(0)
	st.returnedAt = now.UnixNano()
	if d.obs != nil {
		d.obs.Returned(store.Name())
	}
}

// mayEject reports whether ejecting ep keeps the pool within the
// max-ejection share. Called with d.mu held.
func (d *OutlierDetector) mayEject(store *Store, ep *Endpoint) bool {
	eps := store.Load().Endpoints()
	ejected := 0
	for _, e := range eps {
		if e != ep && e.outlier.ejectedUntil.Load() != 0 {
			ejected++
		}
	}
	allowed := max(1, len(eps)*d.cfg.MaxEjectionPercent/100)
	return ejected < allowed
}

// eject takes ep out of service for the backoff of its ejections in a
// row. Called with d.mu held.
func (d *OutlierDetector) eject(store *Store, ep *Endpoint, reason OutlierReason) {
	st := &ep.outlier
	now := d.now()
	if st.returnedAt != 0 && now.Sub(time.Unix(0, st.returnedAt)) > d.cfg.MaxEjectionTime {
		st.ejections = 0 // in service long enough: the backoff starts over
	}
	st.ejections++
	length := d.cfg.MaxEjectionTime
	if st.ejections <= int(d.cfg.MaxEjectionTime/d.cfg.BaseEjectionTime) {
		length = time.Duration(st.ejections) * d.cfg.BaseEjectionTime
	}
	for i := range st.consecutive {
		st.consecutive[i].Store(0)
	}
	st.ejectedUntil.Store(now.Add(length).UnixNano())
	if d.obs != nil {
		d.obs.Ejected(store.Name(), reason)
	}
}
