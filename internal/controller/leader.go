package controller

import (
	"context"
	"log/slog"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// leadership holds the context of the current term as status writer: set
// while this replica holds the lease, cancelled when it loses it.
type leadership struct {
	mu  sync.Mutex
	ctx context.Context // nil while not leading; guarded by mu
}

// begin records a term that started with ctx. A term whose ctx is already
// done (a late callback of a lost term) is ignored.
func (l *leadership) begin(ctx context.Context) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ctx.Err() != nil {
		return false
	}
	l.ctx = ctx
	return true
}

// end forgets the current term and reports whether there was one.
func (l *leadership) end() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	was := l.ctx != nil
	l.ctx = nil
	return was
}

// current returns the context of the current term, or nil when this
// replica is not leading.
func (l *leadership) current() context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx == nil || l.ctx.Err() != nil {
		return nil
	}
	return l.ctx
}

// elector campaigns for the status-writer lease for as long as its context
// lasts: losing the lease (or the API server) only ends a term, and the
// next campaign starts right away. Discovery never depends on it.
type elector struct {
	config   leaderelection.LeaderElectionConfig
	lead     *leadership
	onLeader func() // called at the start of every term
	logger   *slog.Logger
}

// newElector validates the timings and builds the lease lock. The lease
// client's requests time out after the renew deadline, like client-go's own
// NewFromKubeconfig, so a hung connection cannot stall a renewal.
func newElector(o *Options, lead *leadership, onLeader func()) (*elector, error) {
	cfg := rest.CopyConfig(o.Config)
	cfg.Timeout = o.RenewDeadline
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	e := &elector{lead: lead, onLeader: onLeader, logger: o.Logger}
	e.config = leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: o.Namespace, Name: o.LeaseName},
			Client:     cs.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: o.Identity},
		},
		LeaseDuration:   o.LeaseDuration,
		RenewDeadline:   o.RenewDeadline,
		RetryPeriod:     o.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            o.LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			// client-go runs this in a goroutine of its own; it only
			// records the term and returns.
			OnStartedLeading: func(ctx context.Context) {
				if e.lead.begin(ctx) {
					e.logger.Info("writing pool status as leader")
					e.onLeader()
				}
			},
			OnStoppedLeading: func() {
				if e.lead.end() {
					e.logger.Info("stopped writing pool status: lease lost or released")
				}
			},
		},
	}
	if _, err := leaderelection.NewLeaderElector(e.config); err != nil {
		return nil, err
	}
	return e, nil
}

// run campaigns until ctx is done, releasing the lease on the way out.
// ctx should carry a logr logger: client-go logs through it.
func (e *elector) run(ctx context.Context) {
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(e.config) // validated by newElector
		if err != nil {
			e.logger.Error("leader election stopped", slog.Any("err", err))
			return
		}
		le.Run(ctx)
	}
}
