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

// hedgeFixture is a handler over a slow endpoint (preferred: it reports
// the shorter queue) that answers only when released, and a fast one.
func hedgeFixture(t *testing.T, o Options) (h *Handler, eps []*pool.Endpoint, slow, fast *backend, release chan struct{}, slowDone chan bool) {
	t.Helper()
	release = make(chan struct{})
	slowDone = make(chan bool, 1) // true when the slow request was cancelled
	slow = newBackend(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-release:
			okJSON(w, r, body)
			slowDone <- false
		case <-r.Context().Done():
			slowDone <- true
		}
	})
	fast = newBackend(t, okJSON)
	h, eps = hedgeHandler(t, o, slow, fast)
	return h, eps, slow, fast, release, slowDone
}

// hedgeHandler is a handler over endpoints "slow" (preferred: it reports
// the shorter queue) and "fast" served by those backends.
func hedgeHandler(t *testing.T, o Options, slow, fast *backend) (*Handler, []*pool.Endpoint) {
	t.Helper()
	st := pool.NewStore("test")
	eps := st.Sync([]pool.Spec{{Name: "slow", Address: slow.addr()}, {Name: "fast", Address: fast.addr()}}).Endpoints()
	for i, ep := range eps {
		ep.SetMetrics(&pool.Metrics{WaitingQueue: 5 * i, ScrapedAt: time.Now().Add(time.Hour)})
		ep.SetModels([]string{"base"})
	}
	o.Router = router.New(router.Options{
		Catalog:   router.Catalog{Pools: []router.Pool{{Store: st, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}}},
		Admission: admission.New(),
	})
	return New(o), eps
}

func TestHedgeKeepsTheFirstAnswer(t *testing.T) {
	h, eps, slow, fast, release, slowDone := hedgeFixture(t, Options{HedgeAfter: 50 * time.Millisecond, MaxRetries: 1, FirstByteTimeout: time.Minute})
	defer close(release)
	rec := do(t, h, "/v1/completions", `{"model":"base","prompt":"x"}`, nil)
	if rec.Code != http.StatusOK || fast.count() != 1 || slow.count() != 1 {
		t.Fatalf("status %d, slow got %d, fast got %d; want 200 with one copy at each", rec.Code, slow.count(), fast.count())
	}
	if !<-slowDone {
		t.Error("the slower copy was not cancelled")
	}
	for _, ep := range eps {
		if ep.InFlight() != 0 || ep.InFlightTokens() != 0 {
			t.Errorf("%s: %d in flight, %d tokens after the request", ep.Name(), ep.InFlight(), ep.InFlightTokens())
		}
	}
}

func TestHedgeBoundedByRetryBudgetAndOffByDefault(t *testing.T) {
	for _, o := range []Options{
		{HedgeAfter: 50 * time.Millisecond, MaxRetries: 0}, // no budget
		{MaxRetries: 2}, // off
	} {
		h, _, slow, fast, release, slowDone := hedgeFixture(t, o)
		time.AfterFunc(300*time.Millisecond, func() { close(release) })
		rec := do(t, h, "/v1/completions", `{"model":"base","prompt":"x"}`, nil)
		if rec.Code != http.StatusOK || fast.count() != 0 || slow.count() != 1 || <-slowDone {
			t.Errorf("%+v: status %d, slow got %d, fast got %d; want the slow endpoint's answer only", o, rec.Code, slow.count(), fast.count())
		}
	}
}
