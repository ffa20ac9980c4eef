package bench

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat. The
// kernel reports them in 1/100 s on every architecture Go supports.
const clockTicks = 100

// maxTicks bounds each CPU time read from /proc/<pid>/stat so that their
// sum converts to a time.Duration without overflow (about 14,600 years).
const maxTicks = math.MaxInt64 / 2 / int64(time.Second/clockTicks)

// procUsage is a process's resource use read from /proc.
type procUsage struct {
	// CPU is user plus system CPU time of all its threads.
	CPU time.Duration
	// PeakRSS is the peak resident set size (VmHWM) in bytes.
	PeakRSS int64
}

// readProcUsage reads the CPU time and peak RSS of process pid.
func readProcUsage(pid int) (procUsage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procUsage{}, fmt.Errorf("read process stats: %w", err)
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return procUsage{}, fmt.Errorf("read process stats: %w", err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procUsage{}, fmt.Errorf("read process status: %w", err)
	}
	return procUsage{CPU: cpu, PeakRSS: parseStatusKB(status, "VmHWM:") * 1024}, nil
}

// parseStatCPU returns utime+stime from the contents of /proc/<pid>/stat.
// The command name (field 2) may contain spaces and parentheses, so fields
// are counted from the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat")
	}
	f := bytes.Fields(stat[i+1:])
	// After the name: state is field 3, utime field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed stat: %d fields", len(f))
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil || utime < 0 || stime < 0 || utime > maxTicks || stime > maxTicks {
		return 0, fmt.Errorf("malformed stat times")
	}
	return time.Duration(utime+stime) * (time.Second / clockTicks), nil
}

// parseStatusKB returns the value in kB of the line starting with key in
// the contents of /proc/<pid>/status, or 0.
func parseStatusKB(status []byte, key string) int64 {
	for line := range bytes.SplitSeq(status, []byte{'\n'}) {
		if rest, ok := bytes.CutPrefix(line, []byte(key)); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				v, err := strconv.ParseInt(string(f[0]), 10, 64)
				if err == nil && v >= 0 {
					return v
				}
			}
		}
	}
	return 0
}

// usageSince is a process's resource use between two readings, over
// requests requests.
func usageSince(before, after procUsage, requests int) *GatewayUsage {
	cpu := (after.CPU - before.CPU).Seconds()
	return &GatewayUsage{
		CPUSeconds:      cpu,
		CPUMsPerRequest: cpu * 1000 / float64(max(requests, 1)),
		PeakRSSMiB:      float64(after.PeakRSS) / (1 << 20),
	}
}
