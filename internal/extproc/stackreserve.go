package extproc

// stackReserveBytes is the stack frame [reserveStack] takes: with what the
// gRPC worker's frames already use it grows a stream's goroutine to a
// 16 KiB stack, which a decision's deepest call (protobuf marshalling the
// envoy.lb metadata inside gRPC's Send) fits in.
const stackReserveBytes = 12 << 10

// reserveStack grows the calling goroutine's stack in one copy while it is
// shallow, at a stream's start. The stream workers' goroutines are reused,
// but every garbage collection halves the stack of a parked goroutine that
// uses little of it, so without this each stream grew its stack again step
// by step, each step copying the frames deep inside the decision's Send
// (protobuf's marshalling of the envoy.lb metadata). Measured at 500 req/s,
// 1 KB bodies, paired runs of `infergate bench picker`: the picker-side
// decision p50 went from 82–93 µs to 49–63 µs and p99 from 0.43–0.57 ms to
// 0.29–0.33 ms; in BenchmarkDecisionGRPC the decision's CPU (copystack
// included) halved.
//
//go:noinline
func reserveStack(i int) byte {
	var pad [stackReserveBytes]byte
	pad[i%len(pad)] = byte(i)
	return pad[(i+1)%len(pad)]
}
