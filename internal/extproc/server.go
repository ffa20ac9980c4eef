package extproc

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/recovery"
	"github.com/infergate/infergate/internal/router"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Options configure a [Server]. Router is required.
type Options struct {
	// Router makes routing decisions.
	Router *router.Router
	// Pool names the one pool this processor picks from (Envoy names
	// none); "" lets the router search every pool.
	Pool string
	// Metrics records request metrics (telemetry.Metrics implements it);
	// nil records nothing.
	Metrics exchange.Observer
	// Panics counts recovered panics (telemetry.Metrics implements it);
	// nil counts nothing.
	Panics recovery.Counter
	// Decisions records each decision's latency (telemetry.Metrics
	// implements it); nil records nothing and reads no clock for it.
	Decisions DecisionObserver
	// Logger receives access logs and errors; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies (413 beyond); 0 means 16 MiB.
	MaxBodyBytes int64
	// Budget bounds the body memory all in-flight requests hold together
	// (503 beyond), shared with the proxy; nil means a 1 GiB budget of
	// this server's own.
	Budget *admission.Budget
	// InFlight caps inference requests being read or served (503 beyond),
	// shared with the proxy; nil means 10000 of this server's own.
	InFlight *admission.InFlight
	// DropControlHeaders removes the control headers (objective, fairness
	// ID, model rewrite, SLOs) from requests, through a header mutation,
	// instead of trusting them.
	DropControlHeaders bool
	// Fallbacks is how many further endpoints follow the chosen one in the
	// envoy.lb metadata's x-gateway-destination-endpoint value.
	Fallbacks int
	// EndpointScores adds x-gateway-destination-endpoint-scores to the
	// envoy.lb metadata.
	EndpointScores bool
	// FlowMode is this front end's flow-control mode, passed with every
	// request to its pool's queue (config.FlowControl.ModeFor: shed unless
	// configured, since Envoy's data plane bounds how long a picker may
	// hold a request); "" uses the queue's own mode.
	FlowMode admission.Mode
	// Conformance turns on conformance mode (see conformance.go): the GIE
	// conformance suite's picker contract instead of inference routing.
	Conformance bool
	// PoolLabel is the pool reported in conformance mode's
	// x-conformance-test-epp-pool header (namespace/name); "" means Pool.
	PoolLabel string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Tracer creates the picker's spans and Propagator reads Envoy's
	// traceparent/tracestate and writes the upstream's; both nil (tracing
	// off) creates none.
	Tracer trace.Tracer
	// Propagator carries the trace context; required with Tracer.
	Propagator propagation.TextMapPropagator
}

// Server is the ext_proc endpoint picker. Register it on a gRPC server with
// extprocv3.RegisterExternalProcessorServer (or use [NewGRPC]).
type Server struct {
	extprocv3.UnimplementedExternalProcessorServer

	router    *router.Router
	pool      string
	ex        *exchange.Tracker
	log       *slog.Logger
	panics    recovery.Counter
	decisions DecisionObserver // nil: decision latency not observed
	now       func() time.Time
	maxBody   int64
	budget    *admission.Budget
	bodies    bodyPool // request-body buffers
	inflight  *admission.InFlight
	dropCtl   bool
	fallbacks int
	scores    bool
	flowMode  admission.Mode

	conformance bool
	poolLabel   string
	rr          atomic.Uint64 // conformance mode's round-robin counter
	tracer      trace.Tracer  // nil: tracing off
	prop        propagation.TextMapPropagator
}

// New returns a Server.
func New(o Options) *Server {
	if o.Router == nil {
		panic("extproc: Router is required")
	}
	s := &Server{
		router:    o.Router,
		pool:      o.Pool,
		log:       o.Logger,
		panics:    o.Panics,
		decisions: o.Decisions,
		now:       o.Now,
		maxBody:   o.MaxBodyBytes,
		budget:    o.Budget,
		inflight:  o.InFlight,
		dropCtl:   o.DropControlHeaders,
		fallbacks: max(o.Fallbacks, 0),
		flowMode:  o.FlowMode,
		scores:    o.EndpointScores,

		conformance: o.Conformance,
		poolLabel:   o.PoolLabel,
	}
	if s.poolLabel == "" {
		s.poolLabel = s.pool
	}
	if o.Tracer != nil && o.Propagator != nil {
		s.tracer, s.prop = o.Tracer, o.Propagator
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody <= 0 {
		s.maxBody = 16 << 20
	}
	if s.budget == nil {
		s.budget = admission.NewBudget(1 << 30)
	}
	if s.inflight == nil {
		s.inflight = admission.NewInFlight(10000)
	}
	s.ex = exchange.New(exchange.Options{Observer: o.Metrics, Logger: s.log, Now: o.Now})
	return s
}

// Process serves one ext_proc stream: one HTTP request and its response
// (see the package documentation). It returns nil when the stream ends
// normally, after an immediate response included, and when Envoy cancels
// it; a panic is recovered, logged, counted and answered with a 500 when no
// answer was sent yet.
func (s *Server) Process(srv extprocv3.ExternalProcessor_ProcessServer) (err error) {
	reserveStack(0)
	if s.conformance {
		return s.processConformance(srv)
	}
	st := &stream{s: s, srv: srv}
	defer func() {
		if v := recover(); v != nil {
			err = st.recovered(v)
		}
	}()
	defer st.finish()
	for {
		req, rerr := srv.Recv()
		if rerr != nil {
			if rerr == io.EOF || status.Code(rerr) == codes.Canceled || errors.Is(rerr, srv.Context().Err()) {
				return nil
			}
			return rerr
		}
		done, herr := st.handle(req)
		if herr != nil {
			return herr
		}
		if done {
			return nil
		}
	}
}

// maxStackBytes bounds the stack logged with a recovered panic.
const maxStackBytes = 8 << 10

// component is the component label of this front end's panics.
const component = "extproc"

// recovered handles a panic in a stream: it logs it with its stack
// (nothing of the request but its ID), counts it and answers Envoy with a
// 500 when the request has not been answered yet.
func (st *stream) recovered(v any) error {
	stack := debug.Stack()
	if len(stack) > maxStackBytes {
		stack = stack[:maxStackBytes]
	}
	msg := fmt.Sprint(v)
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	st.s.log.Error("recovered panic in ext_proc stream",
		slog.String("component", component),
		slog.String("request_id", st.id),
		slog.String("panic", msg),
		slog.String("stack", string(stack)))
	if st.s.panics != nil {
		st.s.panics.PanicRecovered(component)
	}
	if !st.answered {
		if err := st.sendImmediate(openai.ErrInternal(), ""); err == nil {
			return nil
		}
	}
	return status.Error(codes.Internal, "internal error")
}
