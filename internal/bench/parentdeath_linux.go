package bench

import (
	"os/exec"
	"syscall"
)

// dieWithParent asks the kernel to kill cmd's process when the thread that
// started it ends, which for the bench's children (gateway, Envoy
// stand-in, chaos processes) means when the bench process dies, even by
// SIGKILL, which no signal handler of the bench can catch. Go keeps its
// threads for the life of the process unless a goroutine locked to one
// exits, which the bench does not do.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
