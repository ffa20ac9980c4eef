package extproc

import "github.com/infergate/infergate/internal/openai"

// sendRequestBody sends the request body, edited for the upstream, back
// to Envoy in messages of bodyChunkBytes (the last one shorter), the same
// bytes and the same message boundaries as one rewritten copy would give.
// A message that lies within one part of body references it; one that
// spans parts (around a spliced-in edit) is copied into a buffer of its
// own (gRPC's SendMsg may use a message after it returns, so no buffer is
// reused). The last message ends the request's body unless trailers
// follow; an empty body is one empty message.
func (st *stream) sendRequestBody(body *openai.Edited, trailers bool) error {
	c := partCursor{parts: body.Parts()}
	total := body.Len()
	for i := 0; i < total || i == 0; i += bodyChunkBytes {
		n := min(bodyChunkBytes, total-i)
		var msg []byte
		if n > 0 {
			msg = c.next(n)
		}
		last := i+n == total
		if err := st.srv.Send(bodyResponse(true, msg, last && !trailers)); err != nil {
			return err
		}
		if last {
			break
		}
	}
	return nil
}

// copiedBytes bounds the bytes sendRequestBody copies for body: a message
// per boundary between parts at most.
func copiedBytes(body *openai.Edited) int {
	return (len(body.Parts()) - 1) * min(bodyChunkBytes, body.Len())
}

// partCursor reads consecutive byte ranges across the parts of an edited
// body.
type partCursor struct {
	parts [][]byte
	p     int // the current part
	off   int // the offset in it
}

// next returns the next n bytes (n > 0, at most what is left): a subslice
// of the current part when it holds them all, else a copy.
func (c *partCursor) next(n int) []byte {
	if part := c.parts[c.p][c.off:]; len(part) >= n {
		c.advance(n)
		return part[:n:n]
	}
	msg := make([]byte, 0, n)
	for len(msg) < n {
		part := c.parts[c.p][c.off:]
		k := min(n-len(msg), len(part))
		msg = append(msg, part[:k]...)
		c.advance(k)
	}
	return msg
}

// advance moves the cursor k bytes on within the current part, to the
// next part when that one is used up.
func (c *partCursor) advance(k int) {
	c.off += k
	if c.off == len(c.parts[c.p]) {
		c.p++
		c.off = 0
	}
}
