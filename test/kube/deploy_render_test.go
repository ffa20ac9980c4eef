package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/kubetest"
)

// The manifest renderers the deploy/ tests run: kustomize and helm built by
// hack/ensure-render-tools.sh (`make render-tools`) from the tool module
// hack/render. The Makefile exports their paths in these variables; without
// them the tests look in the cache directory the script installs into.
const (
	kustomizeEnv     = "INFERGATE_KUSTOMIZE"
	helmEnv          = "INFERGATE_HELM"
	kustomizeVersion = "v5.8.2"
	helmVersion      = "v4.3.1"
)

// Paths of what the tests render, relative to this package.
const (
	kustomizeDir = "../../deploy/kustomize"
	helmChartDir = "../../deploy/helm/infergate"
)

// renderer runs kustomize and helm for one test.
type renderer struct {
	kustomize string
	helm      string
	// helmHome holds helm's cache, config and data directories, so a test
	// never reads or writes the user's.
	helmHome string
}

// requireRenderer returns the renderers. When one is missing it fails the
// test under CI=true (CI builds them with `make tools`) and skips it
// elsewhere, like kubetest.RequireBinaries.
func requireRenderer(t *testing.T) *renderer {
	t.Helper()
	k, kerr := findRenderTool(kustomizeEnv, "kustomize-"+kustomizeVersion)
	h, herr := findRenderTool(helmEnv, "helm-"+helmVersion)
	if err := errors.Join(kerr, herr); err != nil {
		err = fmt.Errorf("manifest renderers missing (run `make render-tools` or hack/ensure-render-tools.sh): %w", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v", err)
	}
	return &renderer{kustomize: k, helm: h, helmHome: t.TempDir()}
}

// findRenderTool returns $env, or <cache>/infergate/bin/<name> where <cache> is
// $XDG_CACHE_HOME or ~/.cache, once it is an executable file.
func findRenderTool(env, name string) (string, error) {
	p := os.Getenv(env)
	if p == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("locate %s: %w", name, err)
			}
			cache = filepath.Join(home, ".cache")
		}
		p = filepath.Join(cache, "infergate", "bin", name)
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("locate %s: %w", name, err)
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("locate %s: %s is not executable", name, p)
	}
	return p, nil
}

// kustomizeBuild renders the kustomize target deploy/kustomize/<target>.
func (r *renderer) kustomizeBuild(t *testing.T, target string) objectList {
	t.Helper()
	out, err := r.run(r.kustomize, nil, "build", filepath.Join(kustomizeDir, target))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", target, err)
	}
	return decodeObjects(t, out)
}

// helmTemplate renders the chart as release `release` in namespace ns,
// CRDs included, with the --set values in set.
func (r *renderer) helmTemplate(t *testing.T, release, ns string, set ...string) objectList {
	t.Helper()
	out, err := r.helmTemplateErr(release, ns, set...)
	if err != nil {
		t.Fatalf("helm template %v: %v", set, err)
	}
	return decodeObjects(t, out)
}

// helmTemplateErr is helmTemplate returning helm's error (with its
// stderr) instead of failing.
func (r *renderer) helmTemplateErr(release, ns string, set ...string) ([]byte, error) {
	args := []string{"template", release, helmChartDir, "--namespace", ns, "--include-crds"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	env := []string{
		"HELM_CACHE_HOME=" + filepath.Join(r.helmHome, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(r.helmHome, "config"),
		"HELM_DATA_HOME=" + filepath.Join(r.helmHome, "data"),
	}
	return r.run(r.helm, env, args...)
}

// run runs a renderer and returns its standard output; errors carry its
// standard error.
func (r *renderer) run(bin string, env []string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", filepath.Base(bin), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// decodeObjects splits rendered YAML into objects.
func decodeObjects(t *testing.T, data []byte) objectList {
	t.Helper()
	objs, err := kubetest.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 {
		t.Fatal("rendered no objects")
	}
	return objectList(objs)
}

// readObjects decodes a YAML file of the repository.
func readObjects(t *testing.T, path string) objectList {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeObjects(t, data)
}
