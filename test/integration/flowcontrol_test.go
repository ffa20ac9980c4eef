package integration

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// flowModelsYAML is one model whose requests run under the objective the
// client names: "critical" (priority 10) or "standard" (priority 0).
const flowModelsYAML = `
models:
- name: llama
  targets:
  - model: meta-llama/Llama-3.1-8B-Instruct
objectives:
- name: critical
  priority: 10
- name: standard
  priority: 0
- name: batch
  priority: -1
`

// ttftResult is one streamed request's time to its first token.
type ttftResult struct {
	status int
	ttft   time.Duration
	waitMs string // x-infergate-queue-wait-ms
}

// streamTTFT sends a streaming chat request under objective and returns the
// time from sending to the first data event, reading the stream to its end.
func streamTTFT(ctx context.Context, url, objective, user string, maxTokens int) ttftResult {
	body := chatBody("llama", "You are terse.", user, maxTokens, true)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-llm-d-inference-objective", objective)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ttftResult{status: -1}
	}
	defer resp.Body.Close()
	r := ttftResult{status: resp.StatusCode, waitMs: resp.Header.Get("x-infergate-queue-wait-ms")}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if r.ttft == 0 && strings.HasPrefix(sc.Text(), "data: {") {
			r.ttft = time.Since(start)
		}
	}
	return r
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// priorityBehindBacklog sends 40 priority-0 streams to a gateway in front of
// one replica that runs one sequence at a time, then 10 priority-10 ones,
// and returns both groups' TTFTs and the critical requests' queue-wait
// headers.
func priorityBehindBacklog(t *testing.T, mode string) (backlog, critical []time.Duration, waits []string) {
	t.Helper()
	_, addr := startSim(t, "sim-"+mode, "--max-num-seqs", "1", "--time-scale", "4")
	gw := startGateway(t, poolYAML(addr)+flowModelsYAML+"flowControl:\n  mode: "+mode+"\n")
	ctx := testContext(t, 3*time.Minute)
	const nBacklog, nCritical, maxTokens = 40, 10, 40
	var mu sync.Mutex
	var wg sync.WaitGroup
	run := func(objective string, i int, into *[]time.Duration) {
		wg.Go(func() {
			r := streamTTFT(ctx, gw.URL, objective, fmt.Sprintf("%s request %d", objective, i), maxTokens)
			mu.Lock()
			defer mu.Unlock()
			if r.status != http.StatusOK || r.ttft == 0 {
				t.Errorf("%s request %d: status %d, no first token", objective, i, r.status)
				return
			}
			*into = append(*into, r.ttft)
			if objective == "critical" {
				waits = append(waits, r.waitMs)
			}
		})
	}
	for i := range nBacklog {
		run("standard", i, &backlog)
	}
	// The backlog is at the gateway (queue mode) or at the replica (off)
	// before the critical requests are sent.
	eventually(t, 60*time.Second, "the backlog to arrive", func() bool {
		// Every backlog request is queued at the gateway, waiting or
		// running at the replica, or done.
		fams := scrape(t, gw.MetricsURL+"/metrics", gw.Token)
		sim := scrape(t, "http://"+addr+"/metrics", "")
		arrived := sum(fams, "llm_d_epp_flow_control_queue_size") + sum(sim, "vllm:num_requests_waiting") +
			sum(sim, "vllm:num_requests_running") + sum(sim, "vllm:request_success_total")
		return arrived >= nBacklog
	})
	for i := range nCritical {
		run("critical", i, &critical)
	}
	wg.Wait()
	return backlog, critical, waits
}

// TestFlowControlPriorityBeatsBacklog is the measurement: on a
// saturated one-replica pool, priority-10 requests sent behind 40
// priority-0 ones get their first token sooner than the backlog's median
// when the gateway queues; with flow control off they wait at the replica.
func TestFlowControlPriorityBeatsBacklog(t *testing.T) {
	backlog, critical, waits := priorityBehindBacklog(t, "queue")
	if t.Failed() {
		return
	}
	ratio := float64(median(critical)) / float64(median(backlog))
	t.Logf("queue: critical median TTFT %v, backlog median %v: ratio %.2f", median(critical), median(backlog), ratio)
	if ratio >= 1 {
		t.Errorf("queue mode: critical median TTFT %v is not below the backlog's median %v", median(critical), median(backlog))
	}
	if slices.Max(critical) >= median(backlog) {
		t.Errorf("queue mode: the slowest critical request (%v) is not ahead of the backlog's median (%v)", slices.Max(critical), median(backlog))
	}
	waited := 0
	for _, w := range waits {
		if ms, err := strconv.Atoi(w); err == nil && ms >= 0 {
			waited++
		}
	}
	if waited == 0 {
		t.Errorf("no critical request carried x-infergate-queue-wait-ms (got %q)", waits)
	}

	offBacklog, offCritical, _ := priorityBehindBacklog(t, "off")
	if !t.Failed() {
		t.Logf("off: critical median TTFT %v, backlog median %v: ratio %.2f",
			median(offCritical), median(offBacklog), float64(median(offCritical))/float64(median(offBacklog)))
	}
}

// TestFlowControlTTLExpiry: a request queued past the TTL gets 429
// rejected-ttl-expired with a Retry-After.
func TestFlowControlTTLExpiry(t *testing.T) {
	_, addr := startSim(t, "sim-ttl", "--max-num-seqs", "1")
	gw := startGateway(t, poolYAML(addr)+flowModelsYAML+"flowControl:\n  ttl: 1s\n")
	hogCtx, stopHogs := context.WithCancel(context.Background())
	var hogs sync.WaitGroup
	defer func() { stopHogs(); hogs.Wait() }()
	for i := range 6 {
		hogs.Go(func() { streamTTFT(hogCtx, gw.URL, "standard", fmt.Sprintf("hog %d", i), 100000) })
	}
	eventually(t, 30*time.Second, "the replica to be saturated, as the gateway sees it", func() bool {
		return sum(scrape(t, "http://"+addr+"/metrics", ""), "vllm:num_requests_waiting") >= 5 &&
			sum(scrape(t, gw.MetricsURL+"/metrics", gw.Token), "llm_d_epp_flow_control_pool_saturation") >= 1
	})
	req, _ := http.NewRequest(http.MethodPost, gw.URL+"/v1/chat/completions", strings.NewReader(chatBody("llama", "s", "late", 4, false)))
	req.Header.Set("x-llm-d-inference-objective", "standard")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waited := time.Since(start)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("x-llm-d-request-dropped-reason") != "rejected-ttl-expired" {
		t.Fatalf("status %d, reason %q; want 429 rejected-ttl-expired", resp.StatusCode, resp.Header.Get("x-llm-d-request-dropped-reason"))
	}
	if ra := resp.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1 (the TTL: nothing drained)", ra)
	}
	if waited < time.Second {
		t.Errorf("answered after %v, before the 1s TTL", waited)
	}
	eventually(t, 5*time.Second, "the expiry counted", func() bool {
		fams := scrape(t, gw.MetricsURL+"/metrics", gw.Token)
		return labelSum(fams, "llm_d_epp_flow_control_requests_total", "outcome", "EvictedTTL") == 1
	})
}

// emptyPoolYAML is a pool without endpoints serving one model.
const emptyPoolYAML = `pools:
- name: empty
  endpoints: []
models:
- name: llama
  pool: empty
`

// TestFlowControlNoEndpoints: with no endpoint, requests are held for
// noEndpointHold and then get 503 rejected-no-endpoints; a SIGTERM answers
// the held ones 503 rejected-shutting-down at once.
func TestFlowControlNoEndpoints(t *testing.T) {
	gw := startGateway(t, emptyPoolYAML+"flowControl:\n  noEndpointHold: 1s\n")
	start := time.Now()
	req, _ := http.NewRequest(http.MethodPost, gw.URL+"/v1/chat/completions", strings.NewReader(chatBody("llama", "s", "anyone?", 4, false)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("x-llm-d-request-dropped-reason") != "rejected-no-endpoints" {
		t.Fatalf("status %d, reason %q; want 503 rejected-no-endpoints", resp.StatusCode, resp.Header.Get("x-llm-d-request-dropped-reason"))
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("answered after %v, before the 1s hold", waited)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1 (the hold)", ra)
	}

	held := startGateway(t, emptyPoolYAML+"flowControl:\n  noEndpointHold: 60s\n")
	answered := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, held.URL+"/v1/chat/completions", strings.NewReader(chatBody("llama", "s", "held", 4, false)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- nil
			return
		}
		resp.Body.Close()
		answered <- resp
	}()
	eventually(t, 10*time.Second, "the request to be held", func() bool {
		return sum(scrape(t, held.MetricsURL+"/metrics", held.Token), "llm_d_epp_flow_control_queue_size") == 1
	})
	held.Signal(syscall.SIGTERM)
	select {
	case resp := <-answered:
		if resp == nil {
			t.Fatal("the held request got no answer")
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("x-llm-d-request-dropped-reason") != "rejected-shutting-down" {
			t.Fatalf("status %d, reason %q; want 503 rejected-shutting-down", resp.StatusCode, resp.Header.Get("x-llm-d-request-dropped-reason"))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the held request was not answered on SIGTERM")
	}
}
