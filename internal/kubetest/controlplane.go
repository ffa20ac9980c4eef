package kubetest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// AdminUser is the user name of the test admin; it is in group
// system:masters.
const AdminUser = "infergate-test-admin"

// Controllers are the kube-controller-manager controllers the control plane
// runs.
const Controllers = "serviceaccount-token-controller,serviceaccount-controller,namespace-controller,garbage-collector-controller"

// Options configure a control plane. The zero value of every field but
// Binaries is a documented default.
type Options struct {
	// Binaries are the executables to run; see FindBinaries.
	Binaries Binaries
	// Dir holds data, keys and the processes' logs. Empty means a new
	// temporary directory, removed by Stop.
	Dir string
	// StartTimeout bounds the whole start-up; 0 means 60s.
	StartTimeout time.Duration
}

// ControlPlane is a running etcd, kube-apiserver and
// kube-controller-manager on loopback. Its methods are safe for concurrent
// use.
type ControlPlane struct {
	opts       Options
	dir        string
	removeDir  bool
	pki        *pki
	etcdURL    string
	apiPort    int
	kcmPort    int
	kubeconfig string // kube-controller-manager's kubeconfig
	admin      *rest.Config

	mu   sync.Mutex
	etcd *process
	api  *process
	kcm  *process
}

// StartForTest starts a control plane for tb and stops it (waiting for every
// process to exit) in tb's cleanup. Without the binaries the test fails
// under CI=true and is skipped elsewhere; see RequireBinaries.
func StartForTest(tb testing.TB) *ControlPlane {
	tb.Helper()
	bins := RequireBinaries(tb)
	cp, err := Start(context.Background(), Options{Binaries: bins})
	if err != nil {
		tb.Fatalf("start control plane: %v", err)
	}
	tb.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			tb.Errorf("stop control plane: %v", err)
		}
	})
	return cp
}

// Start starts etcd, kube-apiserver and kube-controller-manager and returns
// once the API server is ready and the controller manager has created the
// default ServiceAccount. On error everything started is stopped again.
func Start(ctx context.Context, opts Options) (*ControlPlane, error) {
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	cp := &ControlPlane{opts: opts, dir: opts.Dir}
	if cp.dir == "" {
		d, err := os.MkdirTemp("", "infergate-kube-")
		if err != nil {
			return nil, fmt.Errorf("start control plane: %w", err)
		}
		cp.dir, cp.removeDir = d, true
	}
	if err := cp.start(ctx); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	return cp, nil
}

func (cp *ControlPlane) start(ctx context.Context) error {
	var err error
	if cp.pki, err = newPKI(cp.dir); err != nil {
		return err
	}
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer := ports[0], ports[1]
	cp.apiPort, cp.kcmPort = ports[2], ports[3]
	cp.etcdURL = "http://127.0.0.1:" + strconv.Itoa(etcdClient)

	cp.admin = &rest.Config{
		Host:            "https://127.0.0.1:" + strconv.Itoa(cp.apiPort),
		BearerToken:     cp.pki.adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.pki.caPEM},
		QPS:             200,
		Burst:           400,
	}
	if err := cp.writeKubeconfig(); err != nil {
		return err
	}

	if err := cp.startEtcd(ctx, etcdPeer); err != nil {
		return err
	}
	if err := cp.StartAPIServer(ctx); err != nil {
		return err
	}
	return cp.startControllerManager(ctx)
}

func (cp *ControlPlane) startEtcd(ctx context.Context, peerPort int) error {
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	args := []string{
		"--name=infergate-test",
		"--data-dir=" + filepath.Join(cp.dir, "etcd"),
		"--listen-client-urls=" + cp.etcdURL,
		"--advertise-client-urls=" + cp.etcdURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=infergate-test=" + peerURL,
		"--initial-cluster-state=new",
		"--log-level=warn",
	}
	p, err := startProcess("etcd", cp.opts.Binaries.Etcd, args, filepath.Join(cp.dir, "etcd.log"))
	if err != nil {
		return err
	}
	cp.mu.Lock()
	cp.etcd = p
	cp.mu.Unlock()
	client := &http.Client{Timeout: time.Second}
	return waitFor(ctx, p, func(ctx context.Context) error {
		return httpOK(ctx, client, cp.etcdURL+"/health", "")
	})
}

// StartAPIServer starts kube-apiserver on its port. Start calls it; tests
// call it again after StopAPIServer to simulate an API server outage.
func (cp *ControlPlane) StartAPIServer(ctx context.Context) error {
	cp.mu.Lock()
	if cp.api != nil && !cp.api.exited() {
		cp.mu.Unlock()
		return errors.New("start kube-apiserver: already running")
	}
	cp.mu.Unlock()
	args := []string{
		"--etcd-servers=" + cp.etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(cp.apiPort),
		"--tls-cert-file=" + cp.pki.serveCert,
		"--tls-private-key-file=" + cp.pki.serveKey,
		"--cert-dir=" + filepath.Join(cp.dir, "apiserver-certs"),
		"--token-auth-file=" + cp.pki.tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + cp.pki.saPub,
		"--service-account-signing-key-file=" + cp.pki.saKey,
		"--service-cluster-ip-range=10.96.0.0/24",
		// Debian's etcd 3.4 and a loopback advertise address: no
		// "kubernetes" Endpoints reconciliation.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		"--v=0",
	}
	p, err := startProcess("kube-apiserver", cp.opts.Binaries.APIServer, args, filepath.Join(cp.dir, "kube-apiserver.log"))
	if err != nil {
		return err
	}
	cp.mu.Lock()
	cp.api = p
	cp.mu.Unlock()
	client, err := cp.httpClient()
	if err != nil {
		return err
	}
	return waitFor(ctx, p, func(ctx context.Context) error {
		return httpOK(ctx, client, cp.admin.Host+"/readyz", cp.pki.adminToken)
	})
}

// StopAPIServer stops kube-apiserver and waits for it to exit; the rest of
// the control plane keeps running. StartAPIServer brings it back on the same
// port. kube-apiserver stops listening at once on SIGTERM but may linger
// while watch connections drain, so it is killed after a short grace: for
// the tests this is an outage, not a graceful upgrade.
func (cp *ControlPlane) StopAPIServer() error {
	cp.mu.Lock()
	p := cp.api
	cp.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.stop(apiServerStopGrace)
}

// apiServerStopGrace is how long StopAPIServer waits after SIGTERM before it
// kills kube-apiserver.
const apiServerStopGrace = 2 * time.Second

func (cp *ControlPlane) startControllerManager(ctx context.Context) error {
	args := []string{
		"--kubeconfig=" + cp.kubeconfig,
		"--authentication-kubeconfig=" + cp.kubeconfig,
		"--authorization-kubeconfig=" + cp.kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(cp.kcmPort),
		"--cert-dir=" + filepath.Join(cp.dir, "kcm-certs"),
		"--controllers=" + Controllers,
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + cp.pki.saKey,
		"--root-ca-file=" + cp.pki.caCert,
		"--leader-elect=false",
		"--profiling=false",
		"--v=0",
	}
	p, err := startProcess("kube-controller-manager", cp.opts.Binaries.ControllerManager, args, filepath.Join(cp.dir, "kube-controller-manager.log"))
	if err != nil {
		return err
	}
	cp.mu.Lock()
	cp.kcm = p
	cp.mu.Unlock()
	cs, err := kubernetes.NewForConfig(cp.admin)
	if err != nil {
		return fmt.Errorf("start kube-controller-manager: %w", err)
	}
	// The service-account controller creating "default" in "default" shows
	// the controller manager is up and authorized.
	return waitFor(ctx, p, func(ctx context.Context) error {
		_, err := cs.CoreV1().ServiceAccounts(corev1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return errors.New("default ServiceAccount not created yet")
		}
		return err
	})
}

// writeKubeconfig writes the controller manager's kubeconfig.
func (cp *ControlPlane) writeKubeconfig() error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{
		Server:                   cp.admin.Host,
		CertificateAuthorityData: cp.pki.caPEM,
	}
	cfg.AuthInfos["kcm"] = &clientcmdapi.AuthInfo{Token: cp.pki.kcmToken}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "kcm"}
	cfg.CurrentContext = "test"
	cp.kubeconfig = filepath.Join(cp.dir, "kube-controller-manager.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, cp.kubeconfig); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// AdminConfig returns a client configuration for the test admin (group
// system:masters). The caller may modify the copy.
func (cp *ControlPlane) AdminConfig() *rest.Config {
	return rest.CopyConfig(cp.admin)
}

// ConfigForToken returns a client configuration that authenticates with
// bearer token, e.g. a ServiceAccount's token.
func (cp *ControlPlane) ConfigForToken(token string) *rest.Config {
	cfg := rest.CopyConfig(cp.admin)
	cfg.BearerToken = token
	return cfg
}

// CAData returns the PEM certificate of the CA that signed the API server's
// serving certificate; it is also the root CA the token controller puts in
// service-account-token Secrets.
func (cp *ControlPlane) CAData() []byte {
	return append([]byte(nil), cp.pki.caPEM...)
}

// Dir returns the directory holding the control plane's data, keys and logs.
func (cp *ControlPlane) Dir() string { return cp.dir }

// Stop stops the controller manager, the API server and etcd, in this order,
// waits for each to exit, and removes the temporary directory Start created.
func (cp *ControlPlane) Stop() error {
	cp.mu.Lock()
	procs := []*process{cp.kcm, cp.api, cp.etcd}
	cp.mu.Unlock()
	var errs []error
	for _, p := range procs {
		if p == nil {
			continue
		}
		if err := p.stop(15 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if cp.removeDir {
		if err := os.RemoveAll(cp.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", cp.dir, err))
		}
	}
	return errors.Join(errs...)
}

func (cp *ControlPlane) httpClient() (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cp.pki.caPEM) {
		return nil, errors.New("load test CA: no certificate")
	}
	return &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
		},
	}, nil
}

// waitFor polls check until it succeeds, p exits or ctx ends.
func waitFor(ctx context.Context, p *process, check func(context.Context) error) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = check(cctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start-up (%v); log tail:\n%s", p.name, p.err, p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last: %v); log tail:\n%s", p.name, ctx.Err(), last, p.logTail())
		case <-tick.C:
		}
	}
}

// httpOK GETs url and expects 200.
func httpOK(ctx context.Context, client *http.Client, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// freePorts returns n distinct loopback TCP ports that were free a moment
// ago (listeners are held until all are chosen so they cannot repeat).
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
