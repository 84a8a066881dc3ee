// Package jsonwire reads and writes JSON at the byte level for the wire
// protocol packages: a splitter for already-validated JSON, typed field
// readers that report errors by JSON path, and allocation-light appenders.
//
// Reading is two passes. OwnBody validates a whole request body once with
// Check and copies it; SplitObject and SplitArray then walk the copy one
// level at a time instead of running encoding/json again at every level,
// which would re-validate each nested value and copy it. The splitters assume
// valid JSON; their bounds checks only keep a broken input from panicking.
// The readers (DecodeString, DecodeInt, RequireString, ...) take the JSON
// path of the value they read and return an *llm.Error of kind
// InvalidRequest whose Param is that path, in the wording of OpenAI's API
// errors, which the protocol packages share.
//
// Check is the one gate a request body passes before anything reads it: a
// single iterative walk, as fast as gjson's validation, that also bounds the
// nesting (gjson and the splitters recurse or scan per level) and refuses
// duplicate keys, which a first-wins and a last-wins reader would read
// differently.
//
// Writing appends to a byte slice instead of building maps or structs for
// encoding/json, so key order is fixed and a caller that reuses its buffer
// allocates nothing. AppendString and AppendFloat produce the bytes
// encoding/json would, except that the HTML characters <, > and & are not
// escaped: an API body is not HTML.
package jsonwire
