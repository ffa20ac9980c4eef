package openai

// Edited is a request body after Rewrite's edits, held as parts that
// reference the original body and the spliced-in bytes: concatenated, the
// parts are exactly what [Request.Rewrite] returns, but the body is not
// copied. A front end that sends the body on in pieces (the ext_proc
// picker) sends the parts instead of one rewritten copy. The parts alias
// the original body, which must not be modified while they are in use.
type Edited struct {
	parts [2*maxEdits + 1][]byte // body, text, body, text, body
	n     int
	size  int
}

// Len is the edited body's length in bytes.
func (e *Edited) Len() int { return e.size }

// Parts returns the edited body's parts in order; none is empty, and
// there are none for an empty body. They must not be modified.
func (e *Edited) Parts() [][]byte { return e.parts[:e.n] }

// add appends p as the next part, unless it is empty.
func (e *Edited) add(p []byte) {
	if len(p) == 0 {
		return
	}
	e.parts[e.n] = p
	e.n++
	e.size += len(p)
}

// Edit is [Request.Rewrite] without the copy: the same edits, as the
// original body's unchanged spans and the spliced-in bytes. It makes one
// small allocation (the spliced-in bytes) when something changes, none
// otherwise; the same conditions on r and body apply.
func (r *Request) Edit(body []byte, model string, forceUsage bool) Edited {
	var e Edited
	body = body[:len(body):len(body)] // no part reaches past the body into its buffer
	edits, n := r.edits(body, model, forceUsage)
	if n == 0 {
		e.add(body)
		return e
	}
	size := 0
	for _, s := range edits[:n] {
		size += s.textLen(model)
	}
	text := make([]byte, 0, size)
	prev := 0
	for _, s := range edits[:n] {
		e.add(body[prev:s.start:s.start])
		start := len(text)
		text = s.appendText(text, model)
		e.add(text[start:len(text):len(text)])
		prev = s.end
	}
	e.add(body[prev:])
	return e
}
