package custom

import (
	"fmt"
	"strings"
)

// personColumns are the Moodle columns that identify a person or hold personal data. A custom
// query may name one in its select list only inside COUNT(...), and no result column may be
// called after one.
var personColumns = map[string]bool{
	"userid": true, "username": true, "email": true, "firstname": true, "lastname": true,
	"middlename": true, "alternatename": true, "firstnamephonetic": true, "lastnamephonetic": true,
	"fullname": true, "lastip": true, "ip": true, "ipaddress": true, "phone1": true, "phone2": true,
	"address": true, "studentid": true, "teacherid": true, "usermodified": true,
}

// identifyingNames are result column names refused on top of personColumns: a bare id (or
// idnumber) in a result names one row, which is one person for the user tables.
var identifyingNames = map[string]bool{"id": true, "idnumber": true}

// isPersonColumn reports whether a column name refers to a person (any *userid column too,
// such as relateduserid or realuserid).
func isPersonColumn(name string) bool {
	n := strings.ToLower(name)
	return personColumns[n] || strings.HasSuffix(n, "userid")
}

// isIdentifyingName reports whether a result column may not carry this name.
func isIdentifyingName(name string) bool {
	n := strings.ToLower(name)
	return isPersonColumn(n) || identifyingNames[n]
}

type tokenKind int

const (
	tIdent tokenKind = iota + 1 // identifier or keyword, lower-cased; quoted identifiers too
	tString
	tNumber
	tPunct // ( ) , . *
	tOther // operators, placeholders
)

type token struct {
	kind tokenKind
	text string
}

func (t token) is(kind tokenKind, text string) bool { return t.kind == kind && t.text == text }

// tokenize splits Moodle-style SQL into tokens, dropping comments and whitespace. It is not a
// full SQL lexer: it knows enough to find a statement's select lists.
func tokenize(sql string) []token {
	var out []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				i = len(sql)
			} else {
				i += j + 4
			}
		case c == '\'':
			j := i + 1
			for j < len(sql) {
				if sql[j] == '\\' {
					j += 2
					continue
				}
				if sql[j] == '\'' {
					if j+1 < len(sql) && sql[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			out = append(out, token{tString, sql[i+1 : min(j, len(sql))]})
			i = j + 1
		case c == '"' || c == '`':
			j := strings.IndexByte(sql[i+1:], c)
			if j < 0 {
				j = len(sql) - i - 1
			}
			out = append(out, token{tIdent, strings.ToLower(sql[i+1 : i+1+j])})
			i += j + 2
		case c == '{':
			j := strings.IndexByte(sql[i:], '}')
			if j < 0 {
				out = append(out, token{tOther, "{"})
				i++
				continue
			}
			out = append(out, token{tIdent, strings.ToLower(sql[i : i+j+1])})
			i += j + 1
		case isIdentStart(c):
			j := i + 1
			for j < len(sql) && (isIdentStart(sql[j]) || sql[j] >= '0' && sql[j] <= '9' || sql[j] == '$') {
				j++
			}
			out = append(out, token{tIdent, strings.ToLower(sql[i:j])})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(sql) && (sql[j] >= '0' && sql[j] <= '9' || sql[j] == '.') {
				j++
			}
			out = append(out, token{tNumber, sql[i:j]})
			i = j
		case c == '(' || c == ')' || c == ',' || c == '.' || c == '*':
			out = append(out, token{tPunct, string(c)})
			i++
		default:
			out = append(out, token{tOther, string(c)})
			i++
		}
	}
	return out
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

// selectEnd lists the keywords that end a select list at its own depth.
var selectEnd = map[string]bool{
	"from": true, "where": true, "group": true, "having": true, "order": true, "limit": true,
	"union": true, "intersect": true, "except": true, "into": true, "window": true, "offset": true,
}

// selectItem is one expression of a select list and the name of its result column ("" when it
// cannot be told from the text).
type selectItem struct {
	toks  []token
	name  string
	alias int // index of the alias token in toks, -1 when none
}

// selectLists returns the items of every select list at the statement's top level (the first
// one, which names the result columns, and those of UNION branches).
func selectLists(toks []token) [][]selectItem {
	var lists [][]selectItem
	depth := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.is(tPunct, "("):
			depth++
		case t.is(tPunct, ")"):
			depth--
		case depth == 0 && t.is(tIdent, "select"):
			items, end := readSelectList(toks, i+1)
			lists = append(lists, items)
			i = end - 1
		}
	}
	return lists
}

// readSelectList reads the items of the select list starting at toks[i] and returns them with
// the index just past the list.
func readSelectList(toks []token, i int) ([]selectItem, int) {
	for i < len(toks) && (toks[i].is(tIdent, "distinct") || toks[i].is(tIdent, "all")) {
		i++
	}
	var items []selectItem
	start, depth := i, 0
	flush := func(end int) {
		if end > start {
			items = append(items, newSelectItem(toks[start:end]))
		}
	}
	for ; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.is(tPunct, "("):
			depth++
		case t.is(tPunct, ")"):
			if depth == 0 {
				flush(i)
				return items, i
			}
			depth--
		case depth == 0 && t.is(tPunct, ","):
			flush(i)
			start = i + 1
		case depth == 0 && t.kind == tIdent && selectEnd[t.text]:
			flush(i)
			return items, i
		}
	}
	flush(i)
	return items, i
}

// newSelectItem works out the result column name of one select item: its alias (with or
// without AS), or the column it reads when it is a plain column reference.
func newSelectItem(toks []token) selectItem {
	it := selectItem{toks: toks, alias: -1}
	n := len(toks)
	last := toks[n-1]
	switch {
	case n >= 2 && last.kind == tIdent && toks[n-2].is(tIdent, "as"):
		it.name, it.alias = last.text, n-1
	case n == 1 && last.kind == tIdent:
		it.name = last.text
	case n == 3 && toks[0].kind == tIdent && toks[1].is(tPunct, ".") && last.kind == tIdent:
		it.name = last.text
	case n >= 2 && last.kind == tIdent && (toks[n-2].is(tPunct, ")") || toks[n-2].kind == tIdent && !isExprKeyword(toks[n-2].text) || toks[n-2].kind == tNumber || toks[n-2].kind == tString):
		if !isExprKeyword(last.text) {
			it.name, it.alias = last.text, n-1
		}
	}
	return it
}

// isExprKeyword reports words that end or join expressions, which an implicit alias cannot be.
func isExprKeyword(w string) bool {
	switch w {
	case "end", "and", "or", "not", "null", "then", "else", "when", "case", "is", "in", "like", "between", "distinct":
		return true
	}
	return false
}

// checkSelect is the static privacy check of a custom query: every result column must have a
// name that can be read from the text (an alias), no name may be a person's column or an id,
// SELECT * is refused, and a person's column may be read only inside COUNT(...). It returns
// the result column names.
func checkSelect(sql string) ([]string, error) {
	lists := selectLists(tokenize(sql))
	if len(lists) == 0 {
		return nil, fmt.Errorf("no SELECT found: a custom query is one SELECT statement")
	}
	var names []string
	for li, items := range lists {
		if len(items) == 0 {
			return nil, fmt.Errorf("empty select list")
		}
		for _, it := range items {
			if star(it.toks) {
				return nil, fmt.Errorf("SELECT * cannot be checked for personal data: name each result column")
			}
			if err := checkReferences(it); err != nil {
				return nil, err
			}
			if li > 0 {
				continue // a UNION branch's column names come from the first list
			}
			if it.name == "" {
				return nil, fmt.Errorf("result column %q has no name: give it one with AS", text(it.toks))
			}
			if isIdentifyingName(it.name) {
				return nil, fmt.Errorf("result column %q names a person's data or a row id: a custom measure sends aggregates only", it.name)
			}
			names = append(names, it.name)
		}
	}
	return names, nil
}

func star(toks []token) bool {
	return len(toks) == 1 && toks[0].is(tPunct, "*") ||
		len(toks) == 3 && toks[1].is(tPunct, ".") && toks[2].is(tPunct, "*")
}

// checkReferences refuses a person's column read outside COUNT(...) in a select item,
// including in the select lists of subqueries it holds (their other clauses may filter on
// anything).
func checkReferences(it selectItem) error {
	type frame struct {
		count bool
		sub   int // 0: plain parentheses, 1: a subquery's select list, 2: the rest of a subquery
	}
	stack := []frame{{}}
	toks := it.toks
	for i, t := range toks {
		top := &stack[len(stack)-1]
		switch {
		case t.is(tPunct, "("):
			f := frame{count: top.count}
			if i > 0 && toks[i-1].is(tIdent, "count") {
				f.count = true
			}
			if top.sub == 2 {
				f.sub = 2
			} else if i+1 < len(toks) && toks[i+1].is(tIdent, "select") {
				f.sub = 1
			}
			stack = append(stack, f)
		case t.is(tPunct, ")"):
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
		case t.kind == tIdent:
			if top.sub == 2 || i == it.alias {
				continue
			}
			if top.sub == 1 && selectEnd[t.text] {
				top.sub = 2
				continue
			}
			if i+1 < len(toks) && (toks[i+1].is(tPunct, ".") || toks[i+1].is(tPunct, "(")) {
				continue // a table alias or a function name
			}
			if isPersonColumn(t.text) && !top.count {
				return fmt.Errorf("the select list reads %s outside COUNT(...): a custom measure may count persons, never return one", t.text)
			}
		}
	}
	return nil
}

func text(toks []token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && !t.is(tPunct, ".") && !t.is(tPunct, ")") && !t.is(tPunct, ",") && !t.is(tPunct, "(") && !toks[i-1].is(tPunct, ".") && !toks[i-1].is(tPunct, "(") {
			b.WriteByte(' ')
		}
		if t.kind == tString {
			b.WriteString("'" + t.text + "'")
		} else {
			b.WriteString(t.text)
		}
	}
	return b.String()
}
