package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"github.com/infergate/infergate/internal/auth"
)

// Defaults of [NewStore].
const (
	// DefaultTTL is how long a session lasts after login.
	DefaultTTL = 8 * time.Hour
	// DefaultMaxSessions bounds the number of live sessions.
	DefaultMaxSessions = 1000
)

// idBytes is the number of random bytes in a session ID (256 bits).
const idBytes = 32

// idLength is the length of an encoded session ID.
var idLength = base64.RawURLEncoding.EncodedLen(idBytes)

// Store keeps login sessions in memory: random IDs mapped to the user who
// logged in, each with an absolute expiry, at most a fixed number at once.
// It is safe for concurrent use and starts no goroutines: expired sessions
// are dropped when looked up or when the store is full.
type Store struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu       sync.Mutex
	sessions map[[sha256.Size]byte]entry
}

// entry is one live session.
type entry struct {
	user             auth.User
	created, expires time.Time
}

// NewStore returns an empty store whose sessions last ttl and of which at
// most max exist at once. ttl <= 0 means [DefaultTTL], max <= 0
// [DefaultMaxSessions], and a nil now time.Now.
func NewStore(ttl time.Duration, max int, now func() time.Time) *Store {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if max <= 0 {
		max = DefaultMaxSessions
	}
	if now == nil {
		now = time.Now
	}
	return &Store{ttl: ttl, max: max, now: now, sessions: make(map[[sha256.Size]byte]entry)}
}

// TTL returns how long a session lasts.
func (s *Store) TTL() time.Duration { return s.ttl }

// Create starts a session for u and returns its ID: 43 URL-safe base64
// characters encoding 256 random bits. When the store is full it first
// drops expired sessions, then the oldest one.
func (s *Store) Create(u auth.User) string {
	var raw [idBytes]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails; it crashes the program instead
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now()

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= s.max {
		s.evict(now)
	}
	s.sessions[sha256.Sum256([]byte(id))] = entry{user: u, created: now, expires: now.Add(s.ttl)}
	return id
}

// evict drops expired sessions and, if the store is still full, the oldest
// one. The caller holds s.mu.
func (s *Store) evict(now time.Time) {
	var (
		oldestKey [sha256.Size]byte
		oldest    time.Time
		found     bool
	)
	for k, e := range s.sessions {
		if !now.Before(e.expires) {
			delete(s.sessions, k)
			continue
		}
		if !found || e.created.Before(oldest) {
			oldestKey, oldest, found = k, e.created, true
		}
	}
	if len(s.sessions) >= s.max && found {
		delete(s.sessions, oldestKey)
	}
}

// Lookup returns the user of the live session id. It reports false for an
// unknown, malformed or expired ID (and forgets an expired one).
func (s *Store) Lookup(id string) (auth.User, bool) {
	key, ok := keyOf(id)
	if !ok {
		return auth.User{}, false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.sessions[key]
	if !ok {
		return auth.User{}, false
	}
	if !now.Before(e.expires) {
		delete(s.sessions, key)
		return auth.User{}, false
	}
	return e.user, true
}

// Delete ends the session id; unknown IDs are ignored.
func (s *Store) Delete(id string) {
	key, ok := keyOf(id)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, key)
}

// Len returns the number of sessions held, expired ones not yet dropped
// included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// keyOf returns the map key of a well-formed session ID.
func keyOf(id string) ([sha256.Size]byte, bool) {
	if len(id) != idLength {
		return [sha256.Size]byte{}, false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return [sha256.Size]byte{}, false
		}
	}
	return sha256.Sum256([]byte(id)), true
}
