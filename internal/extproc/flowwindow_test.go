package extproc

import (
	"testing"

	"github.com/infergate/infergate/internal/testframes"
)

// TestNoBDPPings: the picker's windows are static, so it sends its client
// no PING frames of its own; with gRPC's BDP estimation it would send one
// about every message it receives, and the data plane would answer each.
func TestNoBDPPings(t *testing.T) {
	a := startSim(t, "a")
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{a}, models: []string{simModel}})
	tap := testframes.Start(t, p.addr)
	p.addr = tap.Addr()
	for range 3 {
		roundTrip(t, p, httpReq{path: "/v1/chat/completions", body: chatBody(simModel, 40<<10, true)}, 512, testTimeout)
	}
	tap.Close()
	c := tap.Counts()
	if c.ClientFrames == 0 || c.ServerFrames == 0 {
		t.Fatalf("the tap saw no traffic: %+v", c)
	}
	if c.ServerPings != 0 {
		t.Errorf("the picker sent %d PING frames (of %d frames), want none", c.ServerPings, c.ServerFrames)
	}
}
