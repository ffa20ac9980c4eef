package openai

import "bytes"

// DefaultUsageTailSize is the tail size NewUsageTail uses for n ≤ 0. vLLM and
// OpenAI put "usage" near the end of a non-streaming response, followed by
// at most a few short members, so 4 KiB holds it with a wide margin unless
// the client asked for prompt logprobs (which vLLM writes after usage).
const DefaultUsageTailSize = 4 << 10

// UsageTail is an io.Writer that keeps only the last n bytes written to it,
// so the proxy can tee a non-streaming response through it and read the
// usage at the end without buffering the whole body. Memory is fixed at n
// bytes. A UsageTail is not safe for concurrent use.
type UsageTail struct {
	buf  []byte // len n; a ring once full
	pos  int    // next write position in buf
	full bool   // buf has wrapped at least once
}

// NewUsageTail returns a UsageTail keeping the last n bytes
// (DefaultUsageTailSize when n ≤ 0).
func NewUsageTail(n int) *UsageTail {
	if n <= 0 {
		n = DefaultUsageTailSize
	}
	return &UsageTail{buf: make([]byte, n)}
}

// Write records p and always returns len(p), nil.
func (t *UsageTail) Write(p []byte) (int, error) {
	n := len(p)
	size := len(t.buf)
	if n >= size {
		copy(t.buf, p[n-size:])
		t.pos, t.full = 0, true
		return n, nil
	}
	c := copy(t.buf[t.pos:], p)
	if c < n {
		copy(t.buf, p[c:])
		t.full = true
	}
	t.pos += n
	if t.pos >= size {
		t.pos -= size
		t.full = true
	}
	return n, nil
}

// Bytes returns the retained tail in order, as a new slice.
func (t *UsageTail) Bytes() []byte {
	if !t.full {
		return append([]byte(nil), t.buf[:t.pos]...)
	}
	out := make([]byte, 0, len(t.buf))
	out = append(out, t.buf[t.pos:]...)
	return append(out, t.buf[:t.pos]...)
}

// Usage finds the last "usage" member in the tail whose value is a complete
// object and parses it. Because the tail may start anywhere, nesting is not
// known: a candidate counts only if its key is preceded by '{' or ',' (or
// starts the tail) and followed by ':' and a valid usage object. ok is false when there is
// none, for example when the usage object was pushed out of the tail.
func (t *UsageTail) Usage() (Usage, bool) {
	return findUsage(t.Bytes())
}

// findUsage implements UsageTail.Usage on a linear buffer.
func findUsage(b []byte) (Usage, bool) {
	const key = `"usage"`
	end := len(b)
	for {
		k := bytes.LastIndex(b[:end], []byte(key))
		if k < 0 {
			return Usage{}, false
		}
		end = k
		if u, ok := usageAt(b, k, k+len(key)); ok {
			return u, true
		}
	}
}

// usageAt tries to parse `"usage": {…}` where the key spans b[k:after].
func usageAt(b []byte, k, after int) (Usage, bool) {
	p := k - 1
	for p >= 0 && (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r') {
		p--
	}
	// At the very start of the tail the key cannot be inside a string: there
	// its quotes would be escaped, and `\"usage\"` cut after the first
	// backslash still does not contain `"usage"`.
	if p >= 0 && b[p] != '{' && b[p] != ',' {
		return Usage{}, false
	}
	i := skipWS(b, after)
	if i >= len(b) || b[i] != ':' {
		return Usage{}, false
	}
	i = skipWS(b, i+1)
	if i >= len(b) || b[i] != '{' {
		return Usage{}, false
	}
	s := scanner{b: b}
	u, end := s.parseUsageObject(i, 1)
	return u, end >= 0
}
