// Package catalog answers which models a caller may list: the configured
// model names, and for each wildcard model ("openai/*") the models its
// upstreams list themselves, under the wildcard's prefix, each filtered by
// the caller's allowed models.
//
// An upstream's list comes from its provider's ModelLister (OpenAI's GET
// /models, Anthropic's GET /v1/models) and is kept in a Cache. The cache
// lives as long as the process: it is created once in main and handed to
// every snapshot, keyed by what the list is (the provider's ModelsKey: URL
// and a hash of the credentials), so that a reload keeps the lists of
// upstreams it keeps. Its bounds are what keep /v1/models from stalling or
// swelling on a slow, huge or lying upstream:
//
//   - a fetch has a short timeout (Options.Timeout, 5s), reads at most
//     provider.MaxModelListBody bytes per answer and keeps at most
//     provider.MaxModels valid, distinct ids;
//   - a list is fresh for Options.TTL (10m); a stale one is served at once
//     while one fetch in the background replaces it; only a list never
//     fetched makes a request wait, at most the timeout;
//   - a failed fetch keeps the last list and is not tried again before
//     Options.RetryAfter (30s), so a down upstream costs one timeout per
//     interval, not one per request; with no list at all the wildcard lists
//     nothing of that upstream (the configured names are listed as ever);
//   - the cache holds at most Options.MaxEntries lists, dropping the least
//     recently used.
//
// Close stops the fetches under way and waits for them.
package catalog
