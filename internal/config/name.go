package config

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// nameProblem describes why name is not usable as the name of a pool,
// endpoint, model, target or objective, or returns "" when it is. Names are
// free-form ("meta-llama/Llama-3.1-8B-Instruct", "llama3:8b") but must be
// non-empty valid UTF-8 without control characters or surrounding white
// space: they travel in headers, metric labels and logs.
func nameProblem(name string) string {
	switch {
	case name == "":
		return "is required"
	case !utf8.ValidString(name):
		return strconv.Quote(name) + " is not valid UTF-8"
	case strings.ContainsFunc(name, unicode.IsControl):
		return strconv.Quote(name) + " contains control characters"
	case strings.TrimSpace(name) != name:
		return strconv.Quote(name) + " has leading or trailing white space"
	}
	return ""
}
