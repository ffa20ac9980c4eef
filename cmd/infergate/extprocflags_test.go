package main

import (
	"testing"

	"github.com/spf13/pflag"

	"github.com/infergate/infergate/internal/config"
)

func TestExtProcFlagsApply(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		kubePool string
		file     config.ExtProc // what the file set
		want     config.ExtProc
	}{
		{name: "nothing", want: config.ExtProc{}},
		{name: "one pool name turns ext_proc on at upstream's ports", kubePool: "p",
			want: config.ExtProc{Listen: ":9002", HealthListen: ":9003"}},
		{name: "the file's listener wins over the default", kubePool: "p", file: config.ExtProc{Listen: "off"},
			want: config.ExtProc{Listen: "off", HealthListen: ":9003"}},
		{name: "upstream aliases", args: []string{"--grpc-port=9100", "--grpc-health-port=9101", "--secure-serving=false"},
			want: config.ExtProc{Listen: ":9100", HealthListen: ":9101", Plaintext: true}},
		{name: "cert path", args: []string{"--cert-path=/certs"},
			want: config.ExtProc{TLS: config.KeyPair{CertFile: "/certs/tls.crt", KeyFile: "/certs/tls.key"}}},
		{name: "own flags win over aliases", args: []string{"--grpc-port=9100", "--extproc-listen=127.0.0.1:7000", "--secure-serving=false", "--extproc-plaintext=false"},
			want: config.ExtProc{Listen: "127.0.0.1:7000"}},
		{name: "off", kubePool: "p", args: []string{"--extproc-listen=off"},
			want: config.ExtProc{Listen: "off", HealthListen: ":9003"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f extProcFlags
			fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			f.bind(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			c := &config.Config{ExtProc: tc.file}
			f.apply(fs, c, tc.kubePool)
			if c.ExtProc != tc.want {
				t.Errorf("extProc %+v, want %+v", c.ExtProc, tc.want)
			}
		})
	}
}
