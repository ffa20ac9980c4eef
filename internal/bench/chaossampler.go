package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// chaosSample is one look at the gateway during the chaos run.
type chaosSample struct {
	At         time.Time
	RSS        int64              // bytes
	Goroutines float64            // go_goroutines
	Picks      map[string]float64 // successful scheduler picks so far, by pod
}

// chaosSampler scrapes the gateway's /metrics and reads its RSS every
// 250 ms.
type chaosSampler struct {
	url    string
	pid    int
	client *http.Client

	mu      sync.Mutex
	samples []chaosSample
}

func newChaosSampler(url string, pid int) *chaosSampler {
	return &chaosSampler{url: url, pid: pid, client: &http.Client{Timeout: 2 * time.Second}}
}

// run samples until ctx ends.
func (s *chaosSampler) run(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if smp, err := s.sample(); err == nil {
			s.mu.Lock()
			s.samples = append(s.samples, smp)
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sample takes one sample.
func (s *chaosSampler) sample() (chaosSample, error) {
	smp := chaosSample{At: time.Now(), Picks: map[string]float64{}}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return smp, fmt.Errorf("read gateway status: %w", err)
	}
	smp.RSS = parseStatusKB(status, "VmRSS:") * 1024
	resp, err := s.client.Get(s.url)
	if err != nil {
		return smp, fmt.Errorf("scrape gateway: %w", err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return smp, fmt.Errorf("parse gateway metrics: %w", err)
	}
	if f := fams["go_goroutines"]; f != nil && len(f.GetMetric()) > 0 {
		smp.Goroutines = f.GetMetric()[0].GetGauge().GetValue()
	}
	if f := fams["inference_extension_scheduler_attempts_total"]; f != nil {
		for _, m := range f.GetMetric() {
			status, pod := "", ""
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "status":
					status = lp.GetValue()
				case "pod_name":
					pod = lp.GetValue()
				}
			}
			if status == "success" {
				smp.Picks[pod] += m.GetCounter().GetValue()
			}
		}
	}
	return smp, nil
}

// all returns the samples taken.
func (s *chaosSampler) all() []chaosSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]chaosSample(nil), s.samples...)
}
