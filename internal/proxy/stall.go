package proxy

import (
	"net/http"
	"time"
)

// stallWriter is the ResponseWriter a forwarded response is written to.
// Before each write or flush it moves the connection's write deadline to
// stall from now (refreshed at most every stall/16, so the deadline is
// between 15/16 and 1 times stall after the last write); a write that times
// out means the client took no bytes for that long, and cancels the upstream
// request so the replica's slot is freed at once. The copy then aborts the
// handler with [http.ErrAbortHandler], which the server closes the
// connection on without logging; finish still runs (it is deferred) and
// records the request as client-closed.
type stallWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	stall   time.Duration
	c       *call
	armedAt time.Time
}

// init makes s the stall-watching writer of c's response to w.
func (s *stallWriter) init(w http.ResponseWriter, stall time.Duration, c *call) {
	*s = stallWriter{ResponseWriter: w, rc: http.NewResponseController(w), stall: stall, c: c}
}

// arm refreshes the write deadline when it has aged. Deadlines are
// wall-clock times of the connection, so this uses time.Now, not the
// handler's injected clock.
func (s *stallWriter) arm() {
	now := time.Now()
	if now.Sub(s.armedAt) < s.stall/16 {
		return
	}
	s.armedAt = now
	_ = s.rc.SetWriteDeadline(now.Add(s.stall))
}

// check cancels the upstream request when err is the write deadline passing.
func (s *stallWriter) check(err error) error {
	if err != nil && isTimeout(err) && !s.c.stalled.Swap(true) {
		s.c.cancel()
	}
	return err
}

// WriteHeader implements http.ResponseWriter.
func (s *stallWriter) WriteHeader(code int) {
	s.arm()
	s.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (s *stallWriter) Write(p []byte) (int, error) {
	s.arm()
	n, err := s.ResponseWriter.Write(p)
	return n, s.check(err)
}

// FlushError flushes buffered bytes to the client (found by
// http.ResponseController).
func (s *stallWriter) FlushError() error {
	s.arm()
	return s.check(s.rc.Flush())
}

// Unwrap returns the server's ResponseWriter, for http.ResponseController.
func (s *stallWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
