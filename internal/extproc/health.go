package extproc

import (
	"crypto/tls"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// HealthServices are the gRPC health service names answered: "" (the
// server as a whole), upstream's chart probe name, liveness, readiness and
// the ext_proc service itself.
var HealthServices = []string{"", "inference-extension", "liveness", "readiness", extprocv3.ExternalProcessor_ServiceDesc.ServiceName}

// Health is the gRPC health service of the ext_proc front end: liveness
// always serves; the other names serve once the gateway is ready (catalog
// synced) and stop serving when it drains.
type Health struct {
	*GRPC
	hs *health.Server
}

// NewHealth returns the health server, over TLS with tlsCfg (nil:
// plaintext), not ready yet.
func NewHealth(tlsCfg *tls.Config) *Health {
	h := &Health{GRPC: newGRPC(tlsCfg), hs: health.NewServer()}
	healthpb.RegisterHealthServer(h.srv, h.hs)
	h.SetReady(false)
	return h
}

// SetReady sets the readiness of every service but liveness.
func (h *Health) SetReady(ready bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ready {
		st = healthpb.HealthCheckResponse_SERVING
	}
	for _, name := range HealthServices {
		if name == "liveness" {
			h.hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
			continue
		}
		h.hs.SetServingStatus(name, st)
	}
}
