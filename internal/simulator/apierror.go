package simulator

import (
	"encoding/json"
	"net/http"
)

// apiError is an error answered to the client as an OpenAI-shaped body:
// {"error":{"message","type","param","code"}}.
type apiError struct {
	status  int
	message string
	typ     string
	param   string // "" encodes as null
	code    string // "" encodes as null
}

func (e *apiError) Error() string { return e.message }

// badRequest returns a 400 invalid_request_error about param.
func badRequest(param, message string) *apiError {
	return &apiError{status: http.StatusBadRequest, message: message, typ: "invalid_request_error", param: param, code: "invalid_request"}
}

// writeError answers e.
func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, e.body())
}

// body returns the OpenAI-shaped error object.
func (e *apiError) body() any {
	type body struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	b := body{Message: e.message, Type: e.typ}
	if e.param != "" {
		b.Param = &e.param
	}
	if e.code != "" {
		b.Code = &e.code
	}
	return struct {
		Error body `json:"error"`
	}{b}
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}
