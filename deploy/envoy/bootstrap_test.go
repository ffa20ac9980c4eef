package envoy

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	// Every extension the bootstraps name by type URL, so protojson can
	// resolve their Any fields (an unregistered type fails the decode).
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"

	"github.com/infergate/infergate/internal/exchange"
)

// The destination protocol's headers (gateway-api-inference-extension
// proposal 004), which only the picker may set.
const destinationHeader = "x-gateway-destination-endpoint"

var destinationHeaders = []string{
	destinationHeader,
	destinationHeader + "-subset",
	destinationHeader + "-served",
	destinationHeader + "-scores",
}

// minMessageTimeout is the longest the picker may hold a request: flow
// control's default queue TTL (60 s) plus a no-endpoint hold.
const minMessageTimeout = 60 * time.Second

var bootstraps = []string{"envoy-sidecar.yaml", "envoy-picker-tls.yaml"}

// loadBootstrap decodes file the way Envoy reads a YAML bootstrap (YAML to
// JSON to the proto, unknown fields rejected) and runs the generated
// validation rules of every message, Any payloads included.
func loadBootstrap(t *testing.T, file string) *bootstrapv3.Bootstrap {
	t.Helper()
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var b bootstrapv3.Bootstrap
	if err := (protojson.UnmarshalOptions{}).Unmarshal(j, &b); err != nil {
		t.Fatalf("%s does not decode as an Envoy v3 Bootstrap: %v", file, err)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	// ValidateAll stops at Any fields (typed_config): unpack each and
	// validate it too, recursively.
	if err := validateAnys(b.ProtoReflect()); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &b
}

// validateAnys finds every google.protobuf.Any under m, decodes it with the
// registered type and runs its ValidateAll, recursively.
func validateAnys(m protoreflect.Message) error {
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			return fmt.Errorf("%s: %w", a.GetTypeUrl(), err)
		}
		if v, ok := inner.(interface{ ValidateAll() error }); ok {
			if err := v.ValidateAll(); err != nil {
				return fmt.Errorf("%s: %w", a.GetTypeUrl(), err)
			}
		}
		return validateAnys(inner.ProtoReflect())
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len() && err == nil; i++ {
				err = validateAnys(v.List().Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				err = validateAnys(mv.Message())
				return err == nil
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			err = validateAnys(v.Message())
		}
		return err == nil
	})
	return err
}

func TestBootstrapsValidate(t *testing.T) {
	for _, f := range bootstraps {
		t.Run(f, func(t *testing.T) {
			b := loadBootstrap(t, f)
			hcm := inferenceHCM(t, b)
			checkFilterChain(t, hcm)
			checkModelServerCluster(t, b)
			checkPickerCluster(t, b, f == "envoy-picker-tls.yaml")
		})
	}
}

// TestBootstrapsDifferOnlyInPicker keeps the two files in step: apart from
// the picker cluster they are the same data plane.
func TestBootstrapsDifferOnlyInPicker(t *testing.T) {
	a, b := loadBootstrap(t, bootstraps[0]), loadBootstrap(t, bootstraps[1])
	for _, x := range []*bootstrapv3.Bootstrap{a, b} {
		x.StaticResources.Clusters = slices.DeleteFunc(x.StaticResources.Clusters, func(c *clusterv3.Cluster) bool {
			return c.GetName() == "infergate_picker"
		})
	}
	if !proto.Equal(a, b) {
		t.Errorf("%s and %s differ beyond the picker cluster", bootstraps[0], bootstraps[1])
	}
}

// TestBootstrapRejectsTypos shows the decode is strict: an unknown field or
// an unregistered extension type fails, so the bootstraps' test cannot pass
// on a misspelled setting.
func TestBootstrapRejectsTypos(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field": `{"static_resources": {"clusters": [{"name": "c", "conect_timeout": "1s"}]}}`,
		"unknown type":  `{"static_resources": {"listeners": [{"name": "l", "filter_chains": [{"filters": [{"name": "x", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.network.nope.v3.Nope"}}]}]}]}}`,
	} {
		var b bootstrapv3.Bootstrap
		if err := protojson.Unmarshal([]byte(doc), &b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	// ValidateAll catches what decodes: an empty cluster name.
	b := &bootstrapv3.Bootstrap{StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{{}}}}
	if err := b.ValidateAll(); err == nil {
		t.Error("ValidateAll accepted a cluster without a name")
	}
	// And inside a typed_config: an HTTP connection manager without
	// stat_prefix.
	inner, err := anypb.New(&hcmv3.HttpConnectionManager{})
	if err != nil {
		t.Fatal(err)
	}
	if err := validateAnys(inner.ProtoReflect()); err == nil {
		t.Error("validateAnys accepted an HTTP connection manager without stat_prefix")
	}
}

// inferenceHCM returns the HTTP connection manager of listener inference.
func inferenceHCM(t *testing.T, b *bootstrapv3.Bootstrap) *hcmv3.HttpConnectionManager {
	t.Helper()
	i := slices.IndexFunc(b.GetStaticResources().GetListeners(), func(l *listenerv3.Listener) bool { return l.GetName() == "inference" })
	if i < 0 {
		t.Fatal("no listener inference")
	}
	l := b.GetStaticResources().GetListeners()[i]
	if len(l.GetFilterChains()) != 1 || len(l.GetFilterChains()[0].GetFilters()) != 1 {
		t.Fatalf("listener inference: want one filter chain with one network filter")
	}
	var hcm hcmv3.HttpConnectionManager
	if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatalf("listener inference: %v", err)
	}
	if got := hcm.GetCommonHttpProtocolOptions().GetHeadersWithUnderscoresAction().String(); got != "REJECT_REQUEST" {
		t.Errorf("headers_with_underscores_action %s; want REJECT_REQUEST (an underscored spelling would bypass the header removal)", got)
	}
	if d := hcm.GetStreamIdleTimeout().AsDuration(); d <= minMessageTimeout {
		t.Errorf("stream_idle_timeout %v; want more than the picker's longest hold %v", d, minMessageTimeout)
	}
	return &hcm
}

// checkFilterChain checks the HTTP filters: header removal, then ext_proc,
// then the router, with the settings the picker depends on.
func checkFilterChain(t *testing.T, hcm *hcmv3.HttpConnectionManager) {
	t.Helper()
	var names []string
	for _, f := range hcm.GetHttpFilters() {
		names = append(names, f.GetName())
	}
	want := []string{"envoy.filters.http.header_mutation", "envoy.filters.http.ext_proc", "envoy.filters.http.router"}
	if !slices.Equal(names, want) {
		t.Fatalf("http filters %q; want %q (control headers removed before the picker sees them)", names, want)
	}

	var hm headermutationv3.HeaderMutation
	if err := hcm.GetHttpFilters()[0].GetTypedConfig().UnmarshalTo(&hm); err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, m := range hm.GetMutations().GetRequestMutations() {
		if r := m.GetRemove(); r != "" {
			removed = append(removed, r)
		} else {
			t.Errorf("request mutation %v; want only removals", m)
		}
	}
	for _, h := range append(slices.Clone(exchange.ControlHeaders), destinationHeaders...) {
		if !slices.Contains(removed, h) {
			t.Errorf("header %s is not removed from client requests", h)
		}
	}

	var ep extprocv3.ExternalProcessor
	if err := hcm.GetHttpFilters()[1].GetTypedConfig().UnmarshalTo(&ep); err != nil {
		t.Fatal(err)
	}
	pm := ep.GetProcessingMode()
	for _, m := range []struct {
		field string
		got   string
		want  string
	}{
		{"request_header_mode", pm.GetRequestHeaderMode().String(), "SEND"},
		{"response_header_mode", pm.GetResponseHeaderMode().String(), "SEND"},
		{"request_body_mode", pm.GetRequestBodyMode().String(), "FULL_DUPLEX_STREAMED"},
		{"response_body_mode", pm.GetResponseBodyMode().String(), "FULL_DUPLEX_STREAMED"},
		{"request_trailer_mode", pm.GetRequestTrailerMode().String(), "SEND"},
		{"response_trailer_mode", pm.GetResponseTrailerMode().String(), "SEND"},
	} {
		if m.got != m.want {
			t.Errorf("processing_mode.%s %s; want %s", m.field, m.got, m.want)
		}
	}
	if d := ep.GetMessageTimeout().AsDuration(); d <= minMessageTimeout {
		t.Errorf("message_timeout %v; want more than the picker's longest hold %v", d, minMessageTimeout)
	}
	if ep.GetFailureModeAllow() {
		t.Error("failure_mode_allow true; fail-open does not work with FULL_DUPLEX_STREAMED and would route to the listener itself")
	}
	if got := ep.GetGrpcService().GetEnvoyGrpc().GetClusterName(); got != "infergate_picker" {
		t.Errorf("ext_proc cluster %q; want infergate_picker", got)
	}
	if got := ep.GetMetadataOptions().GetReceivingNamespaces().GetUntyped(); !slices.Contains(got, "envoy.lb") {
		t.Errorf("metadata receiving namespaces %q; the picker's envoy.lb metadata would be dropped", got)
	}
	if got := ep.GetMetadataOptions().GetForwardingNamespaces().GetUntyped(); !slices.Contains(got, "envoy.lb") || !slices.Contains(got, "envoy.lb.subset_hint") {
		t.Errorf("metadata forwarding namespaces %q; want envoy.lb and envoy.lb.subset_hint", got)
	}

	vhs := hcm.GetRouteConfig().GetVirtualHosts()
	if len(vhs) != 1 || len(vhs[0].GetRoutes()) != 1 || vhs[0].GetRoutes()[0].GetRoute().GetCluster() != "model_servers" {
		t.Errorf("routes %v; want one route to cluster model_servers", vhs)
	}
}

// checkModelServerCluster checks the ORIGINAL_DST cluster that follows the
// picker's destination header.
func checkModelServerCluster(t *testing.T, b *bootstrapv3.Bootstrap) {
	t.Helper()
	c := cluster(t, b, "model_servers")
	if c.GetType() != clusterv3.Cluster_ORIGINAL_DST || c.GetLbPolicy() != clusterv3.Cluster_CLUSTER_PROVIDED {
		t.Errorf("model_servers type %v lb %v; want ORIGINAL_DST, CLUSTER_PROVIDED", c.GetType(), c.GetLbPolicy())
	}
	od := c.GetOriginalDstLbConfig()
	if !od.GetUseHttpHeader() || od.GetHttpHeaderName() != destinationHeader {
		t.Errorf("original_dst_lb_config %v; want use_http_header on %s", od, destinationHeader)
	}
	checkCircuitBreakers(t, c)
}

// checkPickerCluster checks the cluster of the ext_proc gRPC stream:
// HTTP/2, TLS in the separate-picker variant, plaintext on loopback in the
// sidecar.
func checkPickerCluster(t *testing.T, b *bootstrapv3.Bootstrap, wantTLS bool) {
	t.Helper()
	c := cluster(t, b, "infergate_picker")
	anyOpts, ok := c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
	if !ok {
		t.Fatal("picker cluster without HttpProtocolOptions; gRPC needs HTTP/2")
	}
	var opts httpv3.HttpProtocolOptions
	if err := anyOpts.UnmarshalTo(&opts); err != nil {
		t.Fatal(err)
	}
	if opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions() == nil {
		t.Error("picker cluster does not speak HTTP/2")
	}
	checkCircuitBreakers(t, c)
	ts := c.GetTransportSocket()
	if !wantTLS {
		if ts != nil {
			t.Errorf("sidecar picker cluster has transport socket %v; want loopback plaintext", ts.GetName())
		}
		if c.GetType() != clusterv3.Cluster_STATIC {
			t.Errorf("sidecar picker cluster type %v; want STATIC 127.0.0.1", c.GetType())
		}
		return
	}
	var up tlsv3.UpstreamTlsContext
	if ts == nil || ts.GetTypedConfig().UnmarshalTo(&up) != nil {
		t.Fatalf("picker cluster transport socket %v; want UpstreamTlsContext", ts)
	}
	if up.GetSni() == "" || !slices.Contains(up.GetCommonTlsContext().GetAlpnProtocols(), "h2") {
		t.Errorf("picker TLS sni %q alpn %q; want a server name and h2", up.GetSni(), up.GetCommonTlsContext().GetAlpnProtocols())
	}
	// gRPC health is served in plaintext on the health port (9003), not
	// on the ext_proc port: the check must go there without TLS.
	hc := c.GetHealthChecks()
	if len(hc) != 1 || hc[0].GetGrpcHealthCheck().GetServiceName() != "envoy.service.ext_proc.v3.ExternalProcessor" {
		t.Fatalf("picker health checks %v; want gRPC health of envoy.service.ext_proc.v3.ExternalProcessor", hc)
	}
	for _, lb := range c.GetLoadAssignment().GetEndpoints() {
		for _, e := range lb.GetLbEndpoints() {
			if got := e.GetEndpoint().GetHealthCheckConfig().GetPortValue(); got != 9003 {
				t.Errorf("picker endpoint health check port %d; want 9003, the gRPC health listener", got)
			}
		}
	}
	crit := hc[0].GetTransportSocketMatchCriteria().AsMap()
	i := slices.IndexFunc(c.GetTransportSocketMatches(), func(m *clusterv3.Cluster_TransportSocketMatch) bool {
		return reflect.DeepEqual(m.GetMatch().AsMap(), crit)
	})
	if len(crit) == 0 || i < 0 || c.GetTransportSocketMatches()[i].GetTransportSocket().GetName() != "envoy.transport_sockets.raw_buffer" {
		t.Errorf("picker health check transport criteria %v; want a match on a plaintext (raw_buffer) transport socket", crit)
	}
}

// checkCircuitBreakers checks that Envoy's default limits (1024 requests per
// cluster) do not cap the gateway.
func checkCircuitBreakers(t *testing.T, c *clusterv3.Cluster) {
	t.Helper()
	th := c.GetCircuitBreakers().GetThresholds()
	if len(th) == 0 || th[0].GetMaxRequests().GetValue() < 10000 || th[0].GetMaxPendingRequests().GetValue() < 10000 {
		t.Errorf("cluster %s circuit breakers %v; want limits far above Envoy's default 1024", c.GetName(), th)
	}
}

func cluster(t *testing.T, b *bootstrapv3.Bootstrap, name string) *clusterv3.Cluster {
	t.Helper()
	i := slices.IndexFunc(b.GetStaticResources().GetClusters(), func(c *clusterv3.Cluster) bool { return c.GetName() == name })
	if i < 0 {
		t.Fatalf("no cluster %s", name)
	}
	return b.GetStaticResources().GetClusters()[i]
}
