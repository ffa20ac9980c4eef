package modelmetrics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/infergate/infergate/internal/pool"
)

// MaxBodyBytes is the largest exposition (and /v1/models body) the package
// reads. A vLLM exposition is about 60 KiB; a larger body is refused rather
// than buffered.
const MaxBodyBytes = 4 << 20

// ErrMissingFamily reports that an exposition lacks a metric family the
// engine must expose (queue length, running requests or KV-cache usage). The
// endpoint probably runs another engine, or a version we do not know.
var ErrMissingFamily = errors.New("metric family missing")

// errBodyTooLarge reports a body longer than MaxBodyBytes.
var errBodyTooLarge = fmt.Errorf("body exceeds %d bytes", MaxBodyBytes)

// Parse reads one model-server exposition in the Prometheus text format from
// r and maps it to [pool.Metrics] for engine, with ScrapedAt set to now.
//
// Only the families the engine's signals come from are parsed; a defect in
// any other family does not fail the parse. The required families (waiting
// queue, running requests, KV-cache usage) must be present and typed gauge or
// untyped; otherwise Parse returns an error wrapping [ErrMissingFamily] or
// describing the type. Parse reads at most [MaxBodyBytes] from r.
//
// Series of one family are combined as follows: counts are summed (several
// engines or data-parallel ranks behind one port), KV-cache usage is the mean
// of the series, clamped to [0, 1]. See the package documentation for the
// LoRA and cache-geometry rules.
func Parse(r io.Reader, engine pool.Engine, now time.Time) (*pool.Metrics, error) {
	spec := specFor(engine)
	if spec == nil {
		return nil, fmt.Errorf("parse exposition: unknown engine %q", engine)
	}
	p := newParser()
	if err := p.readBody(r); err != nil {
		return nil, err
	}
	return p.metrics(spec, now)
}

// parser holds the buffers one parse needs, so that a scrape loop can reuse
// them. A parser is not safe for concurrent use.
type parser struct {
	body     bytes.Buffer
	filtered []byte
	rd       bytes.Reader
	text     expfmt.TextParser
}

func newParser() *parser {
	return &parser{text: expfmt.NewTextParser(model.LegacyValidation)}
}

// readBody reads all of r, up to MaxBodyBytes, into p.body.
func (p *parser) readBody(r io.Reader) error {
	p.body.Reset()
	n, err := p.body.ReadFrom(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		return fmt.Errorf("read exposition: %w", err)
	}
	if n > MaxBodyBytes {
		return fmt.Errorf("read exposition: %w", errBodyTooLarge)
	}
	return nil
}

// metrics parses p.body for spec.
func (p *parser) metrics(spec *engineSpec, now time.Time) (*pool.Metrics, error) {
	fams, err := p.families(spec.families)
	if err != nil {
		return nil, err
	}
	return metricsFrom(fams, spec, now)
}

// families parses the families named in names (and nothing else, where
// possible) from p.body.
//
// A full text parse of a vLLM exposition spends nearly all its time on
// histogram families the gateway never reads, so the lines of the wanted
// families are copied out first and only those are handed to the text
// parser. When a line uses a construct the pre-filter cannot attribute to a
// family with certainty (a quoted metric name, or a name inside the braces),
// the whole body is parsed instead. Either way, the wanted families come out
// exactly as a full parse would produce them.
func (p *parser) families(names []string) (map[string]*dto.MetricFamily, error) {
	in := p.body.Bytes()
	if filtered, ok := filterLines(p.filtered[:0], in, names); ok {
		p.filtered = filtered
		in = filtered
	}
	p.rd.Reset(in)
	fams, err := p.text.TextToMetricFamilies(&p.rd)
	if err != nil {
		return nil, fmt.Errorf("parse exposition: %w", err)
	}
	return fams, nil
}

// filterLines appends to dst the lines of in that belong to one of the
// families in names: their HELP and TYPE comments and their samples,
// including _count, _sum and _bucket samples, which the text parser may
// attribute to a family of that name. It reports false when some line's
// family cannot be told without a full parse.
func filterLines(dst, in []byte, names []string) ([]byte, bool) {
	for len(in) > 0 {
		line := in
		if i := bytes.IndexByte(in, '\n'); i >= 0 {
			line, in = in[:i+1], in[i+1:]
		} else {
			in = nil
		}
		name, ok := lineFamily(line)
		if !ok {
			return dst, false
		}
		if name != nil && wanted(name, names) {
			dst = append(dst, line...)
		}
	}
	return dst, true
}

// lineFamily returns the metric name a text-format line refers to: the name
// of a sample, or the name after "# HELP" or "# TYPE". It returns nil for
// blank lines, other comments and lines without a name, and false when the
// name is quoted or the line starts with a brace, which only a full parse can
// resolve. It follows the tokenisation of expfmt's text parser.
func lineFamily(line []byte) ([]byte, bool) {
	i := skipBlank(line, 0)
	if i == len(line) {
		return nil, true
	}
	switch line[i] {
	case '\n':
		return nil, true
	case '{', '"':
		return nil, false
	case '#':
		i = skipBlank(line, i+1)
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != '\n' {
			j++
		}
		if kw := string(line[i:j]); kw != "HELP" && kw != "TYPE" {
			return nil, true
		}
		if j == len(line) || line[j] == '\n' {
			return nil, true
		}
		i = skipBlank(line, j)
		if i < len(line) && line[i] == '"' {
			return nil, false
		}
	}
	j := i
	for j < len(line) && nameByte[line[j]] {
		j++
	}
	if j < len(line) && line[j] == '"' {
		return nil, false
	}
	if j == i {
		return nil, true
	}
	return line[i:j], true
}

// wanted reports whether name is one of names, or one of them followed by
// _count, _sum or _bucket.
func wanted(name []byte, names []string) bool {
	for _, n := range names {
		if len(name) < len(n) || string(name[:len(n)]) != n {
			continue
		}
		switch string(name[len(n):]) {
		case "", "_count", "_sum", "_bucket":
			return true
		}
	}
	return false
}

func skipBlank(line []byte, i int) int {
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	return i
}

// nameByte marks the bytes that may appear in an unquoted metric name.
var nameByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['_'], t[':'] = true, true
	return t
}()
