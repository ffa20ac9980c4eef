package bench

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// sampler polls the replicas' load gauges during a run: KV-cache usage and
// waiting requests.
type sampler struct {
	mu          sync.Mutex
	kvSum       float64
	kvN         int
	kvPeak      float64
	waitingPeak float64
}

// run polls every interval until ctx is done.
func (s *sampler) run(ctx context.Context, hc *http.Client, urls []string, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, u := range urls {
			m, err := scrapeSamples(ctx, hc, u, metricKVUsage, metricWaiting)
			if err != nil {
				continue // a sample lost under load is not a failure of the run
			}
			s.mu.Lock()
			kv := m[metricKVUsage]
			s.kvSum += kv
			s.kvN++
			s.kvPeak = max(s.kvPeak, kv)
			s.waitingPeak = max(s.waitingPeak, m[metricWaiting])
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// result returns the mean and peak KV usage and the peak waiting queue.
func (s *sampler) result() (kvMean, kvPeak, waitingPeak float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kvN > 0 {
		kvMean = s.kvSum / float64(s.kvN)
	}
	return kvMean, s.kvPeak, s.waitingPeak
}
