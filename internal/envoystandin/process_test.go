package envoystandin

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestArgsRoundTrip: every field with a flag survives Args and BindFlags.
func TestArgsRoundTrip(t *testing.T) {
	in := Config{
		Listen: "127.0.0.1:7000", ExtProcAddr: "127.0.0.1:9002", CAFile: "/ca.pem", InsecureSkipVerify: true,
		ServerName: "picker", ChunkSize: 4096, MessageTimeout: -1, ConnectTimeout: 2 * time.Second,
		AllowMetadataMismatch: true,
	}
	var out Config
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	out.BindFlags(fs)
	if err := fs.Parse(in.Args()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip\n got %+v\nwant %+v", out, in)
	}
	in = Config{ExtProcAddr: "127.0.0.1:9002", Plaintext: true}
	out = Config{}
	fs = pflag.NewFlagSet("t", pflag.ContinueOnError)
	out.BindFlags(fs)
	if err := fs.Parse(in.Args()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip\n got %+v\nwant %+v", out, in)
	}
}

// TestReadAnnouncements: the ready and stats lines are taken out of the
// output, everything else (a second ready line and over-long lines
// included) passes through.
func TestReadAnnouncements(t *testing.T) {
	long := StatsPrefix + strings.Repeat("x", maxAnnounceLine+10)
	out := "log line\n" + ReadyPrefix + "http://127.0.0.1:1234\n" + ReadyPrefix + "again\n" +
		long + "\n" + StatsPrefix + `{"Requests":3,"Forwarded":2}` + "\ntail"
	a := NewAnnouncements()
	var rest bytes.Buffer
	if err := ReadAnnouncements(strings.NewReader(out), a, &rest); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-a.Ready:
		if u != "http://127.0.0.1:1234" {
			t.Errorf("ready %q", u)
		}
	default:
		t.Fatal("no ready line")
	}
	if !a.HasStats || a.Stats.Requests != 3 || a.Stats.Forwarded != 2 {
		t.Errorf("stats %+v (has %v, err %v)", a.Stats, a.HasStats, a.StatsErr)
	}
	if want := "log line\n" + ReadyPrefix + "again\n" + long + "\ntail"; rest.String() != want {
		t.Errorf("rest %d bytes %.80q, want %d bytes", rest.Len(), rest.String(), len(want))
	}
	a = NewAnnouncements()
	if err := ReadAnnouncements(strings.NewReader(StatsPrefix+"{bad\n"), a, io.Discard); err != nil || a.HasStats || a.StatsErr == nil {
		t.Errorf("bad stats line: err %v, has %v, stats err %v", err, a.HasStats, a.StatsErr)
	}
}

// TestServe: Serve announces its URL, proxies through the picker, and at
// the end of its context stops and reports its counters.
func TestServe(t *testing.T) {
	up := startUpstream(t, nil)
	_, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() {
		err := Serve(ctx, Config{ExtProcAddr: addr, Plaintext: true, MessageTimeout: 5 * time.Second}, pw)
		_ = pw.CloseWithError(err)
		served <- err
	}()
	a := NewAnnouncements()
	read := make(chan error, 1)
	var rest bytes.Buffer
	go func() { read <- ReadAnnouncements(pr, a, &rest) }()
	var url string
	select {
	case url = <-a.Ready:
	case err := <-served:
		t.Fatalf("Serve returned before listening: %v", err)
	}
	resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(`{"model":"m","prompt":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	if !a.HasStats || a.Stats.Requests != 1 || a.Stats.Forwarded != 1 {
		t.Errorf("stats %+v (err %v), want the one request", a.Stats, a.StatsErr)
	}
	if rest.Len() != 0 {
		t.Errorf("other output %q", rest.String())
	}
}
