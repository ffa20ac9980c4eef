package integration

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"
)

// TestStreamCutByDyingReplicaRaisesInSDK kills the replica serving a stream
// mid-way: the official SDK must raise the gateway's in-band error event,
// not see a silent end or a bare transport error. With and without
// include_usage (the gateway holds events back differently).
func TestStreamCutByDyingReplicaRaisesInSDK(t *testing.T) {
	for _, usage := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "include_usage"}[usage], func(t *testing.T) {
			f := startFleet(t, 1, func(int) []string { return []string{"--time-scale", "1"} }, "")
			params := openai.ChatCompletionNewParams{
				Model:     baseModel,
				Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell a long story.")},
				MaxTokens: openai.Int(400),
			}
			if usage {
				params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			}
			client := f.client()
			stream := client.Chat.Completions.NewStreaming(testContext(t, 60*time.Second), params)
			chunks := 0
			for stream.Next() {
				if chunks++; chunks == 3 {
					f.sims[0].Signal(syscall.SIGKILL)
				}
			}
			err := stream.Err()
			var se *ssestream.StreamError
			if !errors.As(err, &se) {
				t.Fatalf("after %d chunks the SDK ended with %v (%T); want a stream error event", chunks, err, err)
			}
			if !strings.Contains(se.Message, `"code":"upstream_error"`) || !strings.Contains(se.Message, `"type":"server_error"`) {
				t.Errorf("stream error %q; want type server_error, code upstream_error", se.Message)
			}
			if chunks < 3 || chunks >= 400 {
				t.Errorf("%d chunks before the error; want the stream cut mid-way", chunks)
			}
		})
	}
}

// podAndStatus posts a completion and returns the replica that answered
// and the status.
func podAndStatus(t *testing.T, url string, i int) (string, int) {
	t.Helper()
	body := fmt.Sprintf(`{"model":%q,"prompt":"p%d","max_tokens":2}`, baseModel, i)
	resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("x-inference-pod"), resp.StatusCode
}

// TestFailingReplicaIsEjected: a replica answering 500 to everything is
// ejected after consecutive5xx answers and gets no more requests; the
// ejection shows in the metrics.
func TestFailingReplicaIsEjected(t *testing.T) {
	_, bad := startSim(t, "sim-bad", "--time-scale", "50", "--error-rate", "1")
	_, good := startSim(t, "sim-good", "--time-scale", "50")
	gw := startGateway(t, poolYAML(bad, good)+"upstream:\n  outlierDetection:\n    consecutive5xx: 3\n    baseEjectionTime: 10m\n    maxEjectionTime: 10m\n")
	eventually(t, 10*time.Second, "two ready endpoints", func() bool {
		return sum(scrape(t, gw.MetricsURL+"/metrics", gw.Token), "inference_pool_ready_pods") == 2
	})
	failures := 0
	for i := 0; failures < 3; i++ {
		if i == 200 {
			t.Fatalf("the failing replica got %d of 200 requests; want 3 to reach it", failures)
		}
		if _, status := podAndStatus(t, gw.URL, i); status != http.StatusOK {
			failures++
		}
	}
	fams := scrape(t, gw.MetricsURL+"/metrics", gw.Token)
	if got := sum(fams, "infergate_outlier_ejections_total"); got != 1 {
		t.Errorf("infergate_outlier_ejections_total = %v, want 1", got)
	}
	if got := sum(fams, "infergate_outlier_ejected_endpoints"); got != 1 {
		t.Errorf("infergate_outlier_ejected_endpoints = %v, want 1", got)
	}
	for i := range 30 {
		if pod, status := podAndStatus(t, gw.URL, 1000+i); status != http.StatusOK || pod != "sim-good" {
			t.Fatalf("request %d after the ejection: %d from %q; want 200 from sim-good", i, status, pod)
		}
	}
}

// TestStoppedReplicaRequestRetriedElsewhere: a request waiting for its
// first byte at a replica that stops (SIGSTOP: it stops answering scrapes
// too) is abandoned there once the replica's metrics go stale and served
// by another replica, long before the first-byte timeout.
func TestStoppedReplicaRequestRetriedElsewhere(t *testing.T) {
	// Replica a answers only after 72 s (1h / time-scale 50), so the
	// request stays there with no byte sent. b is not running yet when the
	// request arrives, so it can only go to a.
	a, addrA := startSim(t, "sim-a", "--time-scale", "50", "--added-latency", "1h")
	t.Cleanup(func() { a.Signal(syscall.SIGCONT) })
	addrB := reservePort(t)
	gw := startGateway(t, poolYAML(addrA, addrB)+"upstream:\n  firstByteTimeout: 5m\n")
	type answer struct {
		pod    string
		status int
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := http.Post(gw.URL+"/v1/completions", "application/json",
			strings.NewReader(fmt.Sprintf(`{"model":%q,"prompt":"hello","max_tokens":2}`, baseModel)))
		if err != nil {
			done <- answer{pod: err.Error()}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- answer{pod: resp.Header.Get("x-inference-pod"), status: resp.StatusCode}
	}()
	eventually(t, 10*time.Second, "the request to be in flight", func() bool {
		return sum(scrape(t, gw.MetricsURL+"/metrics", gw.Token), "inference_objective_running_requests") == 1
	})
	startSim(t, "sim-b", "--time-scale", "50", "--listen", addrB)
	eventually(t, 10*time.Second, "two ready endpoints", func() bool {
		return sum(scrape(t, gw.MetricsURL+"/metrics", gw.Token), "inference_pool_ready_pods") == 2
	})
	a.Signal(syscall.SIGSTOP)
	stopped := time.Now()
	select {
	case ans := <-done:
		if ans.status != http.StatusOK || ans.pod != "sim-b" {
			t.Fatalf("request at the stopped replica ended with %d from %q; want 200 from sim-b", ans.status, ans.pod)
		}
		// Scrape staleness is 2 s; the answer must not wait for a.
		if took := time.Since(stopped); took > 10*time.Second {
			t.Errorf("the request took %v after the stop to complete elsewhere", took)
		}
		t.Logf("completed on sim-b %v after sim-a was stopped", time.Since(stopped).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("the request at the stopped replica was not retried elsewhere within 30 s (first-byte timeout 5 m)")
	}
}
