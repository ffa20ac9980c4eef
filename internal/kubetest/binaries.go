package kubetest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Version is the Kubernetes release the harness runs; hack/ensure-kube.sh
// builds the binaries of the same version.
const Version = "v1.37.2"

// BinDirEnv names the environment variable that overrides where the
// kube-apiserver and kube-controller-manager binaries are looked up.
const BinDirEnv = "INFERGATE_KUBE_BIN_DIR"

// EtcdEnv names the environment variable that overrides the etcd binary.
const EtcdEnv = "INFERGATE_ETCD"

// Binaries are the paths of the control-plane executables.
type Binaries struct {
	// APIServer is the kube-apiserver executable.
	APIServer string
	// ControllerManager is the kube-controller-manager executable.
	ControllerManager string
	// Etcd is the etcd executable.
	Etcd string
}

// DefaultBinDir returns the directory hack/ensure-kube.sh installs the
// binaries of Version into: $XDG_CACHE_HOME/infergate/kube/<Version>, or
// ~/.cache/infergate/kube/<Version>.
func DefaultBinDir() (string, error) {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("locate kube binaries: %w", err)
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "infergate", "kube", Version), nil
}

// FindBinaries locates the control-plane executables: kube-apiserver and
// kube-controller-manager in $INFERGATE_KUBE_BIN_DIR or DefaultBinDir, etcd
// at $INFERGATE_ETCD, on PATH or at /usr/bin/etcd. The error lists every
// missing binary.
func FindBinaries() (Binaries, error) {
	dir := os.Getenv(BinDirEnv)
	if dir == "" {
		d, err := DefaultBinDir()
		if err != nil {
			return Binaries{}, err
		}
		dir = d
	}
	b := Binaries{
		APIServer:         filepath.Join(dir, "kube-apiserver"),
		ControllerManager: filepath.Join(dir, "kube-controller-manager"),
		Etcd:              os.Getenv(EtcdEnv),
	}
	if b.Etcd == "" {
		if p, err := exec.LookPath("etcd"); err == nil {
			b.Etcd = p
		} else {
			b.Etcd = "/usr/bin/etcd"
		}
	}
	var errs []error
	for _, p := range []string{b.APIServer, b.ControllerManager, b.Etcd} {
		if err := executable(p); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return Binaries{}, fmt.Errorf("kube control plane binaries missing (run `make kube` or hack/ensure-kube.sh): %w", errors.Join(errs...))
	}
	return b, nil
}

func executable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", path)
	}
	return nil
}

// RequireBinaries returns the control-plane executables. When one is
// missing it fails the test under CI=true (CI installs them with `make
// tools`) and skips it elsewhere, with a hint how to install them.
func RequireBinaries(tb testing.TB) Binaries {
	tb.Helper()
	b, err := FindBinaries()
	if err == nil {
		return b
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%v", err)
	}
	tb.Skipf("skipping: %v", err)
	return Binaries{}
}
