package envoystandin

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// header is one entry of an Envoy header map: a lower-case key and a value.
type header struct{ key, value string }

// headerList is an Envoy header map: ordered, lower-case keys, pseudo-headers
// first, a repeated header as repeated entries.
type headerList []header

// get returns the first value of key and whether it is present.
func (h headerList) get(key string) (string, bool) {
	for _, e := range h {
		if e.key == key {
			return e.value, true
		}
	}
	return "", false
}

// remove deletes every entry of key.
func (h *headerList) remove(key string) {
	out := (*h)[:0]
	for _, e := range *h {
		if e.key != key {
			out = append(out, e)
		}
	}
	*h = out
}

// set replaces every entry of key by one entry, keeping the position of the
// first (pseudo-headers stay first).
func (h *headerList) set(key, value string) {
	found := false
	out := (*h)[:0]
	for _, e := range *h {
		if e.key == key {
			if found {
				continue
			}
			found = true
			e.value = value
		}
		out = append(out, e)
	}
	*h = out
	if !found {
		h.add(key, value)
	}
}

// add appends an entry; a pseudo-header goes after the other pseudo-headers.
func (h *headerList) add(key, value string) {
	if strings.HasPrefix(key, ":") {
		i := 0
		for i < len(*h) && strings.HasPrefix((*h)[i].key, ":") {
			i++
		}
		*h = append(*h, header{})
		copy((*h)[i+1:], (*h)[i:])
		(*h)[i] = header{key, value}
		return
	}
	*h = append(*h, header{key, value})
}

// proto converts h to the HeaderMap Envoy sends, values in raw_value.
func (h headerList) proto() *corev3.HeaderMap {
	out := make([]*corev3.HeaderValue, len(h))
	for i, e := range h {
		out[i] = &corev3.HeaderValue{Key: e.key, RawValue: []byte(e.value)}
	}
	return &corev3.HeaderMap{Headers: out}
}

// hopByHop lists the connection-specific headers that Envoy's HTTP/1 codec
// does not forward.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true,
	"transfer-encoding": true, "upgrade": true, "te": true, "trailer": true,
}

// appendHTTPHeader appends src to h with lower-case keys in sorted key order
// (net/http does not keep the arrival order), skipping skip.
func (h *headerList) appendHTTPHeader(src http.Header, skip func(string) bool) {
	keys := make([]string, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lk := strings.ToLower(k)
		if skip != nil && skip(lk) {
			continue
		}
		for _, v := range src[k] {
			*h = append(*h, header{lk, v})
		}
	}
}

// requestHeaders builds the header map Envoy's filter chain sees for r: the
// pseudo-headers, the client's headers, and what the connection manager adds
// (x-forwarded-proto, x-request-id). skip names client headers to leave out.
func requestHeaders(r *http.Request, skip func(string) bool) headerList {
	h := make(headerList, 0, len(r.Header)+8)
	h = append(h,
		header{":authority", r.Host},
		header{":path", r.RequestURI},
		header{":method", r.Method},
		header{":scheme", "http"},
	)
	h.appendHTTPHeader(r.Header, skip)
	if len(r.TransferEncoding) > 0 {
		h = append(h, header{"transfer-encoding", strings.Join(r.TransferEncoding, ", ")})
	}
	if _, ok := h.get("x-forwarded-proto"); !ok {
		h = append(h, header{"x-forwarded-proto", "http"})
	}
	if _, ok := h.get("x-request-id"); !ok {
		h = append(h, header{"x-request-id", newRequestID()})
	}
	return h
}

// httpHeader converts h to an http.Header for forwarding, without
// pseudo-headers, host, content-length and hop-by-hop headers.
func (h headerList) httpHeader() http.Header {
	out := make(http.Header, len(h))
	for _, e := range h {
		if strings.HasPrefix(e.key, ":") || e.key == "host" || e.key == "content-length" || hopByHop[e.key] {
			continue
		}
		ck := http.CanonicalHeaderKey(e.key)
		out[ck] = append(out[ck], e.value)
	}
	return out
}

// newRequestID returns a random UUID v4, as Envoy generates x-request-id.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
