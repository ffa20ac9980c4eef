package bench

import (
	"context"
	"sync"
	"time"
)

// errNotSent marks the records of requests a cancelled run never sent.
const errNotSent = "not sent"

// load is one run's traffic: the requests, their targets and when to send
// them.
type load struct {
	// urls are the chat-completions URLs; request i goes to
	// urls[i%len(urls)] (one URL for a gateway, the replicas for a direct
	// run).
	urls []string
	reqs []Request
	// offsets are the wall-clock send times from the start (open loop);
	// nil means closed loop with concurrency requests in flight.
	offsets     []time.Duration
	concurrency int
	// caps limit the requests in flight of the named classes at the
	// client (see [Class.MaxInFlight]); nil: none.
	caps map[string]int
	// done is called after every finished request (progress).
	done func()
}

// drive sends the load and returns one record per request, indexed like
// l.reqs, and the wall time from the first send to the last completion.
func drive(ctx context.Context, c *client, l load) ([]record, time.Duration) {
	recs := make([]record, len(l.reqs))
	for i := range recs {
		recs[i] = record{Index: i, Err: errNotSent}
	}
	start := time.Now()
	var wg sync.WaitGroup
	slots := make(map[string]chan struct{}, len(l.caps))
	for class, n := range l.caps {
		slots[class] = make(chan struct{}, n)
	}
	send := func(i int) {
		if l.done != nil {
			defer l.done()
		}
		var held time.Duration
		if slot := slots[l.reqs[i].Class]; slot != nil {
			select {
			case slot <- struct{}{}:
			default: // the class is at its cap: wait for a slot
				t := time.Now()
				select {
				case slot <- struct{}{}:
				case <-ctx.Done():
					return
				}
				held = time.Since(t)
			}
			defer func() { <-slot }()
		}
		recs[i].Err = ""
		c.do(ctx, l.urls[i%len(l.urls)], &l.reqs[i], start, &recs[i])
		if held > 0 {
			recs[i].hold(held)
		}
	}
	if l.offsets == nil {
		next := make(chan int)
		for range max(l.concurrency, 1) {
			wg.Go(func() {
				for i := range next {
					send(i)
				}
			})
		}
	feed:
		for i := range l.reqs {
			select {
			case next <- i:
			case <-ctx.Done():
				break feed
			}
		}
		close(next)
	} else {
		timer := time.NewTimer(0)
		<-timer.C
	dispatch:
		for i := range l.reqs {
			if wait := time.Until(start.Add(l.offsets[i])); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-ctx.Done():
					break dispatch
				}
			}
			wg.Go(func() { send(i) })
		}
	}
	wg.Wait()
	end := start
	for i := range recs {
		if e := start.Add(recs[i].Sent + recs[i].E2E); e.After(end) {
			end = e
		}
	}
	return recs, end.Sub(start)
}
