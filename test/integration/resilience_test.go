package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// reservePort returns a loopback address that was free a moment ago.
func reservePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestKilledReplicaCostsNoUnstartedRequest(t *testing.T) {
	// Replica a answers only after an hour, so a request there stays in
	// flight with no byte sent. b and c are not running yet when that
	// request arrives, so it can only go to a.
	a, addrA := startSim(t, "sim-a", "--time-scale", "50", "--added-latency", "1h")
	addrB, addrC := reservePort(t), reservePort(t)
	gw := startGateway(t, poolYAML(addrA, addrB, addrC))
	done := make(chan string, 1)
	go func() {
		status, body := postJSON(t, gw.URL+"/v1/chat/completions", chatBody(baseModel, "s", "q", 4, false), nil)
		if status != http.StatusOK {
			body = "status " + body
		}
		done <- body
	}()
	eventually(t, 10*time.Second, "the request to be in flight", func() bool {
		return sum(scrape(t, gw.MetricsURL+"/metrics", gw.Token), "inference_objective_running_requests") == 1
	})
	startSim(t, "sim-b", "--time-scale", "50", "--listen", addrB)
	startSim(t, "sim-c", "--time-scale", "50", "--listen", addrC)
	eventually(t, 10*time.Second, "three ready endpoints", func() bool {
		return sum(scrape(t, gw.MetricsURL+"/metrics", gw.Token), "inference_pool_ready_pods") == 3
	})
	a.Signal(syscall.SIGKILL)
	select {
	case body := <-done:
		if strings.HasPrefix(body, "status ") {
			t.Fatalf("request in flight at the killed replica failed: %s", body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("request in flight at the killed replica never finished")
	}
	// Everything sent after the kill succeeds too, on the survivors.
	for i := range 10 {
		if pod := servedBy(t, gw.URL+"/v1/completions", fmt.Sprintf(`{"model":%q,"prompt":"p%d","max_tokens":2}`, baseModel, i), nil); pod == "sim-a" {
			t.Fatalf("request %d served by the killed replica", i)
		}
	}
}

func TestSIGTERMDrainsStreams(t *testing.T) {
	f := startFleet(t, 1, func(int) []string { return []string{"--time-scale", "1"} }, "")
	resp, err := http.Post(f.gw.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(chatBody(baseModel, "s", "tell a story", 100, true)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if _, err := rd.ReadString('\n'); err != nil { // the stream has started
		t.Fatal(err)
	}
	f.gw.Signal(syscall.SIGTERM)
	rest, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("stream cut during drain: %v", err)
	}
	if !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("stream did not finish: %q", rest[max(0, len(rest)-200):])
	}
	if n := strings.Count(string(rest), `"content":`); n < 99 {
		t.Errorf("got %d content events after SIGTERM, want the full 100-token answer", n)
	}
	exitErr, exited := f.gw.Wait(20 * time.Second)
	if !exited {
		t.Fatal("gateway did not exit after draining")
	}
	if exitErr != nil {
		t.Fatalf("gateway exit: %v\n%s", exitErr, f.gw.Output())
	}
}
