package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
)

// Server is what the gateway runs on one of its listeners: an
// *http.Server satisfies it, and an adapter can wrap a gRPC server (the
// ext_proc picker and its health service).
type Server interface {
	// Serve accepts connections on ln until Shutdown or Close; it returns
	// http.ErrServerClosed (or nil) when stopped on purpose.
	Serve(ln net.Listener) error
	// Shutdown stops accepting and waits for in-flight work until ctx ends.
	Shutdown(ctx context.Context) error
	// Close stops at once, cutting in-flight work.
	Close() error
}

// served is one server on its listener.
type served struct {
	name string
	srv  Server
	ln   net.Listener
}

// servers is the one owner of the gateway's listeners: it starts them in
// order and stops them in reverse order, so the listener started first (the
// metrics listener) is still scraped while the later ones (the proxy) drain.
type servers struct {
	log  *slog.Logger
	list []served

	wg   sync.WaitGroup
	errs chan error // the first unexpected Serve error of each server
}

// add appends a server; call before start.
func (s *servers) add(name string, srv Server, ln net.Listener) {
	s.list = append(s.list, served{name: name, srv: srv, ln: ln})
}

// start runs every server in its own goroutine, in order.
func (s *servers) start() {
	s.errs = make(chan error, len(s.list))
	for _, sv := range s.list {
		s.wg.Go(func() {
			if err := sv.srv.Serve(sv.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.errs <- errors.Join(errors.New(sv.name+" listener"), err)
			}
		})
	}
}

// failed delivers the first server that stopped on its own.
func (s *servers) failed() <-chan error { return s.errs }

// shutdown stops the servers in reverse order, each gracefully until ctx
// ends and then at once, waits for every Serve to return, and reports the
// Serve errors that had not been taken from failed.
func (s *servers) shutdown(ctx context.Context) error {
	for i := len(s.list) - 1; i >= 0; i-- {
		sv := s.list[i]
		if err := sv.srv.Shutdown(ctx); err != nil {
			s.log.Warn("grace period over; closing remaining connections", "listener", sv.name, "err", err)
			_ = sv.srv.Close()
		}
	}
	s.wg.Wait()
	close(s.errs)
	var errs []error
	for err := range s.errs {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
