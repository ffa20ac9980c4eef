package openai

import "bytes"

// MaxEventSize bounds the bytes a StreamObserver holds for one incomplete
// SSE event. An event that grows beyond it is forwarded as it arrives and
// not parsed (it cannot be stripped and its usage is not read).
const MaxEventSize = 1 << 20

// initialPending is the first allocation for a held event; typical chat
// chunks are 200–400 bytes.
const initialPending = 1 << 10

// StreamObserver watches an OpenAI server-sent-event response on its way to
// the client. It reassembles events across arbitrary read boundaries (lines
// end in "\n" or "\r\n"; an event ends at an empty line; several data lines
// are joined with "\n" as the SSE spec says), reads usage from the chunks,
// counts content events, notes "data: [DONE]", and, when asked, removes the
// usage-only chunk (usage set, "choices" empty, null or absent) that exists
// only because the gateway turned on stream_options.include_usage.
//
// A StreamObserver is not safe for concurrent use; one serves one response.
type StreamObserver struct {
	strip bool
	// hold forwards complete events only (always true when stripping).
	hold     bool
	hasUsage bool // usage was read
	done     bool // "data: [DONE]" was seen

	// pending holds the current incomplete event: for forwarding when
	// stripping, and only for parsing otherwise.
	pending []byte
	// lineLen counts the bytes of the current line seen so far; lineFirst is
	// its first byte. Together they tell whether a '\n' ends an empty line.
	lineLen   int
	lineFirst byte
	// oversize is set while the current event exceeds MaxEventSize;
	// oversizeData records whether it had a data field (it still counts).
	oversize     bool
	oversizeData bool

	data  []byte // scratch for joining multi-line data
	usage Usage
	// model is where the response's model goes once read, nil unless
	// [StreamObserver.CaptureModel] asked for it.
	model *string
}

// NewStreamObserver returns a StreamObserver. With stripUsage true it drops
// usage-only chunks from the forwarded bytes and holds back an incomplete
// trailing event until it completes; with stripUsage false it forwards every
// byte immediately and unchanged.
func NewStreamObserver(stripUsage bool) *StreamObserver {
	return &StreamObserver{strip: stripUsage, hold: stripUsage}
}

// NewEventStreamObserver returns a StreamObserver that forwards complete
// events only, holding back an incomplete trailing event until it completes
// (an SSE client dispatches nothing before an event's empty line, so this
// delays nothing it sees). The forwarded bytes then end at an event boundary
// whenever an event under [MaxEventSize] is pending, so a front end can end
// a broken stream with an event of its own ([StreamObserver.AtEventBoundary]).
// With stripUsage true it also drops usage-only chunks.
func NewEventStreamObserver(stripUsage bool) *StreamObserver {
	return &StreamObserver{strip: stripUsage, hold: true}
}

// AtEventBoundary reports whether the bytes forwarded so far end where an
// event ends (or nothing was forwarded), so that bytes appended now start a
// new event rather than extending a partial one.
func (o *StreamObserver) AtEventBoundary() bool {
	if o.oversize {
		return false
	}
	return o.hold || (len(o.pending) == 0 && o.lineLen == 0)
}

// Discard drops the incomplete trailing event held back, if any, instead of
// forwarding it with [StreamObserver.Flush]: for a stream that broke off.
func (o *StreamObserver) Discard() {
	o.resetPending()
	o.lineLen = 0
}

// Process appends to dst the bytes to forward to the client for chunk p and
// returns it, with the number of content events completed in p: data events
// other than "[DONE]" and usage-only chunks (whether stripped or not, so the
// count does not depend on stripUsage). Complete events are forwarded at
// once; only an incomplete trailing event is held back, and only when
// stripping. Process does not keep p; dst must not overlap p.
func (o *StreamObserver) Process(dst, p []byte) ([]byte, int) {
	if !o.hold {
		dst = append(dst, p...)
	}
	count := 0
	start := 0 // start in p of the current event's bytes not yet handled
	for i := 0; i < len(p); {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			if o.lineLen == 0 {
				o.lineFirst = p[i]
			}
			o.lineLen += len(p) - i
			break
		}
		j += i
		n := o.lineLen + j - i
		first := o.lineFirst
		if o.lineLen == 0 && j > i {
			first = p[i]
		}
		o.lineLen = 0
		i = j + 1
		if n != 0 && (n != 1 || first != '\r') {
			continue // a non-empty line
		}
		// An empty line: p[start:i] completes the current event.
		var keep bool
		var c int
		if o.oversize {
			keep = true
			if o.oversizeData {
				c = 1
			}
			o.oversize, o.oversizeData = false, false
			dst = o.forward(dst, p[start:i], keep)
		} else if len(o.pending) > 0 {
			o.pending = append(o.pending, p[start:i]...)
			keep, c = o.event(o.pending)
			dst = o.forward(dst, o.pending, keep)
			o.resetPending()
		} else {
			keep, c = o.event(p[start:i])
			dst = o.forward(dst, p[start:i], keep)
		}
		count += c
		start = i
	}
	rest := p[start:]
	switch {
	case len(rest) == 0:
	case o.oversize:
		dst = o.forward(dst, rest, true)
	case len(o.pending)+len(rest) > MaxEventSize:
		head := o.pending
		if len(head) == 0 {
			head = rest
		}
		o.oversize, o.oversizeData = true, hasDataField(head)
		dst = o.forward(dst, o.pending, true)
		dst = o.forward(dst, rest, true)
		o.resetPending()
	default:
		if o.pending == nil {
			o.pending = make([]byte, 0, max(initialPending, len(rest)))
		}
		o.pending = append(o.pending, rest...)
	}
	return dst, count
}

// forward appends b to dst when holding events back (otherwise Process
// already forwarded every byte) and keep is true.
func (o *StreamObserver) forward(dst, b []byte, keep bool) []byte {
	if o.hold && keep {
		dst = append(dst, b...)
	}
	return dst
}

// resetPending empties pending, dropping a large buffer rather than keeping
// it for the rest of the stream.
func (o *StreamObserver) resetPending() {
	if cap(o.pending) > 64<<10 {
		o.pending = nil
		return
	}
	o.pending = o.pending[:0]
}

// Flush appends to dst whatever is held at the end of the stream: an
// incomplete last event (an SSE client would discard it). The held bytes are
// still read for usage and [DONE], and dropped if they are a usage-only chunk
// being stripped.
func (o *StreamObserver) Flush(dst []byte) []byte {
	if len(o.pending) == 0 {
		return dst
	}
	keep, _ := o.event(o.pending)
	dst = o.forward(dst, o.pending, keep)
	o.resetPending()
	return dst
}

// Usage returns the last usage object seen in a data event, and whether
// there was one.
func (o *StreamObserver) Usage() (Usage, bool) { return o.usage, o.hasUsage }

// CaptureModel makes the observer read the "model" member of the stream's
// chunks, until one has it (see [StreamObserver.Model]). Off by default, so
// that an observer nobody asks for the model allocates nothing for it.
func (o *StreamObserver) CaptureModel() {
	if o.model == nil {
		o.model = new(string)
	}
}

// Model returns the model the first chunk carrying one named, "" when none
// did or [StreamObserver.CaptureModel] was not called.
func (o *StreamObserver) Model() string {
	if o.model == nil {
		return ""
	}
	return *o.model
}

// Done reports whether the stream has carried "data: [DONE]".
func (o *StreamObserver) Done() bool { return o.done }

// event handles one complete event (its bytes including the final empty
// line) and reports whether to forward it and whether it is a content event.
func (o *StreamObserver) event(ev []byte) (keep bool, count int) {
	data, ok := o.eventData(ev)
	if !ok || len(data) == 0 {
		// Comments, other fields, stray empty lines, or an empty data buffer,
		// which an SSE client does not dispatch.
		return true, 0
	}
	if string(bytes.TrimSpace(data)) == "[DONE]" {
		o.done = true
		return true, 0
	}
	if o.model != nil && *o.model == "" {
		*o.model, _ = ResponseModel(data)
	}
	if plainContent(data) {
		return true, 1
	}
	p, valid := scanPayload(data)
	if !valid {
		return true, 1 // not JSON we understand; still an event the client sees
	}
	if p.hasUsage {
		o.usage, o.hasUsage = p.usage, true
	}
	if p.usageOnly() {
		return !o.strip, 0
	}
	return true, 1
}

// eventData returns the event's data: the values of its "data" fields,
// joined with "\n". ok is false when the event has no data field.
func (o *StreamObserver) eventData(ev []byte) (data []byte, ok bool) {
	fields := 0
	for len(ev) > 0 {
		line := ev
		if k := bytes.IndexByte(ev, '\n'); k >= 0 {
			line, ev = ev[:k], ev[k+1:]
		} else {
			ev = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		var v []byte
		switch {
		case bytes.HasPrefix(line, []byte("data:")):
			v = line[len("data:"):]
			if len(v) > 0 && v[0] == ' ' {
				v = v[1:]
			}
		case string(line) == "data":
		default:
			continue
		}
		switch fields++; fields {
		case 1:
			data = v
		case 2:
			o.data = append(append(append(o.data[:0], data...), '\n'), v...)
			data = o.data
		default:
			o.data = append(append(o.data, '\n'), v...)
			data = o.data
		}
	}
	return data, fields > 0
}

// hasDataField reports whether the start of an event contains a data field.
func hasDataField(b []byte) bool {
	return bytes.HasPrefix(b, []byte("data")) || bytes.Contains(b, []byte("\ndata"))
}

// plainContent reports, without parsing, that data cannot carry a usage
// object: "usage" does not occur except as one `"usage":null`, and there are
// no \u escapes that could spell the key differently. For such data the full
// parse would report no usage, so the event is a content event whether or
// not data is valid JSON. This skips the parse for nearly every chunk.
func plainContent(data []byte) bool {
	if bytes.Contains(data, []byte(`\u`)) {
		return false
	}
	k := bytes.Index(data, []byte("usage"))
	if k < 0 {
		return true
	}
	if k == 0 || data[k-1] != '"' {
		return false
	}
	i := k + len("usage")
	if i >= len(data) || data[i] != '"' {
		return false
	}
	i = skipWS(data, i+1)
	if i >= len(data) || data[i] != ':' {
		return false
	}
	i = skipWS(data, i+1)
	if len(data)-i < 4 || string(data[i:i+4]) != "null" {
		return false
	}
	return !bytes.Contains(data[i+4:], []byte("usage"))
}
