package config

// TLS turns on HTTPS on the gateway's listeners. Each listener serves HTTPS
// when its certificate and key files are set (both or neither), and plain
// HTTP otherwise. The files are re-read when they change.
type TLS struct {
	// Proxy is the key pair of the OpenAI proxy listener (listen).
	Proxy KeyPair `yaml:"proxy" json:"proxy"`
	// Metrics is the key pair of the metrics/admin listener
	// (metricsListen).
	Metrics KeyPair `yaml:"metrics" json:"metrics"`
}

// KeyPair names the PEM files of a certificate (chain, leaf first) and its
// private key. Both are set or neither.
type KeyPair struct {
	// CertFile is the path of the PEM certificate chain.
	CertFile string `yaml:"certFile" json:"certFile"`
	// KeyFile is the path of the PEM private key.
	KeyFile string `yaml:"keyFile" json:"keyFile"`
}

// IsSet reports whether the pair names its files.
func (k KeyPair) IsSet() bool { return k.CertFile != "" || k.KeyFile != "" }

// validate reports a pair with only one of its files set, at path.
func (k KeyPair) validate(path string) []error {
	switch {
	case k.CertFile != "" && k.KeyFile == "":
		return []error{fieldErrorf(path+".keyFile", "is required when %s.certFile is set", path)}
	case k.CertFile == "" && k.KeyFile != "":
		return []error{fieldErrorf(path+".certFile", "is required when %s.keyFile is set", path)}
	}
	return nil
}

// validate checks both listeners' pairs.
func (t TLS) validate() []error {
	return append(t.Proxy.validate("tls.proxy"), t.Metrics.validate("tls.metrics")...)
}

// UpstreamTLS turns on HTTPS to the model servers: proxied requests and the
// scrapes of /metrics and /v1/models.
type UpstreamTLS struct {
	// Enabled makes the gateway speak HTTPS to every endpoint. Default
	// false (plain HTTP).
	Enabled bool `yaml:"enabled" json:"enabled"`
	// CAFile is a PEM bundle of the CAs that sign the model servers'
	// certificates; empty means the system roots.
	CAFile string `yaml:"caFile" json:"caFile"`
	// CertFile and KeyFile are the gateway's client certificate, for model
	// servers that require one; both or neither. Re-read when they change.
	CertFile string `yaml:"certFile" json:"certFile"`
	KeyFile  string `yaml:"keyFile" json:"keyFile"`
	// ServerName is the name checked against the model servers'
	// certificates (and sent as SNI); empty means each endpoint's host.
	ServerName string `yaml:"serverName" json:"serverName"`
	// InsecureSkipVerify accepts any server certificate. For tests only: it
	// lets anyone on the path read and change the traffic.
	InsecureSkipVerify bool `yaml:"insecureSkipVerify" json:"insecureSkipVerify"`
}

// ClientPair returns the client certificate's files as a [KeyPair].
func (u UpstreamTLS) ClientPair() KeyPair {
	return KeyPair{CertFile: u.CertFile, KeyFile: u.KeyFile}
}

// validate reports half-set client pairs, settings that would be ignored
// because TLS is off, and a CA file that InsecureSkipVerify would ignore.
func (u UpstreamTLS) validate() []error {
	const path = "upstream.tls"
	errs := u.ClientPair().validate(path)
	if !u.Enabled && (u.CAFile != "" || u.ClientPair().IsSet() || u.ServerName != "" || u.InsecureSkipVerify) {
		errs = append(errs, fieldErrorf(path+".enabled", "must be true when other upstream.tls settings are set (traffic to model servers would stay plain HTTP)"))
	}
	if u.InsecureSkipVerify && u.CAFile != "" {
		errs = append(errs, fieldErrorf(path+".insecureSkipVerify", "cannot be combined with upstream.tls.caFile (the CA would not be checked)"))
	}
	return errs
}
