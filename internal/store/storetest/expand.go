package storetest

import (
	"fmt"
	"regexp"
	"strings"
)

// ContractMarker begins the first line of a migration that may remove or
// change what an earlier version uses. Such a migration ships only in a
// release after the one that stopped using what it removes (docs/upgrades.md);
// ExpandOnly leaves it alone, and the previous version's statements, which
// must still prepare on the new schema, are its check.
const ContractMarker = "-- contract:"

// ExpandOnly returns the reasons a migration would break the previous
// version of the gateway running on the schema it makes: during a rolling
// upgrade the replicas not yet replaced, and after a rollback the previous
// version itself, use the new schema. A migration may add tables, columns
// that are nullable or have a default, indexes that are not unique, and
// constraints on the columns it adds; it may not drop, rename or retype
// anything, make a column NOT NULL, or put a new constraint or a unique
// index on what the previous version writes.
func ExpandOnly(name, body string) []string {
	if strings.HasPrefix(strings.TrimSpace(body), ContractMarker) {
		return nil
	}
	created := map[string]bool{}
	var problems []string
	for _, stmt := range statements(body) {
		up := strings.ToUpper(stmt)
		if m := createTable.FindStringSubmatch(up); m != nil {
			created[unquote(m[1])] = true
			continue
		}
		for _, rule := range forbidden {
			if rule.re.MatchString(up) {
				problems = append(problems, fmt.Sprintf("%s: %s: %s", name, rule.why, short(stmt)))
			}
		}
		if m := uniqueIndex.FindStringSubmatch(up); m != nil && !created[unquote(m[1])] {
			problems = append(problems, fmt.Sprintf("%s: a unique index on %s, a table the previous version writes: %s",
				name, strings.ToLower(unquote(m[1])), short(stmt)))
		}
		if m := alterTable.FindStringSubmatch(up); m != nil && !created[unquote(m[1])] {
			problems = append(problems, alterProblems(name, m[2])...)
		}
	}
	return problems
}

var (
	createTable = regexp.MustCompile(`^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?("?[A-Z0-9_]+"?)`)
	uniqueIndex = regexp.MustCompile(`^CREATE\s+UNIQUE\s+INDEX\b.*?\bON\s+(?:ONLY\s+)?("?[A-Z0-9_]+"?)`)
	alterTable  = regexp.MustCompile(`^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?("?[A-Z0-9_]+"?)\s+(.*)$`)
	addColumn   = regexp.MustCompile(`^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?("?[A-Z0-9_]+"?)\s`)
	addConstr   = regexp.MustCompile(`^ADD\s+(?:CONSTRAINT\s+"?[A-Z0-9_]+"?\s+)?(CHECK|UNIQUE|PRIMARY\s+KEY|FOREIGN\s+KEY|EXCLUDE)\b(.*)$`)
	identifier  = regexp.MustCompile(`"?[A-Z_][A-Z0-9_]*"?`)
	literal     = regexp.MustCompile(`'(?:[^']|'')*'`)
	notNull     = regexp.MustCompile(`(^|[^S]\s+)NOT\s+NULL\b`) // NOT NULL, not IS NOT NULL
)

var forbidden = []struct {
	re  *regexp.Regexp
	why string
}{
	{regexp.MustCompile(`^DROP\s+(TABLE|VIEW|INDEX|TYPE|FUNCTION|TRIGGER|SCHEMA|SEQUENCE)\b`), "drops what the previous version may use"},
	{regexp.MustCompile(`\bDROP\s+(COLUMN|DEFAULT)\b`), "drops a column or a default the previous version may use"},
	{regexp.MustCompile(`\bRENAME\b`), "renames what the previous version uses by its old name"},
	{regexp.MustCompile(`\bALTER\s+(?:COLUMN\s+)?"?[A-Z0-9_]+"?\s+(?:SET\s+DATA\s+)?TYPE\b`), "changes a column's type"},
	{regexp.MustCompile(`\bSET\s+NOT\s+NULL\b`), "makes a column NOT NULL that the previous version may leave empty"},
	{regexp.MustCompile(`^TRUNCATE\b`), "empties a table"},
}

// alterProblems checks the clauses of one ALTER TABLE on an existing table.
func alterProblems(name, clauses string) []string {
	var problems []string
	added := map[string]bool{}
	parts := splitTop(clauses)
	for _, c := range parts {
		if m := addColumn.FindStringSubmatch(c); m != nil && !addConstr.MatchString(c) {
			col := unquote(m[1])
			added[col] = true
			if top := outsideParens(c); notNull.MatchString(top) && !strings.Contains(top, "DEFAULT") {
				problems = append(problems, fmt.Sprintf("%s: adds NOT NULL column %s without a default, which the previous version's inserts leave out",
					name, strings.ToLower(col)))
			}
		}
	}
	for _, c := range parts {
		m := addConstr.FindStringSubmatch(c)
		if m == nil {
			continue
		}
		for _, id := range identifier.FindAllString(literal.ReplaceAllString(m[2], ""), -1) {
			id = unquote(id)
			if !keywords[id] && !added[id] {
				problems = append(problems, fmt.Sprintf("%s: a new %s constraint on column %s, which the previous version writes",
					name, strings.ToLower(m[1]), strings.ToLower(id)))
			}
		}
	}
	return problems
}

// keywords are the words of a constraint that are not column names.
var keywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`AND OR NOT IS NULL IN TRUE FALSE BETWEEN LIKE ILIKE ANY ALL
		KEY REFERENCES ON DELETE UPDATE CASCADE RESTRICT SET DEFAULT NO ACTION MATCH FULL SIMPLE
		DEFERRABLE INITIALLY DEFERRED IMMEDIATE VALID WITH USING INDEX
		LENGTH OCTET_LENGTH CHAR_LENGTH LOWER UPPER COALESCE ARRAY_LENGTH CARDINALITY`) {
		keywords[k] = true
	}
}

// statements splits a migration into its statements, comments removed and
// spaces collapsed. Semicolons in string literals are not split on.
func statements(body string) []string {
	var out []string
	var b strings.Builder
	inStr := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case !inStr && c == '-' && i+1 < len(body) && body[i+1] == '-':
			for i < len(body) && body[i] != '\n' {
				i++
			}
			b.WriteByte(' ')
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case !inStr && c == ';':
			out = appendStmt(out, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return appendStmt(out, b.String())
}

func appendStmt(out []string, s string) []string {
	if s = strings.Join(strings.Fields(s), " "); s != "" {
		out = append(out, s)
	}
	return out
}

// splitTop splits s on the commas outside parentheses and string literals.
func splitTop(s string) []string {
	var out []string
	depth, start, inStr := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			inStr = !inStr
		case inStr:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// outsideParens returns s without its string literals and what is in
// parentheses (a CHECK's expression, a DEFAULT's).
func outsideParens(s string) string {
	s = literal.ReplaceAllString(s, "''")
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func unquote(id string) string { return strings.Trim(id, `"`) }

func short(s string) string {
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}
