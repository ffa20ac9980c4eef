package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// chaosOutcome is how one request of the chaos load ended, as its client
// saw it.
type chaosOutcome uint8

const (
	// outcomeDone: 200 and the stream ended with [DONE].
	outcomeDone chaosOutcome = iota
	// outcomeNoFirstByte: no response headers (transport error).
	outcomeNoFirstByte
	// outcomeStatus: a status other than 200.
	outcomeStatus
	// outcomeErrorEvent: the stream ended with an error event.
	outcomeErrorEvent
	// outcomeCut: the stream ended without [DONE] or an error event.
	outcomeCut
)

// chaosRecord is one request of the chaos load.
type chaosRecord struct {
	Start, End time.Time
	Status     int
	Pod        string
	Outcome    chaosOutcome
}

// chaosLoad is the closed-loop load: workers, each sending one streaming
// chat request after another.
type chaosLoad struct {
	url     string
	workers int
	client  *http.Client

	mu   sync.Mutex
	recs []chaosRecord
}

func newChaosLoad(url string, workers int) *chaosLoad {
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers, IdleConnTimeout: time.Minute}
	return &chaosLoad{url: url, workers: workers, client: &http.Client{Transport: tr}}
}

// run drives the load until ctx ends; requests in flight then are not
// recorded.
func (l *chaosLoad) run(ctx context.Context) {
	var wg sync.WaitGroup
	for w := range l.workers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				rec, ok := l.one(ctx, w, i)
				if ok {
					l.mu.Lock()
					l.recs = append(l.recs, rec)
					l.mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	l.client.CloseIdleConnections()
}

// one sends request i of worker w; ok is false when ctx ended during it.
func (l *chaosLoad) one(ctx context.Context, w, i int) (chaosRecord, bool) {
	body := fmt.Sprintf(`{"model":%q,"stream":true,"max_tokens":%d,"messages":[{"role":"user","content":"worker %d request %d: tell me about chaos"}]}`,
		BaseModel, 8+(w*7+i)%24, w, i)
	rec := chaosRecord{Start: time.Now()}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, l.url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		rec.End, rec.Outcome = time.Now(), outcomeNoFirstByte
		return rec, ctx.Err() == nil
	}
	defer resp.Body.Close()
	rec.Status, rec.Pod = resp.StatusCode, resp.Header.Get("x-inference-pod")
	if resp.StatusCode != http.StatusOK {
		rec.End, rec.Outcome = time.Now(), outcomeStatus
		return rec, ctx.Err() == nil
	}
	rec.Outcome = outcomeCut
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.Equal(line, []byte("data: [DONE]")):
			rec.Outcome = outcomeDone
		case bytes.HasPrefix(line, []byte(`data: {"error":`)):
			rec.Outcome = outcomeErrorEvent
		}
	}
	rec.End = time.Now()
	return rec, ctx.Err() == nil
}

// records returns what was recorded.
func (l *chaosLoad) records() []chaosRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]chaosRecord(nil), l.recs...)
}
