package openai

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// maxDepth is the deepest nesting of objects and arrays the scanner accepts.
// It equals encoding/json's limit, so both accept exactly the same documents.
const maxDepth = 10000

// syntaxError is the first problem the scanner found in a document: a byte
// offset and a short description that never quotes the input.
type syntaxError struct {
	off int
	msg string
}

// scanner validates and walks JSON held in b without decoding it. Positions
// are byte offsets into b; methods that can fail return -1 and record the
// problem in err. The zero err (empty msg) means no failure so far.
//
// The grammar is RFC 8259 exactly as encoding/json.Valid applies it: the
// same whitespace, number, escape and nesting rules; raw bytes ≥ 0x80 inside
// strings are not checked for UTF-8 validity.
type scanner struct {
	b   []byte
	err syntaxError
}

// fail records the first error and returns -1.
func (s *scanner) fail(off int, msg string) int {
	if s.err.msg == "" {
		s.err = syntaxError{off: off, msg: msg}
	}
	return -1
}

// failed reports whether the scanner has recorded an error.
func (s *scanner) failed() bool { return s.err.msg != "" }

// skipWS returns the index of the first non-whitespace byte at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// Word-at-a-time constants for scanning strings eight bytes per step.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// stringStops returns a mask whose lowest set bit is the high bit of the first
// byte of w (little-endian) that ends a run of plain string bytes: '"', '\\'
// or a control character below 0x20. It is zero when w has none.
//
// Each term is the classic "has zero byte" / "has byte less than n" test.
// Borrows only propagate upwards from a byte that really matches, so bits
// below the first match are exact and the lowest set bit is reliable.
func stringStops(w uint64) uint64 {
	q := w ^ (lsb * '"')
	e := w ^ (lsb * '\\')
	return ((q - lsb) &^ q & msb) | ((e - lsb) &^ e & msb) | ((w - lsb*0x20) &^ w & msb)
}

// skipString validates the string whose opening quote is at i and returns
// the index just after its closing quote.
func (s *scanner) skipString(i int) int {
	b := s.b
	start := i
	i++
	for {
		for i+8 <= len(b) {
			if m := stringStops(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return s.fail(start, "unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(b) {
				return s.fail(start, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return s.fail(i, `invalid \u escape in string`)
				}
				i += 6
			default:
				return s.fail(i, "invalid escape in string")
			}
		case c < 0x20:
			return s.fail(i, "invalid control character in string")
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return c-'0' < 10 || (c|0x20)-'a' < 6
}

func isDigit(c byte) bool { return c-'0' < 10 }

// skipNumber validates the number starting at i and returns its end.
func (s *scanner) skipNumber(i int) int {
	b := s.b
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i]-'1' < 9:
		i++
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return s.fail(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return s.fail(start, "invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return s.fail(start, "invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i
}

// skipLiteral validates that lit (true, false or null) starts at i.
func (s *scanner) skipLiteral(i int, lit string) int {
	if len(s.b)-i >= len(lit) && string(s.b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return s.fail(i, "invalid literal")
}

// skipScalar validates the string, number or literal starting at i.
func (s *scanner) skipScalar(i int) int {
	if i >= len(s.b) {
		return s.fail(i, "unexpected end of input, expected a value")
	}
	switch c := s.b[i]; {
	case c == '"':
		return s.skipString(i)
	case c == 't':
		return s.skipLiteral(i, "true")
	case c == 'f':
		return s.skipLiteral(i, "false")
	case c == 'n':
		return s.skipLiteral(i, "null")
	case c == '-' || isDigit(c):
		return s.skipNumber(i)
	default:
		return s.fail(i, "invalid character, expected a value")
	}
}

// skipValue validates the value starting at i (no leading whitespace) that
// is nested inside depth containers, and returns the index just after it.
func (s *scanner) skipValue(i, depth int) int {
	if i < len(s.b) && (s.b[i] == '{' || s.b[i] == '[') {
		return s.skipContainer(i, depth)
	}
	return s.skipScalar(i)
}

// skipContainer validates the object or array starting at i without
// recursion: a bit stack records, per open level, whether it is an object.
func (s *scanner) skipContainer(i, depth int) int {
	const (
		stValue = iota // a value starts at i (after optional whitespace)
		stAfter        // a value just ended at i
		stKey          // an object key starts at i (after optional whitespace)
	)
	b := s.b
	var small [4]uint64
	isObj := small[:]
	level := 0
	state := stValue
	for {
		switch state {
		case stValue:
			i = skipWS(b, i)
			if i >= len(b) {
				return s.fail(i, "unexpected end of input, expected a value")
			}
			c := b[i]
			if c != '{' && c != '[' {
				if i = s.skipScalar(i); i < 0 {
					return -1
				}
				state = stAfter
				continue
			}
			if depth+level+1 > maxDepth {
				return s.fail(i, "nesting too deep")
			}
			if w := level >> 6; w >= len(isObj) {
				isObj = append(isObj, 0)
			}
			if c == '{' {
				isObj[level>>6] |= 1 << (level & 63)
			} else {
				isObj[level>>6] &^= 1 << (level & 63)
			}
			level++
			i = skipWS(b, i+1)
			switch {
			case i < len(b) && b[i] == c+2: // '{'+2 == '}', '['+2 == ']'
				i++
				level--
				state = stAfter
			case c == '{':
				state = stKey
			}
		case stAfter:
			if level == 0 {
				return i
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return s.fail(i, "unexpected end of input")
			}
			obj := isObj[(level-1)>>6]&(1<<((level-1)&63)) != 0
			switch c := b[i]; {
			case c == ',':
				i++
				if obj {
					state = stKey
				} else {
					state = stValue
				}
			case obj && c == '}', !obj && c == ']':
				i++
				level--
			case obj:
				return s.fail(i, "expected ',' or '}' after object value")
			default:
				return s.fail(i, "expected ',' or ']' after array element")
			}
		case stKey:
			i = skipWS(b, i)
			if i >= len(b) || b[i] != '"' {
				return s.fail(i, "expected string for object key")
			}
			if i = s.skipString(i); i < 0 {
				return -1
			}
			i = skipWS(b, i)
			if i >= len(b) || b[i] != ':' {
				return s.fail(i, "expected ':' after object key")
			}
			i++
			state = stValue
		}
	}
}

// objectIter walks the members of one object in a single pass. After next
// reports a member, the caller must move past its value, either with skip or
// by walking it (for example with a nested objectIter) and calling setEnd.
type objectIter struct {
	s     *scanner
	i     int // position: after '{' or after the previous value
	depth int // containers enclosing the member values (this object included)
	n     int // members seen so far
	end   int // index just after '}' once next has returned false without error
}

// openObject starts iterating the object at i, which is nested inside depth
// containers. It returns false (with s.err set) if no object starts at i.
func (s *scanner) openObject(i, depth int) (objectIter, bool) {
	if i >= len(s.b) || s.b[i] != '{' {
		s.fail(i, "expected a JSON object")
		return objectIter{}, false
	}
	if depth+1 > maxDepth {
		s.fail(i, "nesting too deep")
		return objectIter{}, false
	}
	return objectIter{s: s, i: i + 1, depth: depth + 1}, true
}

// next reads the next key and returns its raw bytes (between the quotes,
// escapes not decoded) and the index where its value starts, which is always
// within s.b. It returns
// ok=false at the closing brace or on a syntax error (see scanner.failed).
func (it *objectIter) next() (key []byte, val int, ok bool) {
	s := it.s
	b := s.b
	i := skipWS(b, it.i)
	if i >= len(b) {
		s.fail(i, "unexpected end of input in object")
		return nil, 0, false
	}
	if it.n > 0 {
		switch b[i] {
		case '}':
			it.end = i + 1
			return nil, 0, false
		case ',':
			i = skipWS(b, i+1)
		default:
			s.fail(i, "expected ',' or '}' after object value")
			return nil, 0, false
		}
	} else if b[i] == '}' {
		it.end = i + 1
		return nil, 0, false
	}
	if i >= len(b) || b[i] != '"' {
		s.fail(i, "expected string for object key")
		return nil, 0, false
	}
	ks := i
	if i = s.skipString(i); i < 0 {
		return nil, 0, false
	}
	key = b[ks+1 : i-1]
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		s.fail(i, "expected ':' after object key")
		return nil, 0, false
	}
	i = skipWS(b, i+1)
	if i >= len(b) {
		s.fail(i, "unexpected end of input, expected a value")
		return nil, 0, false
	}
	it.n++
	it.i = i
	return key, i, true
}

// skip validates the member value starting at val and returns its end, or
// -1 on a syntax error.
func (it *objectIter) skip(val int) int {
	end := it.s.skipValue(val, it.depth)
	it.i = end
	return end
}

// setEnd records that the caller walked the current value itself and that
// it ends at end.
func (it *objectIter) setEnd(end int) { it.i = end }

// keyName returns the decoded name of a raw key, or ok=false when the name
// contains anything but ASCII or is longer than buf: such a name can never
// equal one of the fixed keys this package looks for. Most keys contain no
// escapes and are returned as they are, without copying.
func keyName(raw []byte, buf *[32]byte) (name []byte, ok bool) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw, true
	}
	n := 0
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			if c >= 0x80 || n == len(buf) {
				return nil, false
			}
			buf[n] = c
			n++
			i++
			continue
		}
		// The scanner already validated the escape, so the bytes exist.
		var d byte
		switch raw[i+1] {
		case 'b':
			d = '\b'
		case 'f':
			d = '\f'
		case 'n':
			d = '\n'
		case 'r':
			d = '\r'
		case 't':
			d = '\t'
		case 'u':
			v := hexVal(raw[i+2])<<12 | hexVal(raw[i+3])<<8 | hexVal(raw[i+4])<<4 | hexVal(raw[i+5])
			if v >= 0x80 {
				return nil, false
			}
			d = byte(v)
			i += 4
		default: // '"', '\\', '/'
			d = raw[i+1]
		}
		if n == len(buf) {
			return nil, false
		}
		buf[n] = d
		n++
		i += 2
	}
	return buf[:n], true
}

func hexVal(c byte) int {
	switch {
	case c <= '9':
		return int(c - '0')
	default:
		return int(c|0x20) - 'a' + 10
	}
}

// parseCount returns the non-negative integer spelled by the number token
// v, or 0 when v is not a plain non-negative integer that fits in 53 bits
// (fractions, exponents, negative numbers, strings and null all give 0).
func parseCount(v []byte) int {
	if len(v) == 0 || len(v) > 16 {
		return 0
	}
	n := 0
	for _, c := range v {
		if !isDigit(c) {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
