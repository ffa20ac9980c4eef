// Package openaihttp is the net/http edge of package openai: it writes an
// [openai.Error] as an HTTP response. Package openai knows no transport (it
// renders the body with [openai.Error.AppendJSON] and names its own status
// codes); the proxy and the panic recovery, which serve HTTP, write errors
// through [WriteError] so that every error body is byte-identical.
package openaihttp
