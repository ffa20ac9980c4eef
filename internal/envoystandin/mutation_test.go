package envoystandin

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

func TestApplyHeaderMutation(t *testing.T) {
	base := func() headerList {
		return headerList{{":authority", "a"}, {":path", "/p"}, {":method", "POST"}, {":scheme", "http"},
			{"x-a", "1"}, {"x-a", "2"}, {"content-length", "5"}, {"host", "a"}}
	}
	cases := []struct {
		name    string
		rules   mutationRules
		m       *extprocv3.HeaderMutation
		want    headerList
		ignored int
		err     bool
	}{{
		name: "set replaces every value in place",
		m:    &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{setHeader("X-A", "3")}},
		want: headerList{{":authority", "a"}, {":path", "/p"}, {":method", "POST"}, {":scheme", "http"}, {"x-a", "3"}, {"content-length", "5"}, {"host", "a"}},
	}, {
		name: "append, removal, :path allowed; routing headers, x-envoy and pseudo removal ignored; content-length skipped",
		m: &extprocv3.HeaderMutation{
			SetHeaders: []*corev3.HeaderValueOption{appendHeader("x-a", "3"), setHeader(":path", "/q"), setHeader(":method", "GET"),
				setHeader("host", "b"), setHeader("x-envoy-x", "1"), setHeader("content-length", "9")},
			RemoveHeaders: []string{"content-length", ":scheme"},
		},
		want:    headerList{{":authority", "a"}, {":path", "/q"}, {":method", "POST"}, {":scheme", "http"}, {"x-a", "1"}, {"x-a", "2"}, {"host", "a"}, {"x-a", "3"}},
		ignored: 4,
	}, {
		name:  "immediate rules allow routing and x-envoy headers",
		rules: immediateRules,
		m:     &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{setHeader(":method", "GET"), setHeader("x-envoy-x", "1")}},
		want:  headerList{{":authority", "a"}, {":path", "/p"}, {":method", "GET"}, {":scheme", "http"}, {"x-a", "1"}, {"x-a", "2"}, {"content-length", "5"}, {"host", "a"}, {"x-envoy-x", "1"}},
	}, {
		name: "value without raw_value sets an empty header (Envoy reads raw_value)",
		m:    &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-b", Value: "v"}}}},
		want: append(base(), header{"x-b", ""}),
	}, {
		name: "both value and raw_value",
		m:    &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-b", Value: "v", RawValue: []byte("v")}}}},
		err:  true,
	}, {
		name: "invalid name",
		m:    &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{setHeader("x b", "v")}},
		err:  true,
	}, {
		name: "invalid removal",
		m:    &extprocv3.HeaderMutation{RemoveHeaders: []string{"x\nb"}},
		err:  true,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := base()
			ignored, err := applyHeaderMutation(&h, c.m, c.rules, true)
			if (err != nil) != c.err {
				t.Fatalf("err = %v", err)
			}
			if c.err {
				return
			}
			if ignored != c.ignored || len(h) != len(c.want) {
				t.Fatalf("got %v (ignored %d), want %v (ignored %d)", h, ignored, c.want, c.ignored)
			}
			for i := range h {
				if h[i] != c.want[i] {
					t.Fatalf("got %v, want %v", h, c.want)
				}
			}
		})
	}
}
