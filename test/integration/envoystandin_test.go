package integration

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// standInReadyRE matches the ready line of `infergate envoy-standin`.
var standInReadyRE = regexp.MustCompile(`^envoy-standin listening on (http://127\.0\.0\.1:\d+)$`)

// TestEnvoyStandInCommand runs the hidden `infergate envoy-standin`
// subcommand (the benchmark's data plane for its ext_proc arms) in front of
// a gateway's ext_proc picker: a completion goes through it, and on
// SIGTERM it exits cleanly with its counters.
func TestEnvoyStandInCommand(t *testing.T) {
	_, a := startSim(t, "sim-a", "--time-scale", "1")
	gw := startGateway(t, poolYAML(a)+"extProc:\n  listen: 127.0.0.1:0\n  healthListen: 127.0.0.1:0\n  plaintext: true\n")
	m := extProcRE.FindStringSubmatch(gw.Output())
	if m == nil {
		t.Fatalf("no ext_proc listeners on the serving line:\n%s", gw.Output())
	}
	si, ready := startProc(t, standInReadyRE, "envoy-standin", "--extproc-addr", m[1], "--plaintext", "--message-timeout", "-1s")
	resp, err := http.Post(ready[1]+"/v1/chat/completions", "application/json", bytes.NewReader([]byte(chatBody(baseModel, "s", "hello", 5, false))))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"completion_tokens":5`)) {
		t.Fatalf("completion through the stand-in: %d %s", resp.StatusCode, body)
	}
	http.DefaultClient.CloseIdleConnections()
	si.Signal(syscall.SIGTERM)
	exitErr, exited := si.Wait(30 * time.Second)
	if !exited || exitErr != nil {
		t.Fatalf("stand-in exit %v (exited %v)\n%s", exitErr, exited, si.Output())
	}
	if !strings.Contains(si.Output(), `envoy-standin stats {"Requests":1,"Forwarded":1,`) {
		t.Errorf("no stats line counting the request:\n%s", si.Output())
	}
}
