package deploy

import (
	"regexp"
	"strings"
)

var (
	// grafanaVar is a dashboard variable or a Grafana built-in
	// ($__rate_interval, ${DS_PROMETHEUS}, [[var]]).
	grafanaVar = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[^\]]*\]\]`)
	// labelList is the label names of a grouping or matching modifier,
	// which are not metric names.
	labelList = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	// keywords are PromQL's operators and literals spelt as identifiers.
	keywords = map[string]bool{
		"and": true, "or": true, "unless": true, "atan2": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"inf": true, "nan": true,
	}
)

// metricNames returns the metric names a PromQL expression selects, in
// order and with repeats. It replaces Grafana variables by a number, drops
// string literals, label matchers ({...}), ranges and subqueries ([...]) and
// the label lists of by, without, on, ignoring, group_left and group_right;
// then every identifier left that is neither a keyword nor followed by "("
// (a function or an aggregation) is a metric name. A name selected only by
// {__name__="..."} is not seen.
func metricNames(expr string) []string {
	s := grafanaVar.ReplaceAllString(expr, "0")
	s = stripStrings(s)
	s = stripBlocks(s, '{', '}')
	s = stripBlocks(s, '[', ']')
	s = labelList.ReplaceAllString(s, " ")
	var names []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isDigit(c) || (c == '.' && i+1 < len(s) && isDigit(s[i+1])):
			i = skipNumber(s, i)
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			word := s[i:j]
			k := j
			for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') {
				k++
			}
			if !keywords[strings.ToLower(word)] && (k == len(s) || s[k] != '(') {
				names = append(names, word)
			}
			i = j
		default:
			i++
		}
	}
	return names
}

// stripStrings removes PromQL's string literals: "...", '...' (with
// backslash escapes) and `...` (raw).
func stripStrings(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		q := s[i]
		if q != '"' && q != '\'' && q != '`' {
			b.WriteByte(q)
			continue
		}
		b.WriteString(`""`)
		for i++; i < len(s) && s[i] != q; i++ {
			if s[i] == '\\' && q != '`' {
				i++
			}
		}
	}
	return b.String()
}

// stripBlocks replaces every open...close block (not nested, strings
// already gone) by a space.
func stripBlocks(s string, open, close byte) string {
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		switch {
		case !in && s[i] == open:
			in = true
			b.WriteByte(' ')
		case in && s[i] == close:
			in = false
		case !in:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// skipNumber returns the index past the number, hexadecimal number or
// duration (5m, 1h30m) at s[i], exponent included.
func skipNumber(s string, i int) int {
	hex := strings.HasPrefix(strings.ToLower(s[i:]), "0x")
	for i < len(s) {
		c := s[i]
		switch {
		case isIdent(c) || c == '.':
			i++
		case (c == '+' || c == '-') && !hex && (s[i-1] == 'e' || s[i-1] == 'E'):
			i++
		default:
			return i
		}
	}
	return i
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c == ':' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdent(c byte) bool      { return isIdentStart(c) || isDigit(c) }

// templateQuery returns the PromQL inside a Grafana variable's query:
// label_values(expr, label) gives expr, label_values(label) nothing,
// query_result(expr) expr; anything else is taken as PromQL.
func templateQuery(q string) string {
	q = strings.TrimSpace(q)
	switch {
	case strings.HasPrefix(q, "label_values(") && strings.HasSuffix(q, ")"):
		inner := q[len("label_values(") : len(q)-1]
		comma := strings.LastIndex(inner, ",")
		if comma < 0 {
			return ""
		}
		return inner[:comma]
	case strings.HasPrefix(q, "query_result(") && strings.HasSuffix(q, ")"):
		return q[len("query_result(") : len(q)-1]
	case strings.HasPrefix(q, "label_names(") || strings.HasPrefix(q, "metrics("):
		return ""
	}
	return q
}
