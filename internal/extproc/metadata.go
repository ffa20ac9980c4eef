package extproc

import (
	"net"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/infergate/infergate/internal/pool"
)

// Bounds on the metadata Envoy (or whatever fills it) sends: entries past
// maxSubsetEntries are ignored, and so are addresses longer than
// maxAddressBytes.
const (
	maxSubsetEntries = 4096
	maxAddressBytes  = 256
)

// subset is Envoy's subset hint: the hosts (IP addresses) the pick must stay
// within. Like upstream's picker it matches endpoints by host, so every
// port of a listed pod qualifies.
type subset struct {
	hosts map[string]struct{}
}

// subsetHint reads the subset hint from a message's metadata: nil when there
// is none (every endpoint may be picked), an empty subset when the key is
// there but lists nothing usable (no endpoint may). The value is a list of
// "ip:port" strings; a single string is read as a comma-separated list.
// Entries that are not strings or are too long are skipped.
func subsetHint(md *corev3.Metadata) *subset {
	ns := md.GetFilterMetadata()[NamespaceSubsetHint]
	if ns == nil {
		return nil
	}
	v, ok := ns.GetFields()[HeaderDestinationSubset]
	if !ok {
		return nil
	}
	s := &subset{hosts: make(map[string]struct{})}
	add := func(addr string) {
		addr = strings.TrimSpace(addr)
		if addr == "" || len(addr) > maxAddressBytes || len(s.hosts) >= maxSubsetEntries {
			return
		}
		s.hosts[hostOf(addr)] = struct{}{}
	}
	switch k := v.GetKind().(type) {
	case *structpb.Value_ListValue:
		for i, e := range k.ListValue.GetValues() {
			if i >= maxSubsetEntries {
				break
			}
			if sv, ok := e.GetKind().(*structpb.Value_StringValue); ok {
				add(sv.StringValue)
			}
		}
	case *structpb.Value_StringValue:
		for i, a := range strings.Split(k.StringValue, ",") {
			if i >= maxSubsetEntries {
				break
			}
			add(a)
		}
	default:
		return nil // not a list: no hint, as upstream
	}
	return s
}

// allows reports whether ep is in the subset.
func (s *subset) allows(ep *pool.Endpoint) bool {
	_, ok := s.hosts[hostOf(ep.Address())]
	return ok
}

// hostOf returns the host of host:port (brackets of IPv6 removed), or addr
// when it has no port.
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return strings.Trim(addr, "[]")
}

// servedAddress reads the endpoint that served the request from a response
// message's metadata (envoy.lb / x-gateway-destination-endpoint-served), ""
// when absent, not a string or too long. A comma-separated value yields its
// first entry.
func servedAddress(md *corev3.Metadata) string {
	v := md.GetFilterMetadata()[NamespaceLB].GetFields()[HeaderDestinationServed]
	sv, ok := v.GetKind().(*structpb.Value_StringValue)
	if !ok || len(sv.StringValue) > maxAddressBytes {
		return ""
	}
	s := sv.StringValue
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// endpointAt returns the endpoint of snap at addr (host:port), nil when none.
func endpointAt(snap *pool.Snapshot, addr string) *pool.Endpoint {
	if addr == "" || snap == nil {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	for _, ep := range snap.Endpoints() {
		if ep.Address() == addr {
			return ep
		}
		if h, p, err := net.SplitHostPort(ep.Address()); err == nil && p == port && h == host {
			return ep
		}
	}
	return nil
}
