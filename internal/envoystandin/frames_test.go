package envoystandin

import (
	"testing"

	"github.com/infergate/infergate/internal/testframes"
)

// TestNoBDPPings: like Envoy, whose HTTP/2 flow-control windows are
// static, the stand-in sends the picker no PING frames of its own (gRPC's
// BDP estimation would send one about every message the picker answers,
// each costing the picker an acknowledgement).
func TestNoBDPPings(t *testing.T) {
	up := startUpstream(t, nil)
	_, pickerAddr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
	tap := testframes.Start(t, pickerAddr)
	s, results := newStandIn(t, tap.Addr(), nil)
	body := make([]byte, 40<<10)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	for range 5 {
		if code, _, _ := post(t, s, "/v1/completions", body, nil); code != 200 {
			t.Fatalf("status %d", code)
		}
		<-results
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	tap.Close()
	c := tap.Counts()
	if c.ClientFrames == 0 || c.ServerFrames == 0 {
		t.Fatalf("the tap saw no traffic: %+v", c)
	}
	if c.ClientPings != 0 {
		t.Errorf("the stand-in sent %d PING frames (of %d frames), want none", c.ClientPings, c.ClientFrames)
	}
}
