package exchange

import "github.com/infergate/infergate/internal/openai"

// responseModelHeadBytes is how much of the start of a non-streaming
// response is kept to find its "model" member, which OpenAI-compatible
// servers write before "choices" (vLLM: after id, object and created).
const responseModelHeadBytes = 1 << 10

// responseModel reads the model a response names, for a front end that
// asked for it with [Exchange.CaptureResponseModel] (tracing).
type responseModel struct {
	head  []byte // the start of a non-streaming body, nil once done
	model string
}

// headChunk appends the start of p to the head of a non-streaming body
// while it is short, and reads the model from it once it holds one.
func (r *responseModel) headChunk(p []byte) {
	if r.head == nil {
		return
	}
	n := min(len(p), cap(r.head)-len(r.head))
	r.head = append(r.head, p[:n]...)
	if m, ok := openai.ResponseModel(r.head); ok {
		r.model, r.head = m, nil
	} else if len(r.head) == cap(r.head) {
		r.head = nil
	}
}

// CaptureResponseModel asks the exchange to read the model the response
// names (its "model" member; for a stream, the first chunk's), for
// [Exchange.ResponseModel]. Call it before [Exchange.ResponseStarted]; an
// exchange not asked allocates nothing for it.
func (x *Exchange) CaptureResponseModel() {
	if x.respModel == nil {
		x.respModel = &responseModel{}
	}
}

// ResponseModel returns the model the response named (at most
// [openai.MaxModelNameBytes] bytes): final once [Exchange.BodyEnd] was
// called; "" when it named none or [Exchange.CaptureResponseModel] was not
// called.
func (x *Exchange) ResponseModel() string {
	if x.respModel == nil {
		return ""
	}
	return x.respModel.model
}
