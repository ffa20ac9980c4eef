package pool

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/testclock"
)

// outlierLog is an OutlierObserver that keeps what it is told.
type outlierLog struct {
	mu       sync.Mutex
	ejected  []string // "pool/reason"
	returned int
}

func (l *outlierLog) Ejected(pool string, r OutlierReason) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ejected = append(l.ejected, pool+"/"+r.String())
}

func (l *outlierLog) Returned(string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.returned++
}

// outlierPool is a store of n endpoints with detection on.
func outlierPool(t *testing.T, n int, cfg OutlierConfig) (*Store, []*Endpoint, *testclock.Clock, *outlierLog) {
	t.Helper()
	specs := make([]Spec, n)
	for i := range specs {
		specs[i] = Spec{Name: fmt.Sprintf("e%d", i), Address: fmt.Sprintf("127.0.0.1:%d", i+1)}
	}
	st := NewStore("p")
	eps := st.Sync(specs).Endpoints()
	clock := testclock.New(time.Unix(1000, 0))
	log := &outlierLog{}
	st.SetOutlierDetector(NewOutlierDetector(cfg, clock.Now, log))
	return st, eps, clock, log
}

var testOutlierConfig = OutlierConfig{
	Consecutive5xx:               3,
	ConsecutiveConnectFailures:   2,
	ConsecutiveFirstByteTimeouts: 1,
	BaseEjectionTime:             10 * time.Second,
	MaxEjectionTime:              25 * time.Second,
	MaxEjectionPercent:           50,
}

func TestOutlierEjectsAfterConsecutiveFailures(t *testing.T) {
	tests := []struct {
		name    string
		results []Result
		want    string // ejection reason, "" for none
	}{
		{name: "5xx below threshold", results: []Result{ResultServerError, ResultServerError}},
		{name: "5xx at threshold", results: []Result{ResultServerError, ResultServerError, ResultServerError}, want: "5xx"},
		{name: "success resets", results: []Result{ResultServerError, ResultServerError, ResultSuccess, ResultServerError, ResultServerError}},
		{name: "connect failures", results: []Result{ResultConnectFailure, ResultConnectFailure}, want: "connect_failure"},
		{name: "kinds counted apart", results: []Result{ResultConnectFailure, ResultServerError, ResultServerError}},
		{name: "first-byte timeout", results: []Result{ResultFirstByteTimeout}, want: "first_byte_timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, eps, clock, log := outlierPool(t, 2, testOutlierConfig)
			for _, r := range tc.results {
				st.Report(eps[0], r)
			}
			if got := eps[0].Ejected(clock.Now()); got != (tc.want != "") {
				t.Fatalf("ejected = %v, want %v", got, tc.want != "")
			}
			if tc.want != "" && (len(log.ejected) != 1 || log.ejected[0] != "p/"+tc.want) {
				t.Errorf("observer saw %v, want [p/%s]", log.ejected, tc.want)
			}
			if eps[1].Ejected(clock.Now()) {
				t.Error("the other endpoint is ejected")
			}
		})
	}
}

func TestOutlierHalfOpenProbeAndBackoff(t *testing.T) {
	st, eps, clock, log := outlierPool(t, 2, testOutlierConfig)
	ep := eps[0]
	eject := func() {
		t.Helper()
		st.Report(ep, ResultFirstByteTimeout)
		if !ep.Ejected(clock.Now()) {
			t.Fatal("not ejected")
		}
	}
	eject()
	clock.Advance(10*time.Second - time.Nanosecond)
	st.Report(ep, ResultSuccess) // a request from before the ejection
	if !ep.Ejected(clock.Now()) {
		t.Fatal("back before the ejection time passed")
	}
	clock.Advance(time.Nanosecond)
	if ep.Ejected(clock.Now()) {
		t.Fatal("not half-open once the ejection time passed")
	}
	ep.Acquire(1) // the probe
	if !ep.Ejected(clock.Now()) {
		t.Error("half-open endpoint admits a second request while the probe is in flight")
	}
	ep.Release(1)
	// The probe fails: ejected again, for twice the base time.
	st.Report(ep, ResultServerError)
	until, ok := ep.EjectedUntil()
	if !ok || until.Sub(clock.Now()) != 20*time.Second {
		t.Fatalf("after a failed probe ejected until +%v (%v), want +20s", until.Sub(clock.Now()), ok)
	}
	// And once more: capped at the maximum.
	clock.Advance(20 * time.Second)
	st.Report(ep, ResultConnectFailure)
	if until, _ := ep.EjectedUntil(); until.Sub(clock.Now()) != 25*time.Second {
		t.Fatalf("third ejection lasts %v, want the 25s cap", until.Sub(clock.Now()))
	}
	clock.Advance(25 * time.Second)
	st.Report(ep, ResultSuccess)
	if _, ok := ep.EjectedUntil(); ok || log.returned != 1 {
		t.Fatalf("a successful probe did not return the endpoint (returns %d)", log.returned)
	}
	want := []string{"p/first_byte_timeout", "p/probe_failed", "p/probe_failed"}
	if fmt.Sprint(log.ejected) != fmt.Sprint(want) {
		t.Errorf("ejections %v, want %v", log.ejected, want)
	}
	// Soon after returning, the next ejection continues the backoff...
	clock.Advance(5 * time.Second)
	eject()
	if until, _ := ep.EjectedUntil(); until.Sub(clock.Now()) != 25*time.Second {
		t.Errorf("ejection soon after returning lasts %v, want 25s", until.Sub(clock.Now()))
	}
	// ...but after MaxEjectionTime in service it starts over.
	clock.Advance(25 * time.Second)
	st.Report(ep, ResultSuccess)
	clock.Advance(26 * time.Second)
	eject()
	if until, _ := ep.EjectedUntil(); until.Sub(clock.Now()) != 10*time.Second {
		t.Errorf("ejection long after returning lasts %v, want the 10s base", until.Sub(clock.Now()))
	}
}

func TestOutlierMaxEjectionPercent(t *testing.T) {
	tests := []struct {
		n, percent, want int
	}{
		{n: 4, percent: 50, want: 2},
		{n: 5, percent: 50, want: 2},
		{n: 4, percent: 0, want: 1}, // one may always be ejected
		{n: 1, percent: 10, want: 1},
		{n: 3, percent: 100, want: 3},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d endpoints %d%%", tc.n, tc.percent), func(t *testing.T) {
			cfg := testOutlierConfig
			cfg.MaxEjectionPercent = tc.percent
			st, eps, clock, _ := outlierPool(t, tc.n, cfg)
			for _, ep := range eps {
				st.Report(ep, ResultFirstByteTimeout)
			}
			got := 0
			for _, ep := range eps {
				if ep.Ejected(clock.Now()) {
					got++
				}
			}
			if got != tc.want {
				t.Errorf("%d ejected, want %d", got, tc.want)
			}
		})
	}
}

func TestOutlierOffAndDisabledTriggers(t *testing.T) {
	st := NewStore("p")
	ep := st.Sync([]Spec{{Name: "a", Address: "127.0.0.1:1"}}).Endpoints()[0]
	for range 10 {
		st.Report(ep, ResultServerError)
	}
	if ep.Ejected(time.Now()) {
		t.Error("ejected with detection off")
	}
	cfg := testOutlierConfig
	cfg.Consecutive5xx = 0
	st.SetOutlierDetector(NewOutlierDetector(cfg, nil, nil))
	for range 10 {
		st.Report(ep, ResultServerError)
	}
	if ep.Ejected(time.Now()) {
		t.Error("ejected by a disabled trigger")
	}
}

func TestOutlierConcurrentReports(t *testing.T) {
	cfg := testOutlierConfig
	cfg.MaxEjectionPercent = 25
	st, eps, clock, log := outlierPool(t, 8, cfg)
	var wg sync.WaitGroup
	for _, ep := range eps {
		for range 4 {
			wg.Go(func() {
				for range 50 {
					st.Report(ep, ResultConnectFailure)
					st.Report(ep, ResultSuccess)
					st.Report(ep, ResultConnectFailure)
					st.Report(ep, ResultConnectFailure)
				}
			})
		}
	}
	wg.Wait()
	ejected := 0
	for _, ep := range eps {
		if ep.Ejected(clock.Now()) {
			ejected++
		}
	}
	if ejected > 2 || len(log.ejected) != ejected {
		t.Errorf("%d ejected (%d ejections observed); want at most 2, each observed once", ejected, len(log.ejected))
	}
}
