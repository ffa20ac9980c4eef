package controller

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	llmdv1alpha2 "github.com/infergate/infergate/api/llmd/v1alpha2"
	v1 "github.com/infergate/infergate/api/v1"
	"github.com/infergate/infergate/api/v1alpha2"
	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/kubetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, kubetest.GoleakOptions()...)
}

const (
	crdDir = "../../deploy/crds"
	// waitTimeout bounds every wait for an observable condition.
	waitTimeout = 30 * time.Second
	// Short leader-election timings for tests.
	testLeaseDuration = 2 * time.Second
	testRenewDeadline = 1500 * time.Millisecond
	testRetryPeriod   = 200 * time.Millisecond
)

// env is a control plane with the CRDs installed and clients for it.
type env struct {
	cp *kubetest.ControlPlane
	cs kubernetes.Interface
	cl client.Client
}

func startEnv(t *testing.T) *env {
	t.Helper()
	return startEnvWithCRDs(t, crdDir)
}

// startEnvWithCRDs starts a control plane with the CRDs in dir installed.
func startEnvWithCRDs(t *testing.T, dir string) *env {
	t.Helper()
	cp := kubetest.StartForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := kubetest.InstallCRDs(ctx, cp.AdminConfig(), dir); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, v1.AddToScheme, v1alpha2.AddToScheme, llmdv1alpha2.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := client.New(cp.AdminConfig(), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &env{cp: cp, cs: cs, cl: cl}
}

func (e *env) namespace(t *testing.T, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := e.cs.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return name
}

// running is a Controller running in a goroutine of the test.
type running struct {
	c      *Controller
	rec    *recorder
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// testLogger logs to stderr: controller-runtime keeps the first logger it
// gets for the whole process, so it must outlive every test.
func testLogger() *slog.Logger {
	level := slog.LevelError
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// start runs a Controller with o (Config and Logger filled in), publishing
// to a recorder,
// waits for its first catalog, and stops it at the end of the test.
func (e *env) start(t *testing.T, o Options) *running {
	t.Helper()
	rec := newRecorder()
	if o.Config == nil {
		o.Config = e.cp.AdminConfig()
	}
	o.Logger = testLogger().With("namespace", o.Namespace, "identity", o.Identity)
	if o.LeaderElection {
		o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = testLeaseDuration, testRenewDeadline, testRetryPeriod
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, rec: rec, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx, rec.publish) }()
	t.Cleanup(func() { r.stop(t) })
	select {
	case <-c.Synced():
	case err := <-r.done:
		t.Fatalf("Run returned before the first catalog: %v", err)
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting for the first catalog")
	}
	return r
}

// stop cancels Run and checks that it returns nil promptly, that it never
// published the same catalog twice in a row, and that it cannot run again.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancel")
			return
		}
		all := r.rec.since(0)
		for i := 1; i < len(all); i++ {
			if reflect.DeepEqual(all[i-1], all[i]) {
				t.Errorf("catalog %d published twice in a row: %+v", i, all[i])
			}
		}
		if err := r.c.Run(context.Background(), r.rec.publish); err == nil {
			t.Error("second Run succeeded")
		}
	})
}

// checkRunning fails the test when Run has returned.
func (r *running) checkRunning(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		t.Fatalf("Run returned while its context is live: %v", err)
	default:
	}
}

// recorder keeps every published catalog.
type recorder struct {
	mu      sync.Mutex
	all     []config.Catalog
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) publish(c config.Catalog) {
	r.mu.Lock()
	r.all = append(r.all, c)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// count returns how many catalogs were published so far.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}

// since returns the catalogs published after the first n.
func (r *recorder) since(n int) []config.Catalog {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all[n:])
}

// waitFor waits until the latest catalog satisfies cond, which describes
// a mismatch ("" for a match).
func (r *recorder) waitFor(t *testing.T, what string, cond func(config.Catalog) string) config.Catalog {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		r.mu.Lock()
		var last config.Catalog
		have := len(r.all) > 0
		if have {
			last = r.all[len(r.all)-1]
		}
		r.mu.Unlock()
		mismatch := "no catalog yet"
		if have {
			mismatch = cond(last)
		}
		if mismatch == "" {
			return last
		}
		select {
		case <-r.changed:
		case <-timeout:
			t.Fatalf("timed out waiting for %s: %s", what, mismatch)
		}
	}
}

// eventually polls cond, which describes a mismatch ("" for a match),
// until it matches or waitTimeout passes.
func eventually(t *testing.T, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		mismatch := cond()
		if mismatch == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, mismatch)
		}
		<-tick.C
	}
}

// poolEndpoints returns "name=address" of every endpoint of pool in c, or
// nil and false when c has no such pool.
func endpointsOf(c config.Catalog, pool string) ([]string, bool) {
	i := slices.IndexFunc(c.Pools, func(p config.Pool) bool { return p.Name == pool })
	if i < 0 {
		return nil, false
	}
	var out []string
	for _, ep := range c.Pools[i].Endpoints {
		out = append(out, ep.Name+"="+ep.Address)
	}
	return out, true
}

// hasEndpoints is a waitFor condition: pool exists with exactly want.
func hasEndpoints(pool string, want ...string) func(config.Catalog) string {
	return func(c config.Catalog) string {
		got, ok := endpointsOf(c, pool)
		if !ok {
			return fmt.Sprintf("no pool %q in %v", pool, poolNames(c))
		}
		if !slices.Equal(got, want) {
			return fmt.Sprintf("pool %s endpoints %q; want %q", pool, got, want)
		}
		return ""
	}
}

func poolNames(c config.Catalog) []string {
	var out []string
	for _, p := range c.Pools {
		out = append(out, p.Name)
	}
	return out
}

// hasPools is a waitFor condition: exactly these pools, in this order.
func hasPools(want ...string) func(config.Catalog) string {
	return func(c config.Catalog) string {
		if got := poolNames(c); !slices.Equal(got, want) {
			return fmt.Sprintf("pools %q; want %q", got, want)
		}
		return ""
	}
}

func (e *env) createPool(t *testing.T, ns, name string, lbls map[string]string, match map[v1.LabelKey]v1.LabelValue, ports ...v1.PortNumber) {
	t.Helper()
	p := testPool(name, match, ports...)
	p.Namespace, p.Labels = ns, lbls
	if err := e.cl.Create(t.Context(), &p); err != nil {
		t.Fatal(err)
	}
}

// updatePool applies change to the pool and updates it, retrying on
// conflict.
func (e *env) updatePool(t *testing.T, ns, name string, change func(*v1.InferencePool)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var p v1.InferencePool
		if err := e.cl.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &p); err != nil {
			return err
		}
		change(&p)
		return e.cl.Update(t.Context(), &p)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) getPool(t *testing.T, ns, name string) *v1.InferencePool {
	t.Helper()
	var p v1.InferencePool
	if err := e.cl.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

// createPod creates a Pod bound to a (non-existent) node, so that deleting
// it leaves it terminating until it is force-deleted, as without a kubelet.
func (e *env) createPod(t *testing.T, ns, name string, lbls, annotations map[string]string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: lbls, Annotations: annotations},
		Spec: corev1.PodSpec{
			NodeName:   "node-1",
			Containers: []corev1.Container{{Name: "model-server", Image: "example.com/model-server:test"}},
		},
	}
	if _, err := e.cs.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// setPodStatus sets the Pod's Ready condition and, when ip is not empty,
// its IP.
func (e *env) setPodStatus(t *testing.T, ns, name string, ready bool, ip string) {
	t.Helper()
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := e.cs.CoreV1().Pods(ns).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Now()}}
		if ip != "" {
			pod.Status.PodIP = ip
			pod.Status.PodIPs = []corev1.PodIP{{IP: ip}}
		}
		_, err = e.cs.CoreV1().Pods(ns).UpdateStatus(t.Context(), pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) updatePodLabels(t *testing.T, ns, name string, lbls map[string]string) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := e.cs.CoreV1().Pods(ns).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod.Labels = lbls
		_, err = e.cs.CoreV1().Pods(ns).Update(t.Context(), pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// deletePod deletes the Pod, gracefully (it stays, terminating) or at once.
func (e *env) deletePod(t *testing.T, ns, name string, force bool) {
	t.Helper()
	opts := metav1.DeleteOptions{}
	if force {
		opts.GracePeriodSeconds = new(int64(0))
	}
	if err := e.cs.CoreV1().Pods(ns).Delete(t.Context(), name, opts); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
}

func (e *env) create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := e.cl.Create(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
}

func (e *env) delete(t *testing.T, obj client.Object) {
	t.Helper()
	if err := e.cl.Delete(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
}

// ourEntry returns the status.parents entry of ParentName name written by
// infergate.
func ourEntry(p *v1.InferencePool, name string) (v1.ParentStatus, bool) {
	for _, ps := range p.Status.Parents {
		if ps.ControllerName == ControllerName && ps.ParentRef.Name == v1.ObjectName(name) &&
			ps.ParentRef.Group != nil && *ps.ParentRef.Group == ParentGroup && ps.ParentRef.Kind == ParentKind {
			return ps, true
		}
	}
	return v1.ParentStatus{}, false
}

// statusManagers returns the field managers that wrote the pool's status.
func statusManagers(p *v1.InferencePool) []string {
	var out []string
	for _, mf := range p.ManagedFields {
		if mf.Subresource == "status" {
			out = append(out, mf.Manager)
		}
	}
	slices.Sort(out)
	return out
}

// conditionSummary returns "Type=Status/Reason@generation" of every
// condition.
func conditionSummary(conds []metav1.Condition) string {
	var parts []string
	for _, c := range conds {
		parts = append(parts, fmt.Sprintf("%s=%s/%s@%d", c.Type, c.Status, c.Reason, c.ObservedGeneration))
	}
	return strings.Join(parts, ",")
}

// testRESTConfig points at nothing: for tests that never reach a server.
func testRESTConfig() *rest.Config { return &rest.Config{Host: "https://127.0.0.1:1"} }
