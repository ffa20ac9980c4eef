package bench

import (
	"fmt"
	"os"
	"os/exec"
)

// dyingParentEnv, when set, makes the test binary act as a bench that
// starts one child the way the bench starts its gateway, prints the
// child's pid and waits to be killed.
const dyingParentEnv = "INFERGATE_BENCH_TEST_DYING_PARENT"

// runDyingParent is the test binary's body under dyingParentEnv.
func runDyingParent() int {
	child := exec.Command("sleep", "600")
	dieWithParent(child)
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(child.Process.Pid)
	_ = child.Wait() // until this process is killed
	return 0
}
