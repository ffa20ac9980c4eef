package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTokenFileSize bounds the token file [LoadTokenFile] reads.
const maxTokenFileSize = 1 << 20

// MinTokenLength is the shortest token [LoadTokenFile] accepts, in bytes:
// 16 random base64 characters are 96 bits, out of reach of guessing at the
// throttled rate.
const MinTokenLength = 16

// defaultStaticUser names tokens given to [NewStaticTokens] without a user.
const defaultStaticUser = "static-token"

// StaticTokens is an [Authenticator] over a fixed set of bearer tokens. It
// keeps only SHA-256 digests of the tokens and compares a presented token
// against every one of them in constant time, so neither the response time
// nor an early exit reveals which token, or how much of one, matched. Safe
// for concurrent use.
type StaticTokens struct {
	entries []staticToken
}

// staticToken is one configured token.
type staticToken struct {
	digest [sha256.Size]byte
	user   User
}

var _ CachedAuthenticator = (*StaticTokens)(nil)

// NewStaticTokens returns an authenticator accepting the keys of tokens, each
// authenticating as the user named by its value ("static-token" when the
// value is empty). Keys that are not valid bearer tokens (see
// [LoadTokenFile]) can never be presented and so never match. Unlike
// LoadTokenFile it does not enforce [MinTokenLength].
func NewStaticTokens(tokens map[string]string) *StaticTokens {
	s := &StaticTokens{entries: make([]staticToken, 0, len(tokens))}
	for token, name := range tokens {
		if name == "" {
			name = defaultStaticUser
		}
		s.add(token, name)
	}
	return s
}

// add appends one token.
func (s *StaticTokens) add(token, name string) {
	s.entries = append(s.entries, staticToken{digest: sha256.Sum256([]byte(token)), user: User{Name: name}})
}

// Len returns the number of configured tokens.
func (s *StaticTokens) Len() int { return len(s.entries) }

// Authenticate implements [Authenticator]. An unknown token yields an error
// wrapping [ErrUnauthenticated]; it never returns [ErrUnavailable].
func (s *StaticTokens) Authenticate(_ context.Context, token string) (User, error) {
	digest := sha256.Sum256([]byte(token))
	found, index := 0, 0
	for i := range s.entries {
		eq := subtle.ConstantTimeCompare(digest[:], s.entries[i].digest[:])
		index = subtle.ConstantTimeSelect(eq, i, index)
		found |= eq
	}
	if found == 0 || token == "" {
		return User{}, fmt.Errorf("static token: %w", ErrUnauthenticated)
	}
	return s.entries[index].user, nil
}

// AuthenticateCached implements [CachedAuthenticator]: checking a static
// token costs no call, so it is [StaticTokens.Authenticate].
func (s *StaticTokens) AuthenticateCached(token string) (User, bool) {
	u, err := s.Authenticate(context.Background(), token)
	return u, err == nil
}

// LoadTokenFile reads a token file and returns an authenticator for it.
//
// The file holds one token per line, optionally followed by a comma and the
// user name it authenticates as ("token,user"; without one the user is
// "token-line-N", N being the line number). Surrounding spaces are trimmed;
// blank lines and lines starting with # are ignored. A token must be a
// bearer token68 word: letters, digits and -._~+/ with optional trailing '='
// (base64, base64url, hex and JWTs all qualify), at least [MinTokenLength]
// (16) bytes and at most 16 KiB. The file must
// hold at least one token, no token twice, and be at most 1 MiB. Errors name
// the file and the line but never contain token text.
func LoadTokenFile(path string) (*StaticTokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load token file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load token file: %w", err)
	}
	if len(data) > maxTokenFileSize {
		return nil, fmt.Errorf("load token file %s: larger than %d bytes", path, maxTokenFileSize)
	}
	s, err := parseTokenFile(data)
	if err != nil {
		return nil, fmt.Errorf("load token file %s: %w", path, err)
	}
	return s, nil
}

// parseTokenFile parses the contents of a token file; see [LoadTokenFile].
// Its errors never quote the input.
func parseTokenFile(data []byte) (*StaticTokens, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	s := &StaticTokens{}
	firstLine := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxTokenFileSize+1)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		token, name, hasName := strings.Cut(text, ",")
		token, name = strings.TrimSpace(token), strings.TrimSpace(name)
		switch {
		case token == "":
			return nil, fmt.Errorf("line %d: empty token", line)
		case !validToken(token):
			return nil, fmt.Errorf("line %d: token is not a bearer token (letters, digits, -._~+/ and trailing =, at most %d bytes)", line, maxTokenLength)
		case len(token) < MinTokenLength:
			return nil, fmt.Errorf("line %d: token is shorter than %d bytes; use a long random token, e.g. from `openssl rand -hex 32`", line, MinTokenLength)
		case hasName && !printable(name):
			return nil, fmt.Errorf("line %d: user name has unprintable characters", line)
		}
		if name == "" {
			name = "token-line-" + strconv.Itoa(line)
		}
		digest := sha256.Sum256([]byte(token))
		if first, dup := firstLine[digest]; dup {
			return nil, fmt.Errorf("line %d: token repeats the one on line %d", line, first)
		}
		firstLine[digest] = line
		s.entries = append(s.entries, staticToken{digest: digest, user: User{Name: name}})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading lines: %w", err)
	}
	if len(s.entries) == 0 {
		return nil, errors.New("no tokens")
	}
	return s, nil
}

// printable reports whether s is valid UTF-8 with only printable characters
// (spaces included), so it is safe to log.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
