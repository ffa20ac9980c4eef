package config

import _ "embed"

// Example is a complete, commented configuration file that [Parse] accepts:
// one pool of four vLLM endpoints on 127.0.0.1:8001-8004, a base model with
// LoRA adapters, and the objectives "critical" and "batch". The README points
// to it and a command prints it. Treat it as read-only.
//
//go:embed testdata/example.yaml
var Example []byte
