package kubetest

import "go.uber.org/goleak"

// GoleakOptions are the goroutines goleak should ignore in a test binary
// that talks to a control plane: client-go keeps idle keep-alive
// connections, and klog a flush daemon, for the life of the process.
func GoleakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("k8s.io/klog/v2.(*flushDaemon).run.func1"),
	}
}
