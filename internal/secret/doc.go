// Package secret resolves the secret references of the configuration
// ("file:/path", "vault:<mount>/<path>#<key>", "aws-sm:<secret-id>[#<key>]",
// "azure-kv:<vault>/<name>") and fetches them again on an interval, so
// that a rotated secret is picked up without a restart (docs/secrets.md).
//
// A Resolver is process state, made once by serve. Each load of the
// configuration resolves through a Load of it (config.LoadWith(path,
// r.Load())); once that configuration is in force, Use makes its
// references the ones Run fetches every secrets.refresh_interval. When a
// fetched value differs from the one in force, Run calls its change
// function once (serve reloads the configuration: providers are rebuilt
// with the new value on a new snapshot while requests in flight finish on
// the old one). A reload that fails leaves the running configuration
// serving, and the change is not retried until the value changes again.
//
// Vault: one client per Vault configuration, reused across loads; the
// token of method approle or kubernetes comes from a login, repeated when
// its lease is four-fifths over or when Vault answers 403 (a revoked
// token), once per fetch.
//
// AWS Secrets Manager and Azure Key Vault are reached through their SDKs,
// with the default credential chains; one client per region and endpoint
// (AWS) or per vault URL (Azure), reused across loads.
//
// A reply of Vault, Secrets Manager or Key Vault is read up to
// maxReplyBytes (bounded.go): a service that answers more, or without end,
// fails the fetch. The credential endpoints the SDKs call for their
// tokens (Entra, STS, instance metadata) are the SDKs' own clients.
//
// Every fetch is an audit record (action secret.fetch, actor system,
// target the reference, after {"result": "success"} or {"result":
// "failure", "error": ...}); never the value. Fetches made before the
// audit log is open (the first load, which may resolve the server secret
// itself) wait in a bounded queue that SetAudit writes.
//
// Errors name the reference, never the value: they become "path:
// message" problems of the configuration.
package secret
