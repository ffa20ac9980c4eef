package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	ctrlrecorder "sigs.k8s.io/controller-runtime/pkg/recorder"
	"sigs.k8s.io/controller-runtime/pkg/source"

	llmdv1alpha2 "github.com/infergate/infergate/api/llmd/v1alpha2"
	v1 "github.com/infergate/infergate/api/v1"
	"github.com/infergate/infergate/api/v1alpha2"
	"github.com/infergate/infergate/internal/config"
)

// controllerName names the controller-runtime controller (in its logs and
// metrics).
const controllerName = "infergate-discovery"

// forever stands for "no timeout" where controller-runtime wants one: the
// controller waits for its caches as long as the API server is away rather
// than give up and stop discovery.
const forever = 100 * 365 * 24 * time.Hour

// Retry back-off of a failed reconcile (a status write): short enough that
// status catches up soon after the API server is back.
const (
	retryBaseDelay = 100 * time.Millisecond
	retryMaxDelay  = 30 * time.Second
)

// runtimeLoggerOnce makes the first New hand its logger to
// controller-runtime's package-level loggers (of sources, caches and event
// handlers), which cannot be injected per manager. Without a logger there,
// controller-runtime drops those logs and prints a warning to stderr 30
// seconds after start. It is the package's only global state.
var runtimeLoggerOnce sync.Once

// catalogRequest is the one work item of the controller: "rebuild the
// catalog". Every watched change enqueues it, so a burst of changes
// coalesces into few rebuilds.
type catalogRequest struct{}

// Controller watches InferencePools, their Pods, InferenceObjectives and
// InferenceModelRewrites in one namespace and publishes a [config.Catalog]
// whenever what they route changes; the leader among the replicas also
// writes the pools' status. Build one with [New] and start it with
// [Controller.Run].
type Controller struct {
	opts     Options
	selector labels.Selector // nil when Options.PoolSelector is empty
	logger   *slog.Logger
	logr     logr.Logger
	mgr      manager.Manager
	status   *statusWriter
	pub      *publisher
	lead     leadership
	elector  *elector // nil without Options.LeaderElection
	triggers chan event.TypedGenericEvent[struct{}]
	started  atomic.Bool
	ctrl     ctrlcontroller.TypedController[catalogRequest]
	// watchObjectives and watchRewrites tell whether the API server serves
	// those optional kinds in inference.networking.x-k8s.io, the LLMD ones
	// in llm-d.ai; Run sets them before the manager starts.
	watchObjectives, watchRewrites         bool
	watchObjectivesLLMD, watchRewritesLLMD bool
	// events records the deprecation Events of shadowed old-group objects.
	events ctrlrecorder.EventRecorder

	mu        sync.Mutex
	lastBuilt *config.Catalog     // guarded by mu
	warned    map[string]struct{} // shadowed objects already given an Event (uid/resourceVersion); guarded by mu
}

// New validates o and builds a Controller. It does not contact the API
// server; [Controller.Run] does.
func New(o Options) (*Controller, error) {
	o, sel, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	lg := logr.FromSlogHandler(o.Logger.Handler())
	runtimeLoggerOnce.Do(func() { ctrllog.SetLogger(lg) })

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, v1.AddToScheme, v1alpha2.AddToScheme, llmdv1alpha2.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("new controller: %w", err)
		}
	}
	mgr, err := manager.New(o.Config, manager.Options{
		Scheme: scheme,
		Logger: lg,
		Cache: cache.Options{
			DefaultNamespaces: map[string]cache.Config{o.Namespace: {}},
			// One transform for all types: a per-type one (ByObject)
			// would make New ask the API server whether Pods are
			// namespaced, and fail while it is away.
			DefaultTransform: trimObject,
		},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Discovery runs on every replica; leader election gates only
		// status writes and is ours (see elector).
		LeaderElection: false,
	})
	if err != nil {
		return nil, fmt.Errorf("new controller: %w", err)
	}

	c := &Controller{
		opts:     o,
		selector: sel,
		logger:   o.Logger,
		logr:     lg,
		mgr:      mgr,
		pub:      newPublisher(),
		triggers: make(chan event.TypedGenericEvent[struct{}], 1),
		events:   mgr.GetEventRecorder(controllerName),
		warned:   make(map[string]struct{}),
		status: &statusWriter{
			client:       mgr.GetClient(),
			apiReader:    mgr.GetAPIReader(),
			ref:          v1.ParentReference{Group: new(ParentGroup), Kind: ParentKind, Name: v1.ObjectName(o.ParentName)},
			fieldManager: o.FieldManager,
			now:          func() metav1.Time { return metav1.NewTime(time.Now().Truncate(time.Second)) },
		},
	}
	// The first catalog: built once the caches are synced, even when no
	// object exists to cause an event.
	c.trigger()
	if o.LeaderElection {
		if c.elector, err = newElector(&o, &c.lead, c.trigger); err != nil {
			return nil, fmt.Errorf("new controller: leader election: %w", err)
		}
	}

	ctrl, err := ctrlcontroller.NewTyped(controllerName, mgr, ctrlcontroller.TypedOptions[catalogRequest]{
		// Several controllers may live in one process (tests).
		SkipNameValidation:      new(true),
		MaxConcurrentReconciles: 1,
		CacheSyncTimeout:        forever,
		RecoverPanic:            new(true),
		NeedLeaderElection:      new(false),
		RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[catalogRequest](retryBaseDelay, retryMaxDelay),
		Reconciler:              reconcile.TypedFunc[catalogRequest](c.reconcile),
	})
	if err != nil {
		return nil, fmt.Errorf("new controller: %w", err)
	}
	c.ctrl = ctrl
	srcs := []source.TypedSource[catalogRequest]{
		source.TypedChannel(c.triggers, handlerFor[struct{}]()),
	}
	// InferencePools and Pods are required; the optional kinds are watched
	// from Run, once the API server has said whether it serves them.
	for _, obj := range []client.Object{&v1.InferencePool{}, &corev1.Pod{}} {
		srcs = append(srcs, source.TypedKind(mgr.GetCache(), obj, handlerFor[client.Object]()))
	}
	for _, src := range srcs {
		if err := ctrl.Watch(src); err != nil {
			return nil, fmt.Errorf("new controller: watch: %w", err)
		}
	}
	return c, nil
}

// watchOptionalKinds asks the API server (retrying while it cannot be
// reached) whether it serves InferenceObjective and InferenceModelRewrite,
// in llm-d.ai/v1alpha2 and in inference.networking.x-k8s.io/v1alpha2, and
// watches those it serves and the gateway may list and watch. A cluster
// with only the InferencePool CRD (GA, inference.networking.k8s.io/v1) is
// served without objectives or rewrites; a CRD installed (or a permission
// granted) later needs a restart, which the log says.
func (c *Controller) watchOptionalKinds(ctx context.Context) error {
	dc, err := discovery.NewDiscoveryClientForConfig(c.opts.Config)
	if err != nil {
		return fmt.Errorf("discovery client: %w", err)
	}
	cs, err := kubernetes.NewForConfig(c.opts.Config)
	if err != nil {
		return fmt.Errorf("access review client: %w", err)
	}
	groups := []struct {
		gv                   string
		objective, rewrite   client.Object
		watchObj, watchRwrte *bool
	}{
		{llmdv1alpha2.GroupVersion().String(), &llmdv1alpha2.InferenceObjective{}, &llmdv1alpha2.InferenceModelRewrite{},
			&c.watchObjectivesLLMD, &c.watchRewritesLLMD},
		{v1alpha2.GroupVersion().String(), &v1alpha2.InferenceObjective{}, &v1alpha2.InferenceModelRewrite{},
			&c.watchObjectives, &c.watchRewrites},
	}
	for _, g := range groups {
		served, err := c.servedKinds(ctx, dc, g.gv)
		if err != nil {
			return err
		}
		for _, k := range []struct {
			kind  string
			obj   client.Object
			watch *bool
		}{
			{kind: "InferenceObjective", obj: g.objective, watch: g.watchObj},
			{kind: "InferenceModelRewrite", obj: g.rewrite, watch: g.watchRwrte},
		} {
			resource := served[k.kind]
			if resource == "" {
				c.logger.Info("CRD not installed: "+k.kind+" objects of this group are ignored (restart the gateway after installing it)", slog.String("groupVersion", g.gv))
				continue
			}
			if ok, why := c.mayWatch(ctx, cs, g.gv, resource); !ok {
				// Watching without permission would keep the caches from
				// ever syncing, and with them the first catalog.
				c.logger.Warn(k.kind+" objects of this group are ignored: the gateway may not list and watch them (add the group to its Role)",
					slog.String("groupVersion", g.gv), slog.String("reason", why))
				continue
			}
			if err := c.ctrl.Watch(source.TypedKind(c.mgr.GetCache(), k.obj, handlerFor[client.Object]())); err != nil {
				return fmt.Errorf("watch %s %s: %w", g.gv, k.kind, err)
			}
			*k.watch = true
		}
	}
	if !c.watchObjectives && !c.watchObjectivesLLMD {
		c.logger.Warn("InferenceObjectives are ignored: no group serves them to the gateway")
	}
	if !c.watchRewrites && !c.watchRewritesLLMD {
		c.logger.Warn("InferenceModelRewrites are ignored: no group serves them to the gateway")
	}
	return nil
}

// mayWatch asks the API server whether the gateway may list and watch
// resource of group version gv in its namespace. A review that cannot be
// made (old API server, no permission to review) counts as allowed: the
// watch itself then shows.
func (c *Controller) mayWatch(ctx context.Context, cs kubernetes.Interface, gv, resource string) (bool, string) {
	group := strings.SplitN(gv, "/", 2)[0]
	for _, verb := range []string{"list", "watch"} {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: c.opts.Namespace, Verb: verb, Group: group, Resource: resource},
		}}
		got, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			c.logger.Info("cannot review access; watching anyway", slog.String("groupVersion", gv), slog.String("resource", resource), slog.Any("err", err))
			return true, ""
		}
		if !got.Status.Allowed {
			return false, verb + " " + resource + " denied"
		}
	}
	return true, ""
}

// servedKinds returns the kinds the API server serves in group version gv,
// each with its resource name (none when it does not serve gv), retrying
// while it cannot be reached.
func (c *Controller) servedKinds(ctx context.Context, dc discovery.DiscoveryInterface, gv string) (map[string]string, error) {
	for {
		list, err := dc.ServerResourcesForGroupVersion(gv)
		switch {
		case err == nil:
			served := make(map[string]string, len(list.APIResources))
			for _, r := range list.APIResources {
				if !strings.Contains(r.Name, "/") { // not a subresource
					served[r.Kind] = r.Name
				}
			}
			return served, nil
		case apierrors.IsNotFound(err):
			return map[string]string{}, nil
		}
		c.logger.Warn("cannot ask the API server which kinds it serves; retrying", slog.String("groupVersion", gv), slog.Any("err", err))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(discoveryRetry):
		}
	}
}

// discoveryRetry is the pause between attempts to reach the API server's
// discovery endpoint at start-up.
const discoveryRetry = 2 * time.Second

// Run discovers and publishes until ctx is done, then stops everything it
// started, waits for it, and returns nil. Losing the lease or the API
// server does not stop it: the last catalog stays published, and
// discovery, publishing and the lease campaign resume when the API server
// is back. Run returns an error only when the controller cannot start; it
// may be called once.
//
// Run hands every new catalog to publish, from one goroutine, never
// concurrently; when catalogs change faster than publish returns, only the
// latest is delivered, and the same catalog is never delivered twice in a
// row. publish owns the catalog it receives.
func (c *Controller) Run(ctx context.Context, publish func(config.Catalog)) error {
	if publish == nil {
		return errors.New("run controller: publish is required")
	}
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("run controller: already started")
	}
	// client-go (reflectors, leader election) logs through the context.
	ctx = logr.NewContext(ctx, c.logr)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if err := c.watchOptionalKinds(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("run controller: %w", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.pub.run(ctx, publish) })
	if c.elector != nil {
		wg.Go(func() { c.elector.run(ctx) })
	} else {
		c.lead.begin(ctx)
	}
	err := c.mgr.Start(ctx)
	cancel()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("run controller: %w", err)
	}
	return nil
}

// Synced returns a channel that is closed once the first catalog built from
// synced caches has been published (Run's publish returned).
func (c *Controller) Synced() <-chan struct{} { return c.pub.synced }

// Leading reports whether this controller currently writes pool status:
// always while running without leader election, else while it holds the
// lease.
func (c *Controller) Leading() bool { return c.lead.current() != nil }

// trigger asks for a rebuild of the catalog (and a status pass) without
// blocking.
func (c *Controller) trigger() {
	select {
	case c.triggers <- event.TypedGenericEvent[struct{}]{}:
	default: // one is pending already
	}
}

// warnShadowed gives each shadowed old-group object a Warning Event, once
// per object version, and forgets objects no longer shadowed.
func (c *Controller) warnShadowed(objs []client.Object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := make(map[string]struct{}, len(objs))
	for _, o := range objs {
		key := string(o.GetUID()) + "/" + o.GetResourceVersion()
		now[key] = struct{}{}
		if _, done := c.warned[key]; done {
			continue
		}
		kind := "InferenceObjective"
		if _, ok := o.(*v1alpha2.InferenceModelRewrite); ok {
			kind = "InferenceModelRewrite"
		}
		c.events.Eventf(o, nil, corev1.EventTypeWarning, ReasonShadowed, "Shadowed",
			"%s %s/%s in %s is ignored: the %s of the same name in %s replaces it; the %s group is deprecated, delete this object",
			kind, o.GetNamespace(), o.GetName(), v1alpha2.GroupName, kind, llmdv1alpha2.GroupName, v1alpha2.GroupName)
		c.logger.Warn("deprecated-group object shadowed", slog.String("kind", kind), slog.String("name", o.GetName()),
			slog.String("group", v1alpha2.GroupName), slog.String("by", llmdv1alpha2.GroupName))
	}
	c.warned = now
}

// serves reports whether pool is one of the controller's pools.
func (c *Controller) serves(pool *v1.InferencePool) bool {
	if pool.DeletionTimestamp != nil {
		return false
	}
	return slices.Contains(c.opts.PoolNames, pool.Name) ||
		(c.selector != nil && c.selector.Matches(labels.Set(pool.Labels)))
}

// reconcile rebuilds the catalog from the caches and offers it to the
// publisher; the leader then brings every pool's status up to date. Only a
// failed status write makes it fail, and be retried with back-off.
func (c *Controller) reconcile(ctx context.Context, _ catalogRequest) (reconcile.Result, error) {
	var (
		pools          v1.InferencePoolList
		pods           corev1.PodList
		objectives     v1alpha2.InferenceObjectiveList
		rewrites       v1alpha2.InferenceModelRewriteList
		objectivesLLMD llmdv1alpha2.InferenceObjectiveList
		rewritesLLMD   llmdv1alpha2.InferenceModelRewriteList
	)
	reader := c.mgr.GetCache()
	lists := []client.ObjectList{&pools, &pods}
	for _, l := range []struct {
		on   bool
		list client.ObjectList
	}{
		{c.watchObjectives, &objectives}, {c.watchRewrites, &rewrites},
		{c.watchObjectivesLLMD, &objectivesLLMD}, {c.watchRewritesLLMD, &rewritesLLMD},
	} {
		if l.on {
			lists = append(lists, l.list)
		}
	}
	for _, list := range lists {
		if err := reader.List(ctx, list, client.InNamespace(c.opts.Namespace)); err != nil {
			return reconcile.Result{}, fmt.Errorf("list %T from cache: %w", list, err)
		}
	}
	mergedObjectives, shadowedObjectives, err := mergeObjectives(objectivesLLMD.Items, objectives.Items)
	if err != nil {
		return reconcile.Result{}, err
	}
	mergedRewrites, shadowedRewrites, err := mergeRewrites(rewritesLLMD.Items, rewrites.Items)
	if err != nil {
		return reconcile.Result{}, err
	}
	s := state{pods: pods.Items, objectives: mergedObjectives, rewrites: mergedRewrites}
	served := make(map[string]bool)
	for i := range pools.Items {
		if p := &pools.Items[i]; c.serves(p) {
			s.pools = append(s.pools, *p)
			served[p.Name] = true
		}
	}
	cat, notes := buildCatalog(s)
	c.logChange(cat, notes)
	c.pub.offer(cat)

	lctx := c.lead.current()
	if lctx == nil {
		return reconcile.Result{}, nil
	}
	var shadowed []client.Object
	for _, o := range shadowedObjectives {
		shadowed = append(shadowed, o)
	}
	for _, r := range shadowedRewrites {
		shadowed = append(shadowed, r)
	}
	c.warnShadowed(shadowed)
	hasEndpoints := make(map[string]bool, len(cat.Pools))
	for _, p := range cat.Pools {
		hasEndpoints[p.Name] = len(p.Endpoints) > 0
	}
	var errs []error
	for i := range pools.Items {
		p := &pools.Items[i]
		err := c.status.write(lctx, p, served[p.Name], hasEndpoints[p.Name])
		switch {
		case errors.Is(err, errParentsFull):
			c.logger.Warn("cannot write pool status", slog.String("pool", p.Name), slog.Any("err", err))
		case err != nil:
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil && lctx.Err() == nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{}, nil
}

// logChange logs a summary of cat, and the notes, when cat differs from the
// previously built catalog.
func (c *Controller) logChange(cat config.Catalog, notes []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastBuilt != nil && reflect.DeepEqual(*c.lastBuilt, cat) {
		return
	}
	c.lastBuilt = &cat
	endpoints := 0
	for _, p := range cat.Pools {
		endpoints += len(p.Endpoints)
	}
	c.logger.Info("catalog changed",
		slog.Int("pools", len(cat.Pools)), slog.Int("endpoints", endpoints),
		slog.Int("models", len(cat.Models)), slog.Int("objectives", len(cat.Objectives)))
	for _, n := range notes {
		c.logger.Warn("catalog: " + n)
	}
}
