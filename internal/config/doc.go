// Package config defines the gateway's configuration: its schema, how a YAML
// file is read into it, and how it is checked.
//
// The lifecycle of a configuration is:
//
//  1. Load reads a file and hands its bytes to Parse. Parse reads the YAML into
//     a node tree, expands ${VAR} and ${VAR:-default} inside scalar values
//     only (so an environment value can never add keys or structure), and
//     decodes the tree strictly: an unknown key anywhere is an error reported
//     by its path, such as "providers[0].api_kye: unknown field".
//  2. Defaults are applied (ApplyDefaults): listen address, timeouts, body
//     limit, base URLs by provider type.
//  3. Validate checks the whole configuration and reports every problem at
//     once, each as "path: message", joined with errors.Join.
//
// Default builds the configuration used when no file is given: the built-in
// mock provider and model, plus providers found from well-known environment
// variables.
//
// A Config is plain data. Compiling it into the immutable runtime snapshot
// (provider clients, routing tables, the request pipeline) and swapping that
// snapshot on reload is done by the package that wires providers, not here.
//
// Secrets (API keys, the admin token, upstream headers) have the type Secret,
// whose fmt, slog, YAML and JSON forms never show the value; Value returns the
// plaintext for the code that needs it. A Secret field may hold a reference
// ("file:/path", "vault:<mount>/<path>#<key>") instead of its value:
// ParseWith replaces each by what its SecretResolver fetches, after decoding
// and before validation, and remembers a provider's references
// (Provider.SecretRef); Parse, without a resolver, refuses them
// (docs/secrets.md).
//
// The doc comment of each field read from the file is that key's user
// documentation: docs/configuration.md is generated from them (parsed with
// go/parser, from Config down through every yaml tag) by
// "go test ./internal/config -run TestReference -update", and the test
// fails when the page drifts, when a field has no doc comment, or when
// the parsed keys and those of the compiled types differ. Write them for
// operators: what the key does, its default, its bounds.
//
// The strict decoder walks the YAML node tree against the Go types itself
// rather than using yaml.Decoder.KnownFields, because the latter reports
// unknown keys and type mismatches by line only, while users (and the
// validate command) need every problem by path.
package config
