package extproc

import (
	"math/bits"
	"sync"
)

// bodyBuf is a request-body buffer of a bodyPool: b has length 0 and the
// buffer's whole capacity.
type bodyBuf struct{ b []byte }

// bodyClasses is the number of size classes of a bodyPool: powers of two
// from initialBodyBuf (64 KiB) to 1 MiB. Larger bodies get a buffer of
// their own, left to the garbage collector.
const bodyClasses = 5

// bodyPool keeps the buffers that gather request bodies arriving in
// several messages, for the next requests: a 220 KB body otherwise costs
// a fresh 256 KiB allocation per request, and at a few hundred requests a
// second that garbage (collected, returned to the OS and faulted in again)
// costs more CPU than the decision itself.
//
// A buffer goes back only when nothing references its bytes any more: the
// parsed request's prompt dropped from the exchange and every message that
// referenced it sent. gRPC-Go documents that a message must not be
// modified after SendMsg because stats handlers and tracing may use it
// lazily; the picker's gRPC server has no stats handler, and the sent
// messages are marshalled within SendMsg. A stats handler that keeps
// messages must not be added to that server while buffers are reused.
// sync.Pool drops buffers nobody asked for during two garbage collections.
type bodyPool struct {
	classes [bodyClasses]sync.Pool
}

// bodyClass is the class of a buffer of at least n bytes (bodyClasses
// when n is larger than the largest class) and the class's size.
func bodyClass(n int64) (int, int64) {
	c := 0
	if n > initialBodyBuf {
		c = bits.Len64(uint64(n-1)) - bits.Len64(initialBodyBuf-1)
	}
	return c, int64(initialBodyBuf) << c
}

// get returns a buffer of capacity at least n: a pooled one of n's size
// class, or beyond the largest class a new one of exactly n bytes.
func (p *bodyPool) get(n int64) *bodyBuf {
	c, size := bodyClass(n)
	if c >= bodyClasses {
		return &bodyBuf{b: make([]byte, 0, n)}
	}
	if bb, ok := p.classes[c].Get().(*bodyBuf); ok {
		return bb
	}
	return &bodyBuf{b: make([]byte, 0, size)}
}

// put returns bb for reuse; its bytes must be referenced nowhere any
// more. A buffer outside the classes is dropped.
func (p *bodyPool) put(bb *bodyBuf) {
	c, size := bodyClass(int64(cap(bb.b)))
	if c >= bodyClasses || int64(cap(bb.b)) != size {
		return
	}
	bb.b = bb.b[:0]
	p.classes[c].Put(bb)
}
