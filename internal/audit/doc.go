// Package audit keeps the gateway's audit log: who did what to which
// object, when, from where, with the object before and after (secrets
// left out). It is process state, opened once beside the store.
//
// # The chain
//
// Every record carries an HMAC-SHA256 over the previous record's hash and
// its own content, keyed with a key derived from the server secret for
// this purpose alone (auth.PurposeAuditChain). The store numbers records
// 1, 2, 3, ... without gaps and serialises appends (across replicas too),
// so the log is one chain. Verify walks it and reports the first broken
// link: a record changed after it was written (its seal no longer
// matches), one removed or inserted (the numbers or the links no longer
// follow), or the log cut at its end (the store's head, updated with every
// append, names a later record). Someone with write access to the
// database but not the server secret cannot rewrite a record and reseal
// it; they can still delete the log's tail together with the head row,
// which only an outside copy of the head (a log line, a backup) reveals.
//
// # Authentication failures
//
// Failures are not a row each: a flood of bad keys would otherwise fill
// the log. AuthFailure counts them in memory per source address and key
// prefix, and once a window (a minute) one record per pair is appended
// with Count set to how many there were. The number of pairs kept per
// window is bounded; the rest are counted under source "other".
package audit
