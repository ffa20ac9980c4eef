package monitoring

import (
	"regexp"
	"strings"
)

var (
	dnsLabelRE   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	labelNameRE  = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	secretKeyRE  = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	portNameRE   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	promLabelRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	hasLetterRE  = regexp.MustCompile(`[a-z]`)
	sanitizeRE   = regexp.MustCompile(`[^a-zA-Z0-9_]`)
	protectedSet = map[string]bool{
		"project_id": true, "location": true, "cluster": true, "namespace": true,
		"job": true, "instance": true, "__address__": true,
		"top_level_controller_name": true, "top_level_controller_type": true,
	}
)

// protectedLabels lists, sorted, the labels GMP sets on every target and
// refuses to let relabeling write or drop.
var protectedLabels = []string{
	"__address__", "cluster", "instance", "job", "location", "namespace", "project_id",
	"top_level_controller_name", "top_level_controller_type",
}

// validDNSSubdomain reports whether s is a Kubernetes object name (RFC 1123
// subdomain).
func validDNSSubdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for part := range strings.SplitSeq(s, ".") {
		if !dnsLabelRE.MatchString(part) {
			return false
		}
	}
	return true
}

// validDNSLabel reports whether s is a namespace name (RFC 1123 label).
func validDNSLabel(s string) bool { return len(s) <= 63 && dnsLabelRE.MatchString(s) }

// validLabelKey reports whether s is a Kubernetes label key: an optional
// DNS-subdomain prefix and "/", then a name of at most 63 characters.
func validLabelKey(s string) bool {
	prefix, name, found := strings.Cut(s, "/")
	if !found {
		name, prefix = prefix, ""
	} else if !validDNSSubdomain(prefix) {
		return false
	}
	return len(name) <= 63 && labelNameRE.MatchString(name)
}

// validLabelValue reports whether s is a Kubernetes label value.
func validLabelValue(s string) bool { return s == "" || len(s) <= 63 && labelNameRE.MatchString(s) }

// validSecretKey reports whether s is a valid key of a Secret's data.
func validSecretKey(s string) bool { return len(s) <= 253 && secretKeyRE.MatchString(s) }

// validPortName reports whether s can name a container port (IANA service
// name: at most 15 characters, lowercase letters, digits and single
// hyphens, at least one letter).
func validPortName(s string) bool {
	return len(s) <= 15 && portNameRE.MatchString(s) && hasLetterRE.MatchString(s) && !strings.Contains(s, "--")
}

// validPromLabel reports whether s is a Prometheus label name.
func validPromLabel(s string) bool { return promLabelRE.MatchString(s) }

// sanitizeLabelName replaces what Prometheus' Kubernetes discovery replaces
// in label names when it builds __meta_kubernetes_pod_label_<name>.
func sanitizeLabelName(s string) string { return sanitizeRE.ReplaceAllString(s, "_") }
