package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// WriteReport writes the report folder dir: report.json, summary.md and the
// PNG plots. It creates dir if needed and records the plots in rep.Plots.
func WriteReport(dir string, rep *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	plots, err := writePlots(dir, rep)
	if err != nil {
		return err
	}
	rep.Plots = plots
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "summary.md"))
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := WriteMarkdown(f, rep); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
