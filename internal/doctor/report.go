package doctor

import (
	"fmt"
	"io"
	"strings"
)

// Verdict is the outcome of one check.
type Verdict int

// Verdicts, from good to bad; Skip means the check could not run.
const (
	// Pass means the check found nothing wrong.
	Pass Verdict = iota
	// Warn flags something worth knowing that is not a failure.
	Warn
	// Fail is a problem; Fix says what to do.
	Fail
	// Skip means the check did not run (an earlier one failed, or it needs
	// something not available here).
	Skip
)

// Symbol returns the verdict's mark: ✓, !, ✗ or –.
func (v Verdict) Symbol() string {
	switch v {
	case Pass:
		return "✓"
	case Warn:
		return "!"
	case Fail:
		return "✗"
	}
	return "–"
}

// String returns the verdict's name.
func (v Verdict) String() string {
	switch v {
	case Pass:
		return "pass"
	case Warn:
		return "warn"
	case Fail:
		return "fail"
	}
	return "skip"
}

// Check names, in the order Run reports them. CheckCluster and the checks
// from CheckPods on run only with [Options.Cluster].
const (
	CheckCluster     = "cluster"
	CheckToken       = "token"
	CheckReachable   = "reachable"
	CheckAuth        = "auth"
	CheckExposition  = "exposition"
	CheckRequests    = "requests"
	CheckLatency     = "latency"
	CheckReadyPods   = "ready pods"
	CheckPoolGauges  = "pool gauges"
	CheckBuildInfo   = "build info"
	CheckLive        = "live"
	CheckPods        = "pods"
	CheckMetricsPort = "metrics port"
	CheckMetricsRBAC = "metrics rbac"
	CheckSecretRBAC  = "secret rbac"
	CheckMonitoring  = "monitoring"
)

// Check is one line of the report.
type Check struct {
	// Name is one of the Check* constants.
	Name string
	// Verdict is the outcome.
	Verdict Verdict
	// Detail says what was found, in one line.
	Detail string
	// Fix says what to do, in one line; set for Fail and sometimes Warn.
	Fix string
}

// Report is the outcome of [Run].
type Report struct {
	// Target is the URL that was checked.
	Target string
	// Checks are in the order they ran.
	Checks []Check
}

// add appends a check.
func (r *Report) add(name string, v Verdict, detail, fix string) {
	r.Checks = append(r.Checks, Check{Name: name, Verdict: v, Detail: detail, Fix: fix})
}

// Failed returns the number of failed checks.
func (r *Report) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if c.Verdict == Fail {
			n++
		}
	}
	return n
}

// Find returns the check named name, and whether there is one.
func (r *Report) Find(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Write prints the report: a header, one line per check (mark, name,
// detail), an indented "fix:" line under failures and warnings that have
// one, and a summary line.
func (r *Report) Write(w io.Writer) error {
	width := 12
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "infergate doctor: %s\n\n", r.Target)
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%s %-*s %s\n", c.Verdict.Symbol(), width, c.Name, c.Detail)
		if c.Fix != "" && (c.Verdict == Fail || c.Verdict == Warn) {
			fmt.Fprintf(&b, "    fix: %s\n", c.Fix)
		}
	}
	switch n := r.Failed(); n {
	case 0:
		fmt.Fprintf(&b, "\nNo problems found.\n")
	case 1:
		fmt.Fprintf(&b, "\n1 problem found.\n")
	default:
		fmt.Fprintf(&b, "\n%d problems found.\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
