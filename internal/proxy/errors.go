package proxy

import (
	"errors"
	"net"
	"os"
)

// isTimeout reports whether err is a connection deadline passing.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}
