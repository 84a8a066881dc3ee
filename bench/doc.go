// Command bench is the gateway's load harness: it measures what the gateway
// adds between an application and its model.
//
// It starts a fake OpenAI upstream, the baseline reverse proxy (the standard
// library's httputil.ReverseProxy), nginx when it is installed, and the
// gateway built from ./cmd/llmgw, each as a child process of its own, so that
// the CPU time and memory of every proxy are read from /proc apart from the
// load generator's. It then drives each target in turn, interleaved over
// several rounds, at fixed concurrencies (closed model) and at fixed arrival
// rates (open model, latency measured from the intended send time, so a slow
// target cannot hide its queueing), and the fake upstream directly as the
// reference.
//
// The gateway is called with a virtual key kept in its store (SQLite, in
// the run's temporary data directory, created before the gateway starts):
// the "gateway" target. The same process called with a static key from its
// configuration is the "gateway-static" target, so that the cost of store
// keys is read beside it (--targets gateway,gateway-static). The order of
// the targets rotates from round to round: on a busy machine the first of
// two otherwise equal targets tends to come out worse, and with rounds a
// multiple of the number of targets each runs first equally often.
//
// Usage:
//
//	go run ./bench [--scenario small,stream,openstreams,mix,soak|all]
//	               [--duration 2s] [--rounds 3] [--concurrency 1,50]
//	               [--rate 1000] [--json out.json] [--plot out.png]
//	               [--pprof gateway.pprof]
//
// With --pprof the gateway runs from the harness's own binary (a hidden
// "gateway" subcommand wiring internal/config, internal/gateway and
// internal/server exactly as "llmgw serve" does) with a CPU profile taken
// for the whole run; the other numbers are then those of that build.
//
// The subcommands "upstream", "revproxy" and "gateway" are the harness's
// child processes; they are not meant to be run by hand. docs/performance.md
// describes the method and the numbers.
package main
