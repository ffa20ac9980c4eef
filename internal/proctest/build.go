package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles ./cmd/infergate of the module rooted at moduleRoot (for a
// package under test/, "../..") into a new temporary directory and returns
// the binary's path and a function removing the directory. Call it from
// TestMain.
func Build(moduleRoot string) (bin string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "infergate-test-bin-")
	if err != nil {
		return "", nil, fmt.Errorf("build infergate: %w", err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	bin = filepath.Join(dir, "infergate")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/infergate")
	cmd.Dir = moduleRoot
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("build infergate: %w", err)
	}
	return bin, cleanup, nil
}
