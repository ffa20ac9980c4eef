package auth

import (
	"regexp"
	"strings"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	for _, seed := range []string{
		"", "Bearer", "Bearer ", "Bearer abc", "bearer abc", "BEARER   abc", "Bearer a b", "Bearer\tabc",
		"Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer abc==", "Bearer ab=c", "Bearer ===", "Bearer eyJhbGciOi.eyJzdWIi.sig-_~+/",
		"Bearer abc ", " Bearer abc", "Bearer ä", "Bearer a\x00b", "Bearerabc",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, ok := parseAuthorization([]string{header})
		if !ok {
			if token != "" {
				t.Fatalf("not ok but token %q", token)
			}
			return
		}
		if !validToken(token) {
			t.Fatalf("accepted invalid token %q from %q", token, header)
		}
		if !strings.EqualFold(header[:len("bearer ")], "bearer ") || !strings.HasSuffix(header, token) {
			t.Fatalf("token %q does not come from %q", token, header)
		}
		if strings.TrimLeft(header[len("bearer "):], " ") != token {
			t.Fatalf("token %q is not the whole credential of %q", token, header)
		}
		again, ok := parseAuthorization([]string{"Bearer " + token})
		if !ok || again != token {
			t.Fatalf("round trip of %q gave %q, %v", token, again, ok)
		}
		if _, ok := parseAuthorization([]string{header, header}); ok {
			t.Fatal("accepted two Authorization headers")
		}
	})
}

// parseErrorPattern lists every error parseTokenFile may return; none quotes
// the input.
var parseErrorPattern = regexp.MustCompile(`^(line [0-9]+: (empty token|` +
	regexp.QuoteMeta("token is not a bearer token (letters, digits, -._~+/ and trailing =, at most 16384 bytes)") +
	`|token is shorter than 16 bytes; use a long random token, e.g. from ` + "`openssl rand -hex 32`" +
	`|user name has unprintable characters|token repeats the one on line [0-9]+)|no tokens|reading lines: bufio.Scanner: token too long)$`)

func FuzzParseTokenFile(f *testing.F) {
	for _, seed := range []string{
		"", "tok\n", "tok-0123456789abcdef\n", "tok-0123456789abcdef,alice\n", "# c\n\ntok-0123456789abcdef\r\n",
		"\uFEFFtok-0123456789abcdef", "a b\n", ",x\n", "tok-0123456789abcdef\ntok-0123456789abcdef\n",
		"tok-0123456789abcdef,\x00\n", "abc-0123456789abcdef==,user\nxyz-0123456789abcdef,other,more\n", "====\n",
		"  tok-0123456789abcdef  ,  name  \n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseTokenFile(data)
		if err != nil {
			if !parseErrorPattern.MatchString(err.Error()) {
				t.Fatalf("unexpected error text %q", err)
			}
			return
		}
		if s.Len() == 0 {
			t.Fatal("accepted a file without tokens")
		}
		text := strings.TrimPrefix(string(data), "\uFEFF")
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			token, _, _ := strings.Cut(line, ",")
			token = strings.TrimSpace(token)
			if _, err := s.Authenticate(t.Context(), token); err != nil {
				t.Fatalf("token from line %q does not authenticate: %v", line, err)
			}
		}
	})
}
