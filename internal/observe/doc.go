// Package observe holds the gateway's Prometheus registry.
//
// One Registry is created when the process starts and outlives every
// configuration snapshot: the packages that measure something declare their
// metrics beside the code they measure and register them here with
// Register, which hands back the collector already registered under the
// same name when a later snapshot registers it again. Durations are in
// seconds and label values come from the configuration, never from
// requests, so cardinality stays bounded.
package observe
