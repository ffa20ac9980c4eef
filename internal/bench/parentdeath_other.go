//go:build !linux

package bench

import "os/exec"

// dieWithParent is a no-op where the kernel offers no parent-death signal:
// a SIGKILLed bench leaves its children running there.
func dieWithParent(*exec.Cmd) {}
