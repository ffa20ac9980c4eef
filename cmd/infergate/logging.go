package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"
)

// logFlags are the logging flags every long-running subcommand takes.
type logFlags struct {
	level  string
	format string
}

func (f *logFlags) bind(fs *pflag.FlagSet, defaultLevel string) {
	fs.StringVar(&f.level, "log-level", defaultLevel, "log level: debug, info, warn or error")
	fs.StringVar(&f.format, "log-format", "text", "log format: text or json")
}

// logger builds the process logger writing to w.
func (f *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", f.level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(f.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", f.format)
}
