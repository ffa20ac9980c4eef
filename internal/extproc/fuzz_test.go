package extproc

import (
	"testing"
	"unicode/utf8"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/proto"

	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/pool"
)

// FuzzMetadata feeds arbitrary metadata (as Envoy's wire bytes) to the
// subset-hint and served-endpoint readers: no panic, bounded results.
func FuzzMetadata(f *testing.F) {
	for _, md := range []*corev3.Metadata{subsetMetadata("10.0.0.1:8000", "[::1]:80", "x"), subsetMetadata(), servedMetadata("10.0.0.2:8000,10.0.0.3:1")} {
		b, err := proto.Marshal(md)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	eps := pool.NewSnapshot([]*pool.Endpoint{
		pool.NewEndpoint(pool.Spec{Name: "a", Address: "10.0.0.1:8000"}),
		pool.NewEndpoint(pool.Spec{Name: "b", Address: "[::1]:80"}),
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		var md corev3.Metadata
		if proto.Unmarshal(data, &md) != nil {
			return
		}
		if s := subsetHint(&md); s != nil {
			if len(s.hosts) > maxSubsetEntries {
				t.Fatalf("%d subset entries kept", len(s.hosts))
			}
			for _, ep := range eps.Endpoints() {
				_ = s.allows(ep)
			}
		}
		served := servedAddress(&md)
		if len(served) > maxAddressBytes {
			t.Fatalf("served address of %d bytes", len(served))
		}
		_ = endpointAt(eps, served)
	})
}

// FuzzRequestHeaders feeds arbitrary request-headers messages to the
// header reading of the request path: no panic, and what reaches logs and
// labels is bounded and clean.
func FuzzRequestHeaders(f *testing.F) {
	seed := &extprocv3.HttpHeaders{Headers: headerMap([][2]string{
		{":method", "POST"}, {":path", "/v1/chat/completions?x=1"}, {"x-request-id", "abc"},
		{exchange.HeaderObjective, "gold"}, {exchange.HeaderSLOTTFT, "100"}, {":status", "200"}, {"content-type", "text/event-stream"},
	})}
	b, err := proto.Marshal(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var h extprocv3.HttpHeaders
		if proto.Unmarshal(data, &h) != nil {
			return
		}
		hs := headersOf(h.GetHeaders())
		for _, name := range []string{headerPath, headerMethod, headerStatus, headerContentType, exchange.HeaderRequestID} {
			if v := hs.get(name); len(v) > maxHeaderValueBytes {
				t.Fatalf("%s: %d bytes", name, len(v))
			}
		}
		_ = pathOnly(hs.get(headerPath))
		if st := statusOf(hs.get(headerStatus)); st != 0 && (st < 100 || st > 599) {
			t.Fatalf("status %d", st)
		}
		_ = isEventStream(hs.get(headerContentType))
		id := exchange.RequestID(hs.get(exchange.HeaderRequestID))
		if len(id) > exchange.MaxRequestIDLen || !exchange.Printable(id) {
			t.Fatalf("request id %q", id)
		}
		if ctl, err := exchange.ReadControl(hs.get); err == nil {
			for _, v := range []string{ctl.Objective, ctl.Rewrite, ctl.FairnessID} {
				if len(v) > exchange.MaxControlValueBytes || !utf8.ValidString(v) || exchange.HasControlChar(v) {
					t.Fatalf("control value %q", v)
				}
			}
		}
	})
}
