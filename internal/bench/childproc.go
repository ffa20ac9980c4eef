package bench

import (
	"os"
	"os/exec"
)

// prepareChild readies a child process of the bench (the gateway, the
// Envoy stand-in) before it starts: it inherits the bench's environment,
// runs with GOMAXPROCS=1 when it is to be pinned to one CPU (cpu >= 0),
// and dies with the bench ([dieWithParent]).
func prepareChild(cmd *exec.Cmd, cpu int) {
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	if cpu >= 0 {
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	}
	dieWithParent(cmd)
}
