package envoystandin

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// flushCounter is a ResponseWriter that counts flushes and what each
// flush sent.
type flushCounter struct {
	*httptest.ResponseRecorder
	flushed []string // the body written since the previous flush, per flush
	mark    int
}

func (f *flushCounter) Flush() {
	b := f.Body.String()
	f.flushed = append(f.flushed, b[f.mark:])
	f.mark = len(b)
}

// TestClientWritesCoalesced: picker body answers already waiting are
// written to the client with one flush, as Envoy writes what one read of
// the picker's connection brought; with nothing waiting each is flushed at
// once, and the end of the body always is.
func TestClientWritesCoalesced(t *testing.T) {
	s := &StandIn{cfg: Config{Now: time.Now, Logger: slog.New(slog.DiscardHandler)}}
	w := &flushCounter{ResponseRecorder: httptest.NewRecorder()}
	e := newExchange(s, w, httptest.NewRequest(http.MethodPost, "/v1/completions", nil))
	e.respBodyOpen = true

	e.writeClientBody([]byte("a"), false) // nothing waiting: flushed now
	e.recv <- recvItem{}
	e.writeClientBody([]byte("b"), false) // another answer waiting: held
	if want := []string{"a"}; len(w.flushed) != 1 || w.flushed[0] != "a" {
		t.Fatalf("flushes %q, want %q", w.flushed, want)
	}
	<-e.recv
	e.writeClientBody([]byte("c"), false) // the waiting one: both go together
	e.recv <- recvItem{}
	e.writeClientBody([]byte("d"), true) // the end: flushed though one waits
	<-e.recv
	if want := []string{"a", "bc", "d"}; len(w.flushed) != 3 || w.flushed[0] != "a" || w.flushed[1] != "bc" || w.flushed[2] != "d" {
		t.Fatalf("flushes %q, want %q", w.flushed, want)
	}
	if e.flushPending || !e.respDone {
		t.Errorf("flush pending %v, response done %v after the end", e.flushPending, e.respDone)
	}
	e.cancel()
}
