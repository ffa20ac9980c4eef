package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
)

// recordingServer is a Server that blocks in Serve until stopped and
// records the order of Shutdown calls.
type recordingServer struct {
	name    string
	order   *[]string
	mu      *sync.Mutex
	stopped chan struct{}
	failure error // returned by Serve at once when set
}

func (s *recordingServer) Serve(net.Listener) error {
	if s.failure != nil {
		return s.failure
	}
	<-s.stopped
	return http.ErrServerClosed
}

func (s *recordingServer) Shutdown(context.Context) error {
	s.mu.Lock()
	*s.order = append(*s.order, s.name)
	s.mu.Unlock()
	close(s.stopped)
	return nil
}

func (s *recordingServer) Close() error { return nil }

func TestServersStopInReverseOrder(t *testing.T) {
	var order []string
	var mu sync.Mutex
	run := &servers{log: slog.New(slog.DiscardHandler)}
	for _, name := range []string{"metrics", "proxy", "ext-proc"} {
		run.add(name, &recordingServer{name: name, order: &order, mu: &mu, stopped: make(chan struct{})}, nil)
	}
	run.start()
	if err := run.shutdown(t.Context()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if want := []string{"ext-proc", "proxy", "metrics"}; len(order) != 3 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Errorf("stopped in order %v, want %v", order, want)
	}
}

func TestServersReportAFailedListener(t *testing.T) {
	var order []string
	var mu sync.Mutex
	boom := errors.New("accept: too many open files")
	run := &servers{log: slog.New(slog.DiscardHandler)}
	run.add("metrics", &recordingServer{name: "metrics", order: &order, mu: &mu, stopped: make(chan struct{})}, nil)
	run.add("proxy", &recordingServer{name: "proxy", order: &order, mu: &mu, stopped: make(chan struct{}), failure: boom}, nil)
	run.start()
	err := <-run.failed()
	if !errors.Is(err, boom) {
		t.Fatalf("failed() = %v, want the proxy's error", err)
	}
	if err := run.shutdown(t.Context()); err != nil {
		t.Errorf("shutdown after the failure was taken: %v", err)
	}
}
