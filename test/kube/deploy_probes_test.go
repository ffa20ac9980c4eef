package kube

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/infergate/infergate/internal/kubetest"
	"github.com/infergate/infergate/internal/proctest"
)

// TestPickerProbes runs `infergate serve` with the config file the chart
// renders in picker mode (TLS on ext_proc, the default) against a real API
// server, only its listen addresses moved to loopback, and probes it the way
// the kubelet's gRPC probe does: plaintext gRPC health Check of the
// Deployment's probe services on the probe's port. The kubelet's gRPC probe
// cannot speak TLS, so the health listener must answer in plaintext while
// ext_proc serves TLS (upstream's picker does the same).
func TestPickerProbes(t *testing.T) {
	r := requireRenderer(t)
	bin := infergateBinary(t)
	cp := kubetest.StartForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := cp.AdminConfig()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kubetest.InstallCRDs(ctx, admin, crdDir); err != nil {
		t.Fatal(err)
	}
	newNamespace(ctx, t, cs, gwNamespace)
	token := gatewayServiceAccount(ctx, t, cs)
	applier, err := kubetest.NewApplier(admin)
	if err != nil {
		t.Fatal(err)
	}
	applyYAML(ctx, t, applier, fmt.Sprintf(`
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: %s, namespace: %s}
spec:
  selector: {matchLabels: {app: sim}}
  targetPorts: [{number: 8000}]
`, examplePool, gwNamespace))

	m := r.helmTemplate(t, "infergate", gwNamespace, "extProc.enabled=true")
	dep := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", gwNamespace, "infergate"))
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	raw := deployedRawConfig(t, m, gwNamespace, pod, c)
	if plain, _, _ := unstructured.NestedBool(raw, "extProc", "plaintext"); plain {
		t.Fatal("the chart's picker default is plaintext; this test is about TLS")
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.GRPC == nil || c.LivenessProbe == nil || c.LivenessProbe.GRPC == nil {
		t.Fatalf("probes %+v / %+v; want gRPC probes", c.LivenessProbe, c.ReadinessProbe)
	}
	// The pod's addresses become loopback ones; the health port keeps its
	// role: it is where the probes go.
	health := net.JoinHostPort("127.0.0.2", strconv.Itoa(freeLoopbackPort(t)))
	for path, v := range map[string]string{
		"listen": "127.0.0.1:0", "metricsListen": "127.0.0.1:0",
		"extProc.listen": "127.0.0.1:0", "extProc.healthListen": health,
		"kubernetes.namespace": gwNamespace,
	} {
		if err := unstructured.SetNestedField(raw, v, strings.Split(path, ".")...); err != nil {
			t.Fatal(err)
		}
	}
	data, err := sigsyaml.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	kubeconfig := writeKubeconfig(t, dir, admin.Host, cp.CAData(), token)
	gw := proctest.StartGateway(t, bin, "--config", cfgPath, "--kubeconfig", kubeconfig)

	conn, err := grpc.NewClient(health, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	for _, p := range []struct {
		kind    string
		service string
	}{
		{"liveness", *c.LivenessProbe.GRPC.Service},
		{"readiness", *c.ReadinessProbe.GRPC.Service},
	} {
		t.Run(p.kind, func(t *testing.T) {
			proctest.Eventually(t, 30*time.Second, "the "+p.kind+" probe passes", func() error {
				cctx, ccancel := context.WithTimeout(ctx, time.Second)
				defer ccancel()
				resp, err := client.Check(cctx, &healthpb.HealthCheckRequest{Service: p.service})
				if err != nil {
					return fmt.Errorf("plaintext Check(%q): %w", p.service, err)
				}
				if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
					return fmt.Errorf("Check(%q) = %v", p.service, resp.GetStatus())
				}
				return nil
			})
		})
	}
	if gw.Exited() {
		t.Fatalf("gateway exited:\n%s", gw.Output())
	}
}
