//go:build !linux

package bench

import "errors"

// pinProcess is not supported on this system.
func pinProcess(int, []int) error { return errors.New("cpu pinning needs Linux") }

// onlineCPUs is unknown on this system; pinning is never attempted.
func onlineCPUs() []int { return nil }
