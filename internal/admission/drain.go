package admission

import "time"

// drainWindow is how many one-second buckets the drain rate averages.
const drainWindow = 10

// drainMeter measures how fast requests leave a pool (finish), over the
// last [drainWindow] seconds. It is not safe for concurrent use; the
// queue's mutex guards it.
type drainMeter struct {
	secs   [drainWindow]int64
	counts [drainWindow]int64
}

// add counts one finished request at now.
func (d *drainMeter) add(now time.Time) {
	s := now.Unix()
	i := s % drainWindow
	if d.secs[i] != s {
		d.secs[i], d.counts[i] = s, 0
	}
	d.counts[i]++
}

// rate returns finished requests per second over the window ending at now.
func (d *drainMeter) rate(now time.Time) float64 {
	s := now.Unix()
	var n int64
	for i := range d.secs {
		if age := s - d.secs[i]; age >= 0 && age < drainWindow {
			n += d.counts[i]
		}
	}
	return float64(n) / drainWindow
}

// retryAfter estimates when a request refused now could get in: the time
// for the requests ahead (queued) to drain at the measured rate, clamped to
// [1s, ttl]; ttl when nothing drains.
func (d *drainMeter) retryAfter(now time.Time, queued int, ttl time.Duration) time.Duration {
	r := d.rate(now)
	if r <= 0 {
		return ttl
	}
	wait := time.Duration(float64(queued+1) / r * float64(time.Second))
	return min(max(wait, time.Second), max(ttl, time.Second))
}
