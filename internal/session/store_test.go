package session

import (
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/testclock"
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func TestStoreLifecycle(t *testing.T) {
	t.Parallel()
	clock := testclock.New(time.Unix(1000, 0))
	s := NewStore(time.Hour, 10, clock.Now)
	alice := auth.User{Name: "alice", Groups: []string{"ops"}}
	id := s.Create(alice)
	if !idPattern.MatchString(id) {
		t.Fatalf("id %q is not 43 URL-safe base64 characters", id)
	}

	tests := []struct {
		name     string
		advance  time.Duration
		id       string
		wantUser auth.User
		wantOK   bool
	}{
		{name: "fresh session", id: id, wantUser: alice, wantOK: true},
		{name: "unknown well-formed id", id: "A" + id[1:], wantOK: id[0] == 'A'},
		{name: "malformed id", id: id + "=", wantOK: false},
		{name: "empty id", id: "", wantOK: false},
		{name: "just before expiry", advance: time.Hour - time.Nanosecond, id: id, wantUser: alice, wantOK: true},
		{name: "at expiry", advance: time.Nanosecond, id: id, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock.Advance(tc.advance)
			u, ok := s.Lookup(tc.id)
			if ok != tc.wantOK {
				t.Fatalf("Lookup ok = %v, want %v", ok, tc.wantOK)
			}
			if ok {
				if diff := cmp.Diff(tc.wantUser, u); diff != "" {
					t.Errorf("user (-want +got):\n%s", diff)
				}
			}
		})
	}
	if got := s.Len(); got != 0 {
		t.Errorf("Len after expiry = %d, want 0 (expired session dropped on lookup)", got)
	}
}

func TestStoreDelete(t *testing.T) {
	t.Parallel()
	s := NewStore(0, 0, nil)
	a, b := s.Create(auth.User{Name: "a"}), s.Create(auth.User{Name: "b"})
	if a == b {
		t.Fatal("two sessions got the same id")
	}
	s.Delete(a)
	s.Delete("not-an-id")
	if _, ok := s.Lookup(a); ok {
		t.Error("deleted session still found")
	}
	if u, ok := s.Lookup(b); !ok || u.Name != "b" {
		t.Errorf("other session: %v, %v", u, ok)
	}
}

func TestStoreBound(t *testing.T) {
	t.Parallel()
	ttl := time.Hour
	tests := []struct {
		name string
		// expireAfter advances the clock by ttl after creating this many
		// sessions (-1: never).
		expireAfter int
		wantGone    []int
		wantKept    []int
		wantLen     int
	}{
		{name: "full store drops the oldest", expireAfter: -1, wantGone: []int{0}, wantKept: []int{1, 2, 3}, wantLen: 3},
		{name: "expired sessions are dropped first, all of them", expireAfter: 2, wantGone: []int{0, 1}, wantKept: []int{2, 3}, wantLen: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := testclock.New(time.Unix(0, 0))
			s := NewStore(ttl, 3, clock.Now)
			var ids []string
			for i := range 4 {
				if i == tc.expireAfter {
					clock.Advance(ttl)
				}
				ids = append(ids, s.Create(auth.User{Name: fmt.Sprint(i)}))
				clock.Advance(time.Second)
			}
			if got := s.Len(); got != tc.wantLen {
				t.Errorf("Len = %d, want %d", got, tc.wantLen)
			}
			for _, i := range tc.wantGone {
				if _, ok := s.Lookup(ids[i]); ok {
					t.Errorf("session %d still there", i)
				}
			}
			for _, i := range tc.wantKept {
				if u, ok := s.Lookup(ids[i]); !ok || u.Name != fmt.Sprint(i) {
					t.Errorf("session %d: %v, %v", i, u, ok)
				}
			}
		})
	}
}

func TestStoreConcurrent(t *testing.T) {
	t.Parallel()
	s := NewStore(time.Hour, 50, nil)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				id := s.Create(auth.User{Name: fmt.Sprintf("%d-%d", w, i)})
				s.Lookup(id)
				if i%3 == 0 {
					s.Delete(id)
				}
			}
		})
	}
	wg.Wait()
	if got := s.Len(); got > 50 {
		t.Errorf("Len = %d, above the bound 50", got)
	}
}

// FuzzLookup checks that no presented cookie value other than the issued ID
// finds the session, and that malformed values never panic.
func FuzzLookup(f *testing.F) {
	for _, seed := range []string{"", "x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"ÄAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "a\x00b", "../../etc/passwd"} {
		f.Add(seed)
	}
	s := NewStore(time.Hour, 10, nil)
	id := s.Create(auth.User{Name: "alice"})
	f.Fuzz(func(t *testing.T, value string) {
		_, ok := s.Lookup(value)
		if ok != (value == id) {
			t.Fatalf("Lookup(%q) = %v", value, ok)
		}
		s.Delete(value + "x") // never the live id: it has a fixed length
		if _, ok := s.Lookup(id); !ok {
			t.Fatal("Delete of another value removed the session")
		}
	})
}
