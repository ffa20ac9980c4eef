package openai

// includeUsage* are the bytes Rewrite splices in to request streaming usage.
const (
	includeUsageMember = `"include_usage":true`
	includeUsageObject = `{"include_usage":true}`
	streamOptionsTail  = `"stream_options":{"include_usage":true}`
)

// maxEdits is the most edits Rewrite makes: the model and the usage option.
const maxEdits = 2

// splice is one edit of a body: replace body[start:end] with text (or with
// the quoted model when model is true).
type splice struct {
	start, end int
	comma      bool // prefix text with ','
	text       string
	model      bool
}

// textLen is the length of the bytes s puts in, for the new model name
// model.
func (s splice) textLen(model string) int {
	n := len(s.text)
	if s.model {
		n = quotedLen(model)
	}
	if s.comma {
		n++
	}
	return n
}

// appendText appends the bytes s puts in, for the new model name model.
func (s splice) appendText(dst []byte, model string) []byte {
	if s.comma {
		dst = append(dst, ',')
	}
	if s.model {
		return appendQuoted(dst, model)
	}
	return append(dst, s.text...)
}

// Rewrite returns body with "model" replaced by model (when model !=
// r.Model) and, when forceUsage is true and the request streams without
// include_usage, with stream_options.include_usage set to true. An existing
// stream_options object keeps its other members: its include_usage value is
// replaced or the member appended; a stream_options that is not an object is
// replaced by {"include_usage":true}; a missing one is added at the end of
// the top-level object. The new model name is JSON-escaped.
//
// Rewrite returns body itself (no copy) when nothing changes; otherwise it
// makes exactly one allocation. r must come from ParseRequest(body, …) on
// this very body; if body's length differs from the parsed one, body is
// returned unchanged. The spans in r describe the original body, not the
// result. [Request.Edit] gives the same bytes without copying body.
func (r *Request) Rewrite(body []byte, model string, forceUsage bool) []byte {
	edits, n := r.edits(body, model, forceUsage)
	if n == 0 {
		return body
	}
	size := len(body)
	for _, e := range edits[:n] {
		size += e.textLen(model) - (e.end - e.start)
	}
	out := make([]byte, 0, size)
	prev := 0
	for _, e := range edits[:n] {
		out = append(out, body[prev:e.start]...)
		out = e.appendText(out, model)
		prev = e.end
	}
	return append(out, body[prev:]...)
}

// edits are Rewrite's edits of body, in order (n of them, none when
// nothing changes).
func (r *Request) edits(body []byte, model string, forceUsage bool) (edits [maxEdits]splice, n int) {
	if r.modelStart == 0 || len(body) != r.bodyLen || r.objEnd >= len(body) || body[r.objEnd] != '}' {
		return edits, 0
	}
	if model != r.Model {
		edits[n] = splice{start: r.modelStart, end: r.modelEnd, model: true}
		n++
	}
	if forceUsage && r.Stream && !r.IncludeUsage {
		switch {
		case r.soStart == 0:
			edits[n] = splice{start: r.objEnd, end: r.objEnd, comma: r.members > 0, text: streamOptionsTail}
		case !r.soObject:
			edits[n] = splice{start: r.soStart, end: r.soEnd, text: includeUsageObject}
		case r.iuStart != 0:
			edits[n] = splice{start: r.iuStart, end: r.iuEnd, text: "true"}
		default: // insert before the closing '}' of stream_options
			edits[n] = splice{start: r.soEnd - 1, end: r.soEnd - 1, comma: r.soMembers > 0, text: includeUsageMember}
		}
		n++
	}
	if n == 2 && edits[1].start < edits[0].start {
		edits[0], edits[1] = edits[1], edits[0]
	}
	return edits, n
}
