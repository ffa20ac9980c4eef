package auth

import "strings"

// maxTokenLength bounds the tokens accepted from headers and files. Kubernetes
// service-account tokens are around 1 KiB.
const maxTokenLength = 16 << 10

// parseAuthorization extracts the token from the values of the Authorization
// header. It accepts exactly one header of the form "Bearer <token>": the
// scheme is case-insensitive, one or more spaces separate it from the token,
// and the token must be a single token68 word (RFC 7235 §2.1, as RFC 6750
// uses it). Anything else is reported as not ok.
func parseAuthorization(values []string) (token string, ok bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, rest, found := strings.Cut(values[0], " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimLeft(rest, " ")
	if !validToken(token) {
		return "", false
	}
	return token, true
}

// validToken reports whether t is a non-empty token68 word of at most
// maxTokenLength bytes: letters, digits and -._~+/ followed by optional '='
// padding.
func validToken(t string) bool {
	if len(t) > maxTokenLength {
		return false
	}
	body := strings.TrimRight(t, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		if !isToken68Char(body[i]) {
			return false
		}
	}
	return true
}

// isToken68Char reports whether c may appear in a token68 word before the
// padding.
func isToken68Char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		return true
	}
	return false
}
