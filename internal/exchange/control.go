package exchange

import (
	"strconv"
	"unicode/utf8"

	"github.com/infergate/infergate/internal/openai"
)

// MaxControlValueBytes is the longest control header value accepted; longer
// values get 400, like model names longer than [openai.MaxModelNameBytes].
const MaxControlValueBytes = openai.MaxModelNameBytes

// DefaultFairnessID is the flow of a request that names none, as upstream's
// picker does.
const DefaultFairnessID = "default-flow"

// ControlHeaders lists every spelling of every header a client could steer
// routing with (the SLO headers and the conformance suite's selection
// header included), in lower case. The conformance report headers are
// response headers the picker sets, not control headers. When control headers are not
// trusted a front end removes them all before routing, so they neither
// steer the gateway nor reach the replica.
var ControlHeaders = []string{
	HeaderObjective, HeaderObjectiveLegacy,
	HeaderModelRewrite, HeaderModelRewriteLegacy,
	HeaderFairnessID, HeaderFairnessIDLegacy,
	HeaderSLOTTFT, HeaderSLOTTFTLegacy, HeaderSLOTPOT, HeaderSLOTPOTLegacy,
	HeaderEndpointSelection,
}

// Control holds the validated control values of one request. Strings are
// valid UTF-8 without control characters and at most [MaxControlValueBytes]
// long, so they are safe for lookups, logs and (capped) labels.
type Control struct {
	// Objective names the InferenceObjective; "" for none.
	Objective string
	// Rewrite overrides the target model; "" for none.
	Rewrite string
	// FairnessID names the request's flow; [DefaultFairnessID] when absent.
	FairnessID string
	// SLOTTFTMillis and SLOTPOTMillis are the client's latency objectives
	// in milliseconds; 0 when absent.
	SLOTTFTMillis, SLOTPOTMillis int64
}

// ReadControl reads the control values through get, which returns the first
// value of the named header (lower-case name) or "". Each value is read from
// llm-d's spelling first, then the older ones. A value that is too long, not
// UTF-8 text, holds control characters or (for SLOs) is not a non-negative
// integer gets a 400 naming the header.
func ReadControl(get func(name string) string) (Control, error) {
	var c Control
	var err error
	if c.Objective, err = controlValue(get, HeaderObjective, HeaderObjectiveLegacy); err != nil {
		return Control{}, err
	}
	if c.Rewrite, err = controlValue(get, HeaderModelRewrite, HeaderModelRewriteLegacy); err != nil {
		return Control{}, err
	}
	if c.FairnessID, err = controlValue(get, HeaderFairnessID, HeaderFairnessIDLegacy); err != nil {
		return Control{}, err
	}
	if c.FairnessID == "" {
		c.FairnessID = DefaultFairnessID
	}
	if c.SLOTTFTMillis, err = sloValue(get, HeaderSLOTTFT, HeaderSLOTTFTLegacy); err != nil {
		return Control{}, err
	}
	if c.SLOTPOTMillis, err = sloValue(get, HeaderSLOTPOT, HeaderSLOTPOTLegacy); err != nil {
		return Control{}, err
	}
	return c, nil
}

// controlValue returns the value of the first spelling that has one,
// validated.
func controlValue(get func(string) string, current, legacy string) (string, error) {
	name, s := current, get(current)
	if s == "" {
		name, s = legacy, get(legacy)
	}
	if s == "" {
		return "", nil
	}
	if len(s) > MaxControlValueBytes {
		return "", openai.ErrTooLong(name, MaxControlValueBytes, len(s))
	}
	if !utf8.ValidString(s) || HasControlChar(s) {
		return "", openai.ErrBadRequest("Invalid '"+name+"' header: the value must be UTF-8 text without control characters.", name)
	}
	return s, nil
}

// maxSLOMillis bounds an SLO header (one day).
const maxSLOMillis = 24 * 60 * 60 * 1000

// sloValue returns an SLO header's milliseconds, 0 when absent.
func sloValue(get func(string) string, current, legacy string) (int64, error) {
	name, s := current, get(current)
	if s == "" {
		name, s = legacy, get(legacy)
	}
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if len(s) > 16 || err != nil || n < 0 || n > maxSLOMillis {
		return 0, openai.ErrBadRequest("Invalid '"+name+"' header: the value must be a whole number of milliseconds between 0 and "+strconv.Itoa(maxSLOMillis)+".", name)
	}
	return n, nil
}

// HasControlChar reports whether s holds an ASCII control character.
func HasControlChar(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}
