package config

import (
	"net"
	"net/netip"
)

// Listener values that turn a listener off.
const (
	// ListenOff turns an optional listener off (as does leaving it
	// empty), and the proxy listener (listen) when ext_proc is on.
	ListenOff = "off"
)

// Defaults of the ext_proc listeners in Kubernetes mode started with
// --pool-name (upstream's ports).
const (
	// DefaultExtProcListen is upstream's ext_proc gRPC port.
	DefaultExtProcListen = ":9002"
	// DefaultExtProcHealthListen is upstream's gRPC health port.
	DefaultExtProcHealthListen = ":9003"
	// maxExtProcFallbacks bounds extProc.fallbacks.
	maxExtProcFallbacks = 8
)

// ExtProc configures the Envoy ext_proc front end: infergate answering
// Envoy's envoy.service.ext_proc.v3.ExternalProcessor as an endpoint picker
// for one pool, next to (or instead of) the native proxy.
type ExtProc struct {
	// Listen is the host:port of the ext_proc gRPC listener; "" or "off"
	// (the default) turns ext_proc off. Port 0 picks a free port.
	Listen string `yaml:"listen" json:"listen"`
	// HealthListen is the host:port of the gRPC health listener (services
	// "", inference-extension, liveness, readiness and
	// envoy.service.ext_proc.v3.ExternalProcessor), always plaintext (the
	// kubelet's gRPC probe speaks no TLS); "" or "off" (the default) turns
	// it off. It needs Listen.
	HealthListen string `yaml:"healthListen" json:"healthListen"`
	// Pool names the pool this listener picks endpoints from, since Envoy
	// names none. Required when the gateway has several pools (or, in
	// Kubernetes mode, serves several InferencePools or a selector); with
	// one pool it defaults to that one.
	Pool string `yaml:"pool" json:"pool"`
	// Plaintext serves ext_proc without TLS. Default false:
	// TLS with TLS's files, or a self-signed certificate generated at
	// start (Envoy's upstream manifests do not verify the picker's
	// certificate), as upstream's --secure-serving does.
	Plaintext bool `yaml:"plaintext" json:"plaintext"`
	// TLS is the key pair served on the ext_proc listener
	// (re-read when the files change); unset means a self-signed one.
	TLS KeyPair `yaml:"tls" json:"tls"`
	// Fallbacks is how many further endpoints, best first, follow the
	// chosen one in the envoy.lb dynamic metadata's
	// x-gateway-destination-endpoint value (comma-separated) for a data
	// plane that retries on them; the header always holds the chosen
	// endpoint alone. Default 0 (none); at most 8.
	Fallbacks int `yaml:"fallbacks" json:"fallbacks"`
	// EndpointScores adds x-gateway-destination-endpoint-scores (a struct
	// of address → weighted score of every candidate) to the envoy.lb
	// dynamic metadata. Default false.
	EndpointScores bool `yaml:"endpointScores" json:"endpointScores"`
}

// On reports whether the ext_proc listener is configured.
func (e ExtProc) On() bool { return listenerOn(e.Listen) }

// HealthOn reports whether the gRPC health listener is configured.
func (e ExtProc) HealthOn() bool { return listenerOn(e.HealthListen) }

// listenerOn reports whether an optional listener address is set.
func listenerOn(addr string) bool { return addr != "" && addr != ListenOff }

// ExtProcPool returns the pool the ext_proc listener serves: extProc.pool,
// or the only pool (in Kubernetes mode the only named InferencePool) when
// it is unset; "" when it cannot be told.
func (c *Config) ExtProcPool() string {
	if c.ExtProc.Pool != "" {
		return c.ExtProc.Pool
	}
	if c.Kubernetes.Enabled {
		if len(c.Kubernetes.Pools) == 1 && c.Kubernetes.PoolSelector == nil {
			return c.Kubernetes.Pools[0]
		}
		return ""
	}
	if len(c.Pools) == 1 {
		return c.Pools[0].Name
	}
	return ""
}

// validate checks the ext_proc section against the whole config c.
func (e ExtProc) validate(c *Config) []error {
	var errs []error
	if e.On() {
		errs = append(errs, validateListen("extProc.listen", e.Listen)...)
	}
	if e.HealthOn() {
		errs = append(errs, validateListen("extProc.healthListen", e.HealthListen)...)
		if !e.On() {
			errs = append(errs, fieldErrorf("extProc.healthListen", "needs extProc.listen"))
		}
	}
	errs = append(errs, e.TLS.validate("extProc.tls")...)
	if e.Plaintext && e.TLS.IsSet() {
		errs = append(errs, fieldErrorf("extProc.plaintext", "cannot be combined with extProc.tls (the certificate would not be used)"))
	}
	if e.Fallbacks < 0 || e.Fallbacks > maxExtProcFallbacks {
		errs = append(errs, fieldErrorf("extProc.fallbacks", "must be in 0..%d, got %d", maxExtProcFallbacks, e.Fallbacks))
	}
	if !e.On() {
		return errs
	}
	switch {
	case c.ExtProcPool() == "":
		errs = append(errs, fieldErrorf("extProc.pool", "is required when the gateway serves several pools (Envoy names none)"))
	case c.Kubernetes.Enabled:
		if len(c.Kubernetes.Pools) > 0 && c.Kubernetes.PoolSelector == nil && !contains(c.Kubernetes.Pools, e.Pool) && e.Pool != "" {
			errs = append(errs, fieldErrorf("extProc.pool", "%q is not in kubernetes.pools", e.Pool))
		}
	default:
		found := false
		for i, p := range c.Pools {
			if p.Name != c.ExtProcPool() {
				continue
			}
			found = true
			errs = append(errs, ipEndpoints(p, indexed("pools", i))...)
		}
		if !found {
			errs = append(errs, fieldErrorf("extProc.pool", "%q names no pool", e.Pool))
		}
	}
	return errs
}

// ipEndpoints reports endpoints of p (at path) whose host is not an IP
// address: Envoy's ORIGINAL_DST cluster takes the destination header as
// ip:port only.
func ipEndpoints(p Pool, path string) []error {
	var errs []error
	for i, ep := range p.Endpoints {
		host, _, err := net.SplitHostPort(ep.Address)
		if err != nil {
			continue // reported by the pool's own validation
		}
		if _, err := netip.ParseAddr(host); err != nil {
			errs = append(errs, fieldErrorf(indexed(path+".endpoints", i)+".address",
				"%q: the ext_proc pool's endpoints need IP addresses (Envoy's ORIGINAL_DST cluster reads ip:port only)", ep.Address))
		}
	}
	return errs
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// validateListeners reports an ext_proc listener address that another
// listener uses too (ports 0 may be shared: each binds its own free port;
// listen and metricsListen are compared in [Config.Validate]). Only valid
// host:port addresses are compared; the path names the later user.
func (c *Config) validateListeners() []error {
	type listener struct{ path, addr string }
	all := []listener{{"listen", c.Listen}, {"metricsListen", c.MetricsListen}}
	if c.ExtProc.On() {
		all = append(all, listener{"extProc.listen", c.ExtProc.Listen})
	}
	if c.ExtProc.HealthOn() {
		all = append(all, listener{"extProc.healthListen", c.ExtProc.HealthListen})
	}
	var errs []error
	for i, l := range all {
		if i < 2 || hasZeroPort(l.addr) || hostPortProblem(l.addr, false, 0) != "" {
			continue
		}
		for _, prev := range all[:i] {
			if hasZeroPort(prev.addr) || hostPortProblem(prev.addr, false, 0) != "" {
				continue
			}
			if sameListener(prev.addr, l.addr) {
				errs = append(errs, fieldErrorf(l.path, "%q is also the %s address", l.addr, prev.path))
				break
			}
		}
	}
	return errs
}

// sameListener reports whether two valid host:port listener addresses
// would collide: the same port on the same host, or on all interfaces.
func sameListener(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	if pa != pb {
		return false
	}
	return ha == hb || ha == "" || hb == "" || ha == "0.0.0.0" || hb == "0.0.0.0" || ha == "::" || hb == "::"
}
