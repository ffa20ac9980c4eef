package envoystandin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// A stand-in run as its own process (`infergate envoy-standin`, see
// [Serve]) announces itself on its standard output with two lines: the
// ready line once it listens, and the stats line when it has stopped.
const (
	// ReadyPrefix starts the ready line; the listener's base URL follows.
	ReadyPrefix = "envoy-standin listening on "
	// StatsPrefix starts the stats line; [Stats] as JSON follows.
	StatsPrefix = "envoy-standin stats "
)

// maxAnnounceLine bounds a line read by [ReadAnnouncements].
const maxAnnounceLine = 64 << 10

// DefaultShutdownGrace is how long [Serve] waits for requests in flight
// when its context ends before it resets them.
const DefaultShutdownGrace = 5 * time.Second

// BindFlags binds the fields of c a process can be configured with to
// flags of fs; the fields keep their values as the flags' defaults (a zero
// field takes New's default). OnResult, TLS, SubsetHint, EndWithTrailers,
// Logger and Now have no flag.
func (c *Config) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", c.Listen, "HTTP listen address (default "+DefaultListen+")")
	fs.StringVar(&c.ExtProcAddr, "extproc-addr", c.ExtProcAddr, "the picker's ext_proc gRPC address, host:port (required)")
	fs.BoolVar(&c.Plaintext, "plaintext", c.Plaintext, "talk to the picker without TLS")
	fs.StringVar(&c.CAFile, "ca-file", c.CAFile, "PEM bundle of CAs trusted for the picker's certificate (default: the system roots)")
	fs.BoolVar(&c.InsecureSkipVerify, "insecure-skip-verify", c.InsecureSkipVerify, "accept any certificate from the picker")
	fs.StringVar(&c.ServerName, "server-name", c.ServerName, "name checked in the picker's certificate")
	fs.IntVar(&c.ChunkSize, "chunk-size", c.ChunkSize, "size of the body chunks sent to the picker in bytes (0: 16384)")
	fs.DurationVar(&c.MessageTimeout, "message-timeout", c.MessageTimeout, "ext_proc message timeout (0: 200ms; negative: none, as Envoy in FULL_DUPLEX_STREAMED)")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", c.ConnectTimeout, "upstream connect timeout (0: 5s)")
	fs.BoolVar(&c.AllowMetadataMismatch, "allow-metadata-mismatch", c.AllowMetadataMismatch, "forward to the header's destination even when envoy.lb metadata names another")
}

// Args returns the flags (see [Config.BindFlags]) that configure a
// stand-in process as c; fields without a flag are left out.
func (c Config) Args() []string {
	var a []string
	str := func(name, v string) {
		if v != "" {
			a = append(a, "--"+name+"="+v)
		}
	}
	flag := func(name string, v bool) {
		if v {
			a = append(a, "--"+name)
		}
	}
	dur := func(name string, v time.Duration) {
		if v != 0 {
			a = append(a, "--"+name+"="+v.String())
		}
	}
	str("listen", c.Listen)
	str("extproc-addr", c.ExtProcAddr)
	flag("plaintext", c.Plaintext)
	str("ca-file", c.CAFile)
	flag("insecure-skip-verify", c.InsecureSkipVerify)
	str("server-name", c.ServerName)
	if c.ChunkSize != 0 {
		a = append(a, "--chunk-size="+strconv.Itoa(c.ChunkSize))
	}
	dur("message-timeout", c.MessageTimeout)
	dur("connect-timeout", c.ConnectTimeout)
	flag("allow-metadata-mismatch", c.AllowMetadataMismatch)
	return a
}

// Serve runs a stand-in with cfg until ctx ends, as the process of
// `infergate envoy-standin` does: it writes the ready line to out once it
// listens, then, when ctx ends, stops (waiting up to
// [DefaultShutdownGrace] for requests in flight) and writes the stats
// line.
func Serve(ctx context.Context, cfg Config, out io.Writer) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(out, ReadyPrefix+s.URL()); err != nil {
		return errors.Join(fmt.Errorf("envoy stand-in: announce: %w", err), s.Close())
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownGrace)
	defer cancel()
	err = s.Shutdown(sctx)
	stats, jerr := json.Marshal(s.Stats())
	if jerr != nil {
		return errors.Join(err, fmt.Errorf("envoy stand-in: stats: %w", jerr))
	}
	if _, werr := fmt.Fprintln(out, StatsPrefix+string(stats)); werr != nil {
		err = errors.Join(err, fmt.Errorf("envoy stand-in: stats: %w", werr))
	}
	return err
}

// Announcements are what a stand-in process wrote on its standard output,
// read by [ReadAnnouncements].
type Announcements struct {
	// Ready receives the listener's base URL once, when the ready line
	// has been read.
	Ready chan string
	// Stats and StatsErr are the stats line's content and the error
	// reading it (nil when there was none); set when ReadAnnouncements has
	// returned.
	Stats    Stats
	HasStats bool
	StatsErr error
}

// NewAnnouncements returns Announcements ready for [ReadAnnouncements].
func NewAnnouncements() *Announcements {
	return &Announcements{Ready: make(chan string, 1)}
}

// ReadAnnouncements reads a stand-in process's standard output from r
// until EOF: the first ready line's URL goes to a.Ready, the stats line
// into a.Stats, every other line (and any line longer than 64 KiB) to
// rest.
func ReadAnnouncements(r io.Reader, a *Announcements, rest io.Writer) error {
	br := bufio.NewReaderSize(r, maxAnnounceLine)
	ready, long := false, false
	for {
		line, err := br.ReadSlice('\n')
		full := errors.Is(err, bufio.ErrBufferFull)
		text := strings.TrimSuffix(string(line), "\n")
		switch {
		case long || full:
			// Part of a line too long to be an announcement.
			if _, werr := rest.Write(line); werr != nil {
				return werr
			}
		case !ready && strings.HasPrefix(text, ReadyPrefix):
			ready = true
			a.Ready <- strings.TrimPrefix(text, ReadyPrefix)
		case strings.HasPrefix(text, StatsPrefix):
			a.StatsErr = json.Unmarshal([]byte(strings.TrimPrefix(text, StatsPrefix)), &a.Stats)
			a.HasStats = a.StatsErr == nil
		default:
			if _, werr := rest.Write(line); werr != nil {
				return werr
			}
		}
		long = full
		if err != nil && !full {
			return eofNil(err)
		}
	}
}

// eofNil returns nil for io.EOF, else err.
func eofNil(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
