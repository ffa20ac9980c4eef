package auth

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStaticTokensAuthenticate(t *testing.T) {
	s := NewStaticTokens(map[string]string{
		"tok-alice": "alice",
		"tok-bob":   "bob",
		"tok-anon":  "",
	})
	tests := []struct {
		name     string
		token    string
		wantUser string
		wantErr  error
	}{
		{name: "first", token: "tok-alice", wantUser: "alice"},
		{name: "second", token: "tok-bob", wantUser: "bob"},
		{name: "default user name", token: "tok-anon", wantUser: "static-token"},
		{name: "unknown", token: "tok-carol", wantErr: ErrUnauthenticated},
		{name: "prefix of a token", token: "tok-ali", wantErr: ErrUnauthenticated},
		{name: "token plus suffix", token: "tok-alicex", wantErr: ErrUnauthenticated},
		{name: "case differs", token: "TOK-ALICE", wantErr: ErrUnauthenticated},
		{name: "empty", token: "", wantErr: ErrUnauthenticated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s.Authenticate(t.Context(), tc.token)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if u.Name != tc.wantUser {
				t.Errorf("user = %q, want %q", u.Name, tc.wantUser)
			}
			if err != nil && strings.Contains(err.Error(), tc.token) && tc.token != "" {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
	if s.Len() != 3 {
		t.Errorf("Len = %d, want 3", s.Len())
	}
}

func TestStaticTokensEmptySet(t *testing.T) {
	s := NewStaticTokens(nil)
	if _, err := s.Authenticate(t.Context(), "anything"); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("err = %v, want ErrUnauthenticated", err)
	}
}

func TestParseTokenFile(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    map[string]string // token → user name
		wantErr string
	}{
		{
			name: "tokens, users, comments and blanks",
			data: "# scrapers\n\nAbC123-0123456789\n  tok-2-0123456789 , prometheus \n# tok-3\nZXlKaGJHY2lPaUpTVXpJMU5pSjkuZXlK=,gmp collector\n",
			want: map[string]string{
				"AbC123-0123456789":                 "token-line-3",
				"tok-2-0123456789":                  "prometheus",
				"ZXlKaGJHY2lPaUpTVXpJMU5pSjkuZXlK=": "gmp collector",
			},
		},
		{
			name: "CRLF, BOM and no final newline",
			data: "\uFEFFfirst-token-0123456789\r\nsecond-token-0123456789,bob\r\nthird-token-0123456789",
			want: map[string]string{"first-token-0123456789": "token-line-1", "second-token-0123456789": "bob", "third-token-0123456789": "token-line-3"},
		},
		{name: "empty user after comma takes the default", data: "tok-0123456789abc,\n", want: map[string]string{"tok-0123456789abc": "token-line-1"}},
		{name: "user name with comma", data: "tok-0123456789abc,a,b\n", want: map[string]string{"tok-0123456789abc": "a,b"}},
		{name: "token of exactly 16 bytes", data: "0123456789abcdef\n", want: map[string]string{"0123456789abcdef": "token-line-1"}},
		{name: "empty file", data: "", wantErr: "no tokens"},
		{name: "only comments", data: "# nothing\n\n   \n#x\n", wantErr: "no tokens"},
		{name: "empty token", data: "good-0123456789abc\n,alice\n", wantErr: "line 2: empty token"},
		{name: "space inside token", data: "secret value\n", wantErr: "line 1: token is not a bearer token"},
		{name: "padding in the middle", data: "abc=def\n", wantErr: "line 1: token is not a bearer token"},
		{name: "only padding", data: "===\n", wantErr: "line 1: token is not a bearer token"},
		{name: "token of 15 bytes", data: "# c\nsecret-01234567,alice\n", wantErr: "line 2: token is shorter than 16 bytes"},
		{name: "3-byte token", data: "good-0123456789abc\nabc\n", wantErr: "line 2: token is shorter than 16 bytes"},
		{name: "control character in user", data: "tok-0123456789abc,ali\x1bce\n", wantErr: "line 1: user name has unprintable characters"},
		{name: "invalid UTF-8 in user", data: "tok-0123456789abc,\xff\n", wantErr: "line 1: user name has unprintable characters"},
		{name: "duplicate token", data: "tok-a-0123456789abc\ntok-b-0123456789abc\n\ntok-a-0123456789abc,other\n", wantErr: "line 4: token repeats the one on line 1"},
		{name: "too long token", data: strings.Repeat("a", maxTokenLength+1), wantErr: "line 1: token is not a bearer token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseTokenFile([]byte(tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tc.wantErr)
				}
				for _, secret := range []string{"secret", "good", "tok-a", "abc", "aaaa", "0123"} {
					if strings.Contains(tc.data, secret) && strings.Contains(err.Error(), secret) {
						t.Errorf("error %q quotes the file", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for token := range tc.want {
				u, err := s.Authenticate(t.Context(), token)
				if err != nil {
					t.Errorf("token %q: %v", token, err)
					continue
				}
				got[token] = u.Name
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
			if s.Len() != len(tc.want) {
				t.Errorf("Len = %d, want %d", s.Len(), len(tc.want))
			}
		})
	}
}

func TestLoadTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "tok-1-0123456789abcdef,alice\n")
	s, err := LoadTokenFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := s.Authenticate(t.Context(), "tok-1-0123456789abcdef"); err != nil || u.Name != "alice" {
		t.Errorf("Authenticate = %v, %v; want alice", u, err)
	}

	tests := []struct {
		name    string
		path    string
		wantErr *regexp.Regexp
	}{
		{name: "missing", path: filepath.Join(dir, "missing"), wantErr: regexp.MustCompile(`^load token file: open .*missing: no such file`)},
		{name: "empty", path: write("empty", ""), wantErr: regexp.MustCompile(`^load token file .*empty: no tokens$`)},
		{name: "bad line", path: write("bad", "ok-0123456789abcdef\nsuper secret\n"), wantErr: regexp.MustCompile(`^load token file .*bad: line 2: token is not a bearer token`)},
		{name: "short token", path: write("short", "# scraper\nsuper-012345678,alice\n"), wantErr: regexp.MustCompile(`^load token file .*/short: line 2: token is shorter than 16 bytes`)},
		{name: "too large", path: write("large", strings.Repeat("a\n", maxTokenFileSize/2+1)), wantErr: regexp.MustCompile(`larger than 1048576 bytes$`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadTokenFile(tc.path)
			if err == nil || !tc.wantErr.MatchString(err.Error()) {
				t.Fatalf("err = %v, want match %v", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "super") {
				t.Errorf("error %q quotes the file", err)
			}
		})
	}
}
