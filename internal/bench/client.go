package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/openai"
)

// client sends workload requests and times their streams.
type client struct {
	hc *http.Client
}

// newClient returns a client that keeps up to conns connections per host
// alive, so steady-state requests do not pay for connection set-up.
func newClient(conns int) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 4,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}
	return &client{hc: &http.Client{Transport: tr}}
}

// close drops idle connections.
func (c *client) close() { c.hc.CloseIdleConnections() }

// do sends wr's body (and control headers) to url (a chat-completions
// URL), reads the SSE stream and fills r. start is the run's start, for
// r.Sent.
func (c *client) do(ctx context.Context, url string, wr *Request, start time.Time, r *record) {
	sent := time.Now()
	r.Sent = sent.Sub(start)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(wr.Body))
	if err != nil {
		r.Err = err.Error()
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if wr.Objective != "" {
		req.Header.Set("x-llm-d-inference-objective", wr.Objective)
	}
	if wr.FairnessID != "" {
		req.Header.Set("x-llm-d-inference-fairness-id", wr.FairnessID)
	}
	if wr.SLO > 0 {
		req.Header.Set("x-llm-d-slo-ttft-ms", strconv.FormatInt(wr.SLO.Milliseconds(), 10))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		r.Err = errorClass(err)
		r.E2E = time.Since(sent)
		return
	}
	defer resp.Body.Close()
	r.Status = resp.StatusCode
	r.Replica = resp.Header.Get("x-inference-pod")
	if v, err := strconv.ParseInt(resp.Header.Get(exchange.HeaderQueueWait), 10, 64); err == nil && v > 0 && v < math.MaxInt64/int64(time.Millisecond) {
		r.QueueWait = time.Duration(v) * time.Millisecond
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		r.E2E = time.Since(sent)
		return
	}
	obs := openai.NewStreamObserver(false)
	buf := make([]byte, 32<<10)
	scratch := make([]byte, 0, 32<<10)
	var last time.Time
	events := 0
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			var count int
			scratch, count = obs.Process(scratch[:0], buf[:n])
			if count > 0 {
				now := time.Now()
				if events == 0 {
					r.TTFT = now.Sub(sent)
				} else {
					r.ITL = append(r.ITL, now.Sub(last))
				}
				last = now
				events += count
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			r.Err = errorClass(err)
			break
		}
	}
	r.E2E = time.Since(sent)
	if !obs.Done() && r.Err == "" {
		r.Err = "stream ended without [DONE]"
	}
	if u, ok := obs.Usage(); ok {
		r.OutputTokens, r.PromptTokens, r.CachedTokens = u.CompletionTokens, u.PromptTokens, u.CachedTokens
	} else {
		r.OutputTokens = events
	}
}

// errorClass condenses a transport error to a short, stable description
// for the error table.
func errorClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected EOF"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Op + " error"
	}
	return "transport error"
}
