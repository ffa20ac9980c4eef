package bench

import (
	"bufio"
	"fmt"
	"io"
)

// MaxSendLagMs is how late (model ms) the load generator may send a
// request compared with its schedule before the run is reported as one
// the host could not keep up with: its requests arrived bunched, so its
// latencies are not those of the scenario's arrival process.
const MaxSendLagMs = 1000

// laggedRuns lists, as "scenario strategy @point (lag)", the runs whose
// load generator fell behind by more than [MaxSendLagMs].
func laggedRuns(rep *Report) []string {
	var out []string
	for _, sc := range rep.Scenarios {
		for _, r := range sc.Runs {
			if r.Failed == "" && r.SendLagMaxMs > MaxSendLagMs {
				out = append(out, fmt.Sprintf("%s %s @%g (%.1f s)", sc.Name, r.Strategy, r.Point, r.SendLagMaxMs/1000))
			}
		}
	}
	return out
}

// sendLagWarning is the warning printed under the tables when runs lagged.
const sendLagWarning = "The host could not keep up: the load generator sent requests later than scheduled " +
	"(by more than 1 s of model time) in the runs below, so their arrivals bunched and their latencies, " +
	"and the targets read from them, are not those of the scenario; run again on a quieter machine:"

// writeSendLagWarning writes the warning and the lagged runs, if any, as
// text (markdown false) or as a Markdown section.
func writeSendLagWarning(w io.Writer, rep *Report, markdown bool) {
	runs := laggedRuns(rep)
	if len(runs) == 0 {
		return
	}
	b := bufio.NewWriter(w)
	if markdown {
		b.WriteString("## Warning: the host could not keep up\n\n")
	} else {
		b.WriteString("\nWARNING: ")
	}
	b.WriteString(sendLagWarning + "\n")
	if markdown {
		b.WriteString("\n")
	}
	for _, r := range runs {
		fmt.Fprintf(b, "- %s\n", r)
	}
	if markdown {
		b.WriteString("\n")
	}
	b.Flush()
}
