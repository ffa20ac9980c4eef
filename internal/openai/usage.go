package openai

// Usage is the token accounting of one response, from its "usage" object.
// Counts that are absent or not plain non-negative integers are 0.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
	// CachedTokens is usage.prompt_tokens_details.cached_tokens (the spec's
	// spelling); usage.prompt_token_details.cached_tokens is accepted when the
	// former is absent.
	CachedTokens int
}

// ParseUsage returns the top-level "usage" object of b, a complete JSON
// response or the payload of one SSE data event. ok is false when b is not
// a valid JSON object or its last "usage" member is not an object.
func ParseUsage(b []byte) (Usage, bool) {
	p, ok := scanPayload(b)
	return p.usage, ok && p.hasUsage
}

// payload is what the gateway reads from a response object.
type payload struct {
	usage        Usage
	hasUsage     bool // the last "usage" member is an object
	choicesEmpty bool // "choices" is absent, null or []
}

// usageOnly reports whether the payload is the extra chunk a server sends
// for stream_options.include_usage: usage set and no choices.
func (p payload) usageOnly() bool { return p.hasUsage && p.choicesEmpty }

// scanPayload validates the JSON object b in one pass and extracts its
// top-level "usage" and whether "choices" is empty. ok is false when b is not
// exactly one valid JSON object (surrounding whitespace allowed).
func scanPayload(b []byte) (payload, bool) {
	p := payload{choicesEmpty: true}
	s := scanner{b: b}
	it, ok := s.openObject(skipWS(b, 0), 0)
	if !ok {
		return payload{}, false
	}
	var buf [32]byte
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		name, _ := keyName(key, &buf)
		switch string(name) {
		case "usage":
			if b[val] == '{' {
				u, end := s.parseUsageObject(val, it.depth)
				if end < 0 {
					return payload{}, false
				}
				it.setEnd(end)
				p.usage, p.hasUsage = u, true
				continue
			}
			p.usage, p.hasUsage = Usage{}, false
		case "choices":
			p.choicesEmpty = b[val] == 'n' || (b[val] == '[' && skipWS(b, val+1) < len(b) && b[skipWS(b, val+1)] == ']')
		}
		if it.skip(val) < 0 {
			return payload{}, false
		}
	}
	if s.failed() || skipWS(b, it.end) != len(b) {
		return payload{}, false
	}
	return p, true
}

// parseUsageObject walks the usage object at i, nested inside depth
// containers, and returns it with the index just after it (-1 on error).
func (s *scanner) parseUsageObject(i, depth int) (Usage, int) {
	var (
		u               Usage
		buf             [32]byte
		spec, alt       int  // cached_tokens from each spelling of the details member
		specSet, altSet bool // whether that spelling carried cached_tokens
	)
	it, ok := s.openObject(i, depth)
	if !ok {
		return Usage{}, -1
	}
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		name, _ := keyName(key, &buf)
		f := string(name)
		if (f == "prompt_tokens_details" || f == "prompt_token_details") && s.b[val] == '{' {
			cached, present, end := s.parseDetails(val, it.depth)
			if end < 0 {
				return Usage{}, -1
			}
			it.setEnd(end)
			if f == "prompt_tokens_details" {
				spec, specSet = cached, present
			} else {
				alt, altSet = cached, present
			}
			continue
		}
		end := it.skip(val)
		if end < 0 {
			return Usage{}, -1
		}
		switch f {
		case "prompt_tokens":
			u.PromptTokens = parseCount(s.b[val:end])
		case "completion_tokens":
			u.CompletionTokens = parseCount(s.b[val:end])
		case "total_tokens":
			u.TotalTokens = parseCount(s.b[val:end])
		case "prompt_tokens_details": // not an object
			spec, specSet = 0, false
		case "prompt_token_details":
			alt, altSet = 0, false
		}
	}
	if s.failed() {
		return Usage{}, -1
	}
	switch {
	case specSet:
		u.CachedTokens = spec
	case altSet:
		u.CachedTokens = alt
	}
	return u, it.end
}

// parseDetails walks a prompt_tokens_details object and returns its
// cached_tokens, whether that member was present, and the end index.
func (s *scanner) parseDetails(i, depth int) (cached int, present bool, end int) {
	var buf [32]byte
	it, ok := s.openObject(i, depth)
	if !ok {
		return 0, false, -1
	}
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		e := it.skip(val)
		if e < 0 {
			return 0, false, -1
		}
		if name, _ := keyName(key, &buf); string(name) == "cached_tokens" {
			cached, present = parseCount(s.b[val:e]), s.b[val] != 'n'
		}
	}
	if s.failed() {
		return 0, false, -1
	}
	return cached, present, it.end
}
