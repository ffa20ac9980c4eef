package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// A class with MaxInFlight never has more requests in flight at the
// server than its cap, the others are not capped, a held request's wait
// counts in its TTFT and E2E, and the gateway's queue wait is read from
// the response.
func TestDriveCapsClassInFlight(t *testing.T) {
	t.Parallel()
	var (
		mu        sync.Mutex
		inFlight  = map[string]int{}
		peak      = map[string]int{}
		arrived   = make(chan struct{}, 64)
		release   = make(chan struct{})
		releaseMu sync.Once
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("x-llm-d-inference-fairness-id")
		mu.Lock()
		inFlight[id]++
		peak[id] = max(peak[id], inFlight[id])
		mu.Unlock()
		defer func() {
			mu.Lock()
			inFlight[id]--
			mu.Unlock()
		}()
		arrived <- struct{}{}
		<-release
		if id == "light" {
			w.Header().Set("x-infergate-queue-wait-ms", "7")
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	defer releaseMu.Do(func() { close(release) })

	var reqs []Request
	for i := range 10 {
		class, id := "heavy", "heavy"
		if i%5 == 4 {
			class, id = "light", "light"
		}
		reqs = append(reqs, Request{Body: []byte(`{}`), Class: class, FairnessID: id})
	}
	c := newClient(16)
	defer c.close()
	done := make(chan []record)
	go func() {
		recs, _ := drive(t.Context(), c, load{
			urls:    []string{srv.URL},
			reqs:    reqs,
			offsets: make([]time.Duration, len(reqs)), // all at once
			caps:    map[string]int{"heavy": 3},
		})
		done <- recs
	}()
	// 3 heavy (the cap) and both light requests reach the server; the
	// other 5 heavy ones wait at the client.
	for range 5 {
		<-arrived
	}
	mu.Lock()
	heavy, light := inFlight["heavy"], inFlight["light"]
	mu.Unlock()
	if heavy != 3 || light != 2 {
		t.Errorf("in flight with everything sent: heavy %d, light %d; want 3 and 2", heavy, light)
	}
	releaseMu.Do(func() { close(release) })
	recs := <-done
	if peak["heavy"] != 3 || peak["light"] != 2 {
		t.Errorf("peak in flight: heavy %d, light %d; want 3 and 2", peak["heavy"], peak["light"])
	}
	held := 0
	for _, r := range recs {
		if !r.ok() {
			t.Fatalf("request %d failed: %+v", r.Index, r)
		}
		if want := map[string]time.Duration{"light": 7 * time.Millisecond}[reqs[r.Index].Class]; r.QueueWait != want {
			t.Errorf("request %d (%s): queue wait %v, want %v from the response header", r.Index, reqs[r.Index].Class, r.QueueWait, want)
		}
		if r.Held > 0 {
			held++
			if reqs[r.Index].Class != "heavy" || r.TTFT < r.Held || r.E2E < r.Held {
				t.Errorf("request %d (%s) held %v: TTFT %v, E2E %v", r.Index, reqs[r.Index].Class, r.Held, r.TTFT, r.E2E)
			}
		}
	}
	if held != 5 {
		t.Errorf("%d requests held at the client, want the 5 heavy ones over the cap", held)
	}
}
