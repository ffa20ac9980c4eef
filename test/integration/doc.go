// Package integration holds end-to-end tests that run the real infergate
// binary: simulator processes, the gateway process and clients speaking HTTP
// over loopback (the official OpenAI Go SDK among them). The binary is built
// once in TestMain.
package integration
