package main

import (
	"log/slog"
	"path/filepath"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/infergate/infergate/internal/config"
)

// extProcFlags are serve's ext_proc flags: infergate's own and upstream
// endpoint picker's, so an upstream manifest runs with the image swapped.
type extProcFlags struct {
	listen        string
	plaintext     bool
	grpcPort      int
	healthPort    int
	secureServing bool
	certPath      string
	// Upstream's flags accepted and ignored (with a warning).
	verbosity   int
	zapEncoder  string
	configFile  string
	metricsPort int
}

func (f *extProcFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.listen, "extproc-listen", "", `Envoy ext_proc gRPC listen address, "off" to turn it off (overrides extProc.listen)`)
	fs.BoolVar(&f.plaintext, "extproc-plaintext", false, "serve ext_proc without TLS (its gRPC health service is always plaintext)")
	fs.IntVar(&f.grpcPort, "grpc-port", 0, "upstream alias: ext_proc listens on :PORT")
	fs.IntVar(&f.healthPort, "grpc-health-port", 0, "upstream alias: gRPC health listens on :PORT")
	fs.BoolVar(&f.secureServing, "secure-serving", true, "upstream alias: false serves ext_proc without TLS")
	fs.StringVar(&f.certPath, "cert-path", "", "upstream alias: directory holding tls.crt and tls.key for ext_proc")
	fs.IntVar(&f.verbosity, "v", 0, "upstream's log verbosity: accepted and ignored (use --log-level)")
	fs.StringVar(&f.zapEncoder, "zap-encoder", "", "upstream's log encoder: accepted and ignored (use --log-format)")
	fs.StringVar(&f.configFile, "config-file", "", "upstream's EndpointPickerConfig file: accepted and ignored (use --config)")
	fs.IntVar(&f.metricsPort, "metrics-port", 0, "upstream's metrics port: accepted and ignored (use --metrics-listen)")
}

// apply sets the ext_proc config from the flags that were given; kubePool
// is the single --pool-name, when exactly one was given: ext_proc then
// defaults on at upstream's ports unless the file or a flag configured it.
func (f *extProcFlags) apply(fs *pflag.FlagSet, c *config.Config, kubePool string) {
	e := &c.ExtProc
	if kubePool != "" {
		if e.Listen == "" {
			e.Listen = config.DefaultExtProcListen
		}
		if e.HealthListen == "" {
			e.HealthListen = config.DefaultExtProcHealthListen
		}
	}
	if fs.Changed("grpc-port") {
		e.Listen = ":" + strconv.Itoa(f.grpcPort)
	}
	if fs.Changed("grpc-health-port") {
		e.HealthListen = ":" + strconv.Itoa(f.healthPort)
	}
	if fs.Changed("extproc-listen") {
		e.Listen = f.listen
	}
	if fs.Changed("secure-serving") && !f.secureServing {
		e.Plaintext = true
	}
	if fs.Changed("extproc-plaintext") {
		e.Plaintext = f.plaintext
	}
	if fs.Changed("cert-path") && f.certPath != "" {
		e.TLS = config.KeyPair{CertFile: filepath.Join(f.certPath, "tls.crt"), KeyFile: filepath.Join(f.certPath, "tls.key")}
	}
}

// warnIgnored logs upstream's flags that were given but have no effect here.
func (f *extProcFlags) warnIgnored(fs *pflag.FlagSet, log *slog.Logger) {
	for _, name := range []string{"v", "zap-encoder", "config-file", "metrics-port"} {
		if fs.Changed(name) {
			log.Warn("flag accepted for compatibility with upstream's endpoint picker and ignored", "flag", "--"+name)
		}
	}
}
