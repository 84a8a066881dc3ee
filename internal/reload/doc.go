// Package reload replaces the running configuration while the gateway
// serves: on SIGHUP, on a change of the configuration file, and on POST
// /admin/v1/config/reload.
//
// A reload loads the file again (expanding the environment), validates it, refuses it if it changes a setting
// that takes effect only on restart (config.RestartOnly, each such setting
// named), compiles it into a new snapshot and swaps it in (Options.Apply).
// Requests in flight finish on the snapshot they began with. Any failure
// leaves the running configuration serving, and is reported: an ERROR log
// line listing every problem, llmgw_config_reloads_total{result="failure"}
// and Status, which GET /admin/v1/config answers. One reload runs at a
// time; a trigger during a reload waits for it.
//
// # Version and hash
//
// Version counts the configurations loaded since the process started: 1
// for the first, one more for each successful reload. Hash is
// "sha256:" and the hex SHA-256 of the effective configuration (after
// defaults and environment expansion) encoded as JSON with every secret
// redacted: it changes when any setting but a secret changes, is the same
// on every replica running the same configuration, and says nothing of
// any secret. A change to a secret alone reloads (Version moves) but
// keeps the hash.
//
// # Watching the file
//
// Watch watches the file's directory rather than the file, so that it
// sees the file replaced by a rename (what editors and `kubectl cp` do)
// and the symlink swap of a Kubernetes ConfigMap volume (its ..data link
// moves to a new directory). Events are debounced: the file is read once
// the directory has been quiet for the debounce, and reloaded only when
// its bytes changed since the last read, so that one save, however many
// events it makes, is one reload.
//
// # Lifetimes
//
// The Reloader is process state, created once in main after the first
// snapshot; its watcher stops when the context given to Watch ends.
package reload
