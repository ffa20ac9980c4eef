package proxy

import (
	"net/http"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
)

// TestEjectionAbandonsWaitingAttempt: a request waiting for response
// headers at an endpoint that outlier detection ejects (on other requests'
// failures) is cancelled there and served by another endpoint; the
// abandoned attempt is not counted against the endpoint.
func TestEjectionAbandonsWaitingAttempt(t *testing.T) {
	arrived := make(chan struct{}, 1)
	cancelled := make(chan struct{})
	hang := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		arrived <- struct{}{}
		<-r.Context().Done()
		close(cancelled)
	})
	ok := newBackend(t, okJSON)
	st := pool.NewStore("test")
	eps := st.Sync([]pool.Spec{{Name: "hang", Address: hang.addr()}, {Name: "ok", Address: ok.addr()}}).Endpoints()
	for i, ep := range eps {
		ep.SetMetrics(&pool.Metrics{WaitingQueue: 5 * i, ScrapedAt: time.Now().Add(time.Hour)}) // hang is preferred
		ep.SetModels([]string{"base"})
	}
	log := &ejections{}
	st.SetOutlierDetector(pool.NewOutlierDetector(pool.OutlierConfig{
		ConsecutiveConnectFailures: 2, BaseEjectionTime: time.Hour, MaxEjectionPercent: 50,
	}, nil, log))
	h := New(Options{
		Router: router.New(router.Options{
			Catalog:   router.Catalog{Pools: []router.Pool{{Store: st, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}}},
			Admission: admission.New(),
		}),
		FirstByteTimeout: time.Minute,
		Staleness:        time.Hour,
		MaxRetries:       1,
	})
	done := make(chan int, 1)
	go func() { done <- do(t, h, "/v1/completions", `{"model":"base","prompt":"x"}`, nil).Code }()
	select {
	case <-arrived:
	case code := <-done:
		t.Fatalf("the request ended with %d before reaching the preferred endpoint", code)
	}
	// Other requests' connect failures eject the endpoint.
	st.Report(eps[0], pool.ResultConnectFailure)
	st.Report(eps[0], pool.ResultConnectFailure)
	select {
	case code := <-done:
		if code != http.StatusOK || ok.count() != 1 {
			t.Fatalf("status %d, %d requests at the healthy endpoint; want 200 from it", code, ok.count())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request waiting at the ejected endpoint was not retried elsewhere")
	}
	<-cancelled // the abandoned attempt was cancelled upstream
	if log.n != 1 {
		t.Errorf("%d ejections; want 1 (the abandoned attempt is not a failure)", log.n)
	}
}

// ejections counts ejections; it is an OutlierObserver.
type ejections struct{ n int }

func (e *ejections) Ejected(string, pool.OutlierReason) { e.n++ }
func (e *ejections) Returned(string)                    {}
