package integration

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// chatBody renders a chat completion request.
func chatBody(model, system, user string, maxTokens int, stream bool) string {
	return fmt.Sprintf(`{"model":%q,"messages":[{"role":"system","content":%q},{"role":"user","content":%q}],"max_tokens":%d,"stream":%v}`,
		model, system, user, maxTokens, stream)
}

// words returns n pseudo-random words from a seeded source.
func words(seed uint64, n int) string {
	rnd := rand.New(rand.NewPCG(seed, seed*7+1))
	var b strings.Builder
	for range n {
		b.WriteString([]string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}[rnd.IntN(8)])
		b.WriteByte(' ')
	}
	return b.String()
}

// servedBy posts a request and returns the replica that answered.
func servedBy(t *testing.T, url, body string, header map[string]string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
	}
	return resp.Header.Get("x-inference-pod")
}

func TestPrefixAffinity(t *testing.T) {
	f := startFleet(t, 4, func(int) []string { return []string{"--time-scale", "50"} }, "")
	const groups, perGroup = 3, 8
	prefixes := make([]string, groups)
	for g := range prefixes {
		prefixes[g] = words(uint64(g+1), 1500) // ~10 KB, ~2,500 tokens
	}
	placed := make([]map[string]int, groups)
	for g := range placed {
		placed[g] = map[string]int{}
	}
	// Interleave the groups, as real traffic would.
	for i := range perGroup {
		for g := range groups {
			pod := servedBy(t, f.gw.URL+"/v1/chat/completions", chatBody(baseModel, prefixes[g], fmt.Sprintf("question %d", i), 4, false), nil)
			placed[g][pod]++
		}
	}
	for g, pods := range placed {
		if len(pods) != 1 {
			t.Errorf("group %d spread over %v; want every request on the replica that cached its prefix", g, pods)
		}
	}
	// The replicas' own prefix-cache counters show the hits: all but the
	// first request of each group reuse ~2,500 cached tokens.
	hits, queries := 0.0, 0.0
	for _, addr := range f.addr {
		fams := scrape(t, "http://"+addr+"/metrics", "")
		hits += sum(fams, "vllm:prefix_cache_hits_total")
		queries += sum(fams, "vllm:prefix_cache_queries_total")
	}
	if minHits := float64(groups * (perGroup - 1) * 2000); hits < minHits {
		t.Errorf("prefix cache hits = %v of %v queried tokens, want >= %v", hits, queries, minHits)
	}
	t.Logf("prefix cache hit rate %.1f%% (%v / %v tokens)", 100*hits/queries, hits, queries)
}

func TestLoRAAffinity(t *testing.T) {
	// Each adapter is served by two of the four replicas; a replica that
	// does not serve it would answer 404.
	f := startFleet(t, 4, loraArgs, "")
	for j, adapter := range adapters {
		holders := adapterHolders(j, 4)
		for k := range 6 {
			got := servedBy(t, f.gw.URL+"/v1/chat/completions", chatBody(adapter, "You help.", fmt.Sprintf("task %d", k), 4, false), nil)
			if !slices.Contains(holders, got) {
				t.Errorf("request %d for %s served by %s; want one of %v, which hold it", k, adapter, got, holders)
			}
		}
	}
	// Base-model requests still use the whole pool.
	seen := map[string]bool{}
	for k := range 40 {
		seen[servedBy(t, f.gw.URL+"/v1/completions", fmt.Sprintf(`{"model":%q,"prompt":"short %d","max_tokens":1}`, baseModel, k), nil)] = true
	}
	if len(seen) < 3 {
		t.Errorf("base-model requests used only %v", seen)
	}
}

func TestShedsSheddableWhenSaturated(t *testing.T) {
	// Two slow replicas that run one sequence at a time: long requests keep
	// each one's waiting queue at or above the saturation threshold (5).
	f := startFleet(t, 2, func(int) []string { return []string{"--max-num-seqs", "1"} }, modelsYAML+"flowControl:\n  mode: shed\n")
	hogCtx, stopHogs := context.WithCancel(context.Background())
	var hogs sync.WaitGroup
	defer func() { stopHogs(); hogs.Wait() }()
	const hogCount = 14
	for i := range hogCount {
		hogs.Go(func() {
			body := chatBody(baseModel, words(uint64(100+i), 20), "write a very long answer", 100000, true)
			req, _ := http.NewRequestWithContext(hogCtx, http.MethodPost, f.gw.URL+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("x-gateway-inference-objective", "critical")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_, _ = bufio.NewReader(resp.Body).ReadString(0)
				resp.Body.Close()
			}
		})
	}
	waiting := func() float64 {
		total := 0.0
		for _, a := range f.addr {
			total += sum(scrape(t, "http://"+a+"/metrics", ""), "vllm:num_requests_waiting")
		}
		return total
	}
	eventually(t, 30*time.Second, "both replicas saturated", func() bool {
		fams := scrape(t, f.gw.MetricsURL+"/metrics", f.gw.Token)
		q := fams["inference_pool_per_pod_queue_size"]
		if q == nil || len(q.GetMetric()) != 2 {
			return false
		}
		for _, m := range q.GetMetric() {
			if m.GetGauge().GetValue() < 5 {
				return false
			}
		}
		return true
	})

	status, body := postJSON(t, f.gw.URL+"/v1/chat/completions", chatBody(baseModel, "s", "batch job", 4, false),
		map[string]string{"x-gateway-inference-objective": "batch"})
	if status != http.StatusTooManyRequests {
		t.Fatalf("sheddable request under saturation: %d %s, want 429", status, body)
	}
	decodeError(t, body)

	// A critical request is admitted: it reaches a replica's queue.
	before := waiting()
	critical := make(chan int, 1)
	go func() {
		s, _ := postJSON(t, f.gw.URL+"/v1/chat/completions", chatBody(baseModel, "s", "urgent", 4, false),
			map[string]string{"x-gateway-inference-objective": "critical"})
		critical <- s
	}()
	eventually(t, 30*time.Second, "the critical request to be queued at a replica", func() bool { return waiting() > before })
	stopHogs() // the replicas drain, and the critical request is served
	select {
	case s := <-critical:
		if s != http.StatusOK {
			t.Fatalf("critical request under saturation: %d, want 200", s)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("critical request not served after the load went away")
	}
	eventually(t, 5*time.Second, "one shed request counted", func() bool {
		fams := scrape(t, f.gw.MetricsURL+"/metrics", f.gw.Token)
		return labelSum(fams, "inference_objective_request_error_total", "error_code", "ResourceExhausted") == 1
	})
}
