package server

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// docCommand is one curl example of docs/admin-api.md: the request, the
// status the doc says it answers, and the variable its answer's field sets
// (NAME=$(curl ... | jq -r .field)).
type docCommand struct {
	status        int
	method, url   string
	headers       [][2]string
	body          string
	hasBody       bool
	setVar, field string
	text          string
}

var (
	shBlock    = regexp.MustCompile("(?s)```sh\n(.*?)```")
	statusLine = regexp.MustCompile(`^# (\d{3})\n`)
	assignment = regexp.MustCompile(`(?s)^([A-Z_]+)=\$\((.*) \| jq -r \.([a-z_]+)\)$`)
	shellVar   = regexp.MustCompile(`\$([A-Z_]+)|\$\{([A-Z_]+)\}`)
)

// shellWords splits a command as a POSIX shell would, for the quoting the
// guide uses: single quotes literal, double quotes and bare words with
// $VAR expanded by expand, backslash-newline a space.
func shellWords(s string, expand func(string) (string, error)) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i++
			flush()
		case c == ' ' || c == '\n' || c == '\t':
			flush()
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated double quote")
			}
			v, err := expand(s[i+1 : i+1+end])
			if err != nil {
				return nil, err
			}
			cur.WriteString(v)
			i += end + 1
			inWord = true
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \n\t'\"", rune(s[j])) && !(s[j] == '\\' && j+1 < len(s) && s[j+1] == '\n') {
				j++
			}
			v, err := expand(s[i:j])
			if err != nil {
				return nil, err
			}
			cur.WriteString(v)
			i = j - 1
			inWord = true
		}
	}
	flush()
	return words, nil
}

// parseCurl reads one example; vars holds the variables set so far.
func parseCurl(block string, vars map[string]string) (docCommand, error) {
	var cmd docCommand
	cmd.text = block
	m := statusLine.FindStringSubmatch(block)
	if m == nil {
		return cmd, fmt.Errorf("no '# <status>' line first")
	}
	cmd.status, _ = strconv.Atoi(m[1])
	line := strings.TrimSpace(block[len(m[0]):])
	if a := assignment.FindStringSubmatch(line); a != nil {
		cmd.setVar, line, cmd.field = a[1], a[2], a[3]
	}
	expand := func(s string) (string, error) {
		var missing error
		out := shellVar.ReplaceAllStringFunc(s, func(v string) string {
			name := strings.Trim(v, "${}")
			val, ok := vars[name]
			if !ok {
				missing = fmt.Errorf("$%s is not set by any earlier example", name)
			}
			return val
		})
		return out, missing
	}
	words, err := shellWords(line, expand)
	if err != nil {
		return cmd, err
	}
	if len(words) == 0 || words[0] != "curl" {
		return cmd, fmt.Errorf("not a curl command")
	}
	cmd.method = "GET"
	for i := 1; i < len(words); i++ {
		w := words[i]
		next := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("%s needs a value", w)
			}
			i++
			return words[i], nil
		}
		switch {
		case w == "-s" || w == "-sS":
		case w == "-X":
			if cmd.method, err = next(); err != nil {
				return cmd, err
			}
		case w == "-H":
			h, err := next()
			if err != nil {
				return cmd, err
			}
			k, v, ok := strings.Cut(h, ":")
			if !ok {
				return cmd, fmt.Errorf("header %q", h)
			}
			cmd.headers = append(cmd.headers, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		case w == "-d" || w == "--data":
			if cmd.body, err = next(); err != nil {
				return cmd, err
			}
			cmd.hasBody = true
			if cmd.method == "GET" {
				cmd.method = "POST" // as curl does
			}
		case strings.HasPrefix(w, "-"):
			return cmd, fmt.Errorf("curl option %s is not understood by the test", w)
		case cmd.url == "":
			cmd.url = w
		default:
			return cmd, fmt.Errorf("a second URL %q", w)
		}
	}
	if cmd.url == "" {
		return cmd, fmt.Errorf("no URL")
	}
	return cmd, nil
}

// Every curl example of docs/admin-api.md, run in order against a live
// gateway, answers the status written above it; the variables an example
// sets are used by the later ones, as in a shell.
func TestAdminGuideExamplesRun(t *testing.T) {
	g := newAdminGateway(t)
	doc := string(repoFile(t, "docs/admin-api.md"))
	vars := map[string]string{"URL": g.http.URL, "LLMGW_ADMIN_TOKEN": adminRoot}
	ran := 0
	for _, b := range shBlock.FindAllStringSubmatch(doc, -1) {
		block := b[1]
		if !strings.Contains(block, "curl") {
			continue
		}
		cmd, err := parseCurl(block, vars)
		if err != nil {
			t.Fatalf("example %d: %v:\n%s", ran+1, err, block)
		}
		u, err := url.Parse(cmd.url)
		if err != nil || !strings.HasPrefix(cmd.url, g.http.URL+"/") {
			t.Fatalf("example %d: URL %q", ran+1, cmd.url)
		}
		headers := []string{}
		for _, h := range cmd.headers {
			headers = append(headers, h[0], h[1])
		}
		if cmd.hasBody { // curl -d sends this content type
			headers = append(headers, "Content-Type", "application/x-www-form-urlencoded")
		}
		resp, body := g.do(cmd.method, u.RequestURI(), cmd.body, headers...)
		if resp.StatusCode != cmd.status {
			t.Fatalf("example %d answered %d, the guide says %d:\n%s\n%s", ran+1, resp.StatusCode, cmd.status, block, body)
		}
		if resp.StatusCode >= 400 && gjson.Get(body, "error.message").String() == "" {
			t.Errorf("example %d: error not in the OpenAI shape: %s", ran+1, body)
		}
		if cmd.setVar != "" {
			v := gjson.Get(body, cmd.field)
			if !v.Exists() || v.String() == "" {
				t.Fatalf("example %d: no .%s in the answer: %s", ran+1, cmd.field, body)
			}
			vars[cmd.setVar] = v.String()
		}
		ran++
	}
	if ran < 20 {
		t.Errorf("only %d curl examples ran", ran)
	}
	t.Logf("%d examples ran", ran)
}
