package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem in the configuration file.
type Error struct {
	// File is the name given to Parse (the path given to Load).
	File string
	// Line is the 1-based line of the key or value at fault; 0 when unknown.
	Line int
	// Path is the key at fault, such as sites[0].host; empty when the
	// message names it already.
	Path string
	// Msg says what is wrong; it never holds a secret.
	Msg string
}

// Error formats the problem as file:line: path: message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

var (
	syntaxLine    = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	typeErrLine   = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)
	cannotDecode  = regexp.MustCompile("(?s)^cannot unmarshal !!(\\w+) `(.*)` into (.+)$")
	cannotDecodeC = regexp.MustCompile(`^cannot unmarshal !!(map|seq) into (.+)$`)
	friendlyTypes = map[string]string{
		"time.Duration":     "a duration such as 30s, 5m or 1h30m",
		"int":               "an integer",
		"int64":             "an integer",
		"bool":              "true or false",
		"string":            "a string",
		"[]string":          "a list of strings",
		"map[string]string": "a mapping of strings",
		"[]config.Site":     "a list of sites",
		"[]config.Fleet":    "a list of fleets",
		"config.Config":     "a mapping",
		"config.Zabbix":     "a mapping",
		"config.TLS":        "a mapping",
		"config.Spool":      "a mapping",
		"config.API":        "a mapping",
		"config.Site":       "a mapping",
		"config.Fleet":      "a mapping",
		"config.Roles":      "a mapping with students, teachers, staff",
		"config.RoleSet":    "a mapping with archetypes, shortnames",
		"config.Secret":     "a secret string (env:NAME, file:/path or the value itself)",
	}
)

// parserProblems are the messages of yaml.v3's parser stage, whose line
// numbers it gives 0-based.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlSyntaxError turns a yaml.v3 parse error into an *Error.
func yamlSyntaxError(file string, err error) error {
	msg := err.Error()
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if parserProblems[m[2]] {
			// yaml.v3 reports the parser's (not the scanner's) marks
			// 0-based; make them 1-based like every other line.
			line++
		}
		return &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// addTypeError records one message of a yaml.TypeError ("line N: ..."),
// naming the key when the message does not.
func (v *validator) addTypeError(msg string) {
	m := typeErrLine.FindStringSubmatch(msg)
	if m == nil {
		v.errs = append(v.errs, &Error{File: v.file, Msg: msg})
		return
	}
	line, _ := strconv.Atoi(m[1])
	e := &Error{File: v.file, Line: line, Msg: m[2]}
	if d := cannotDecode.FindStringSubmatch(m[2]); d != nil {
		e.Path = v.ix.pathAt(line, d[2])
		v.typed(e)
		want := friendlyTypes[d[3]]
		if want == "" {
			want = d[3]
		}
		e.Msg = fmt.Sprintf("%q is not %s", d[2], want)
		if d[1] != "str" {
			e.Msg = fmt.Sprintf("%s value %q is not %s", d[1], d[2], want)
		}
	} else if d := cannotDecodeC.FindStringSubmatch(m[2]); d != nil {
		kind, what := yaml.MappingNode, "a mapping"
		if d[1] == "seq" {
			kind, what = yaml.SequenceNode, "a list"
		}
		e.Path = v.ix.outerAt(line, kind)
		v.typed(e)
		want := friendlyTypes[d[2]]
		if want == "" {
			want = d[2]
		}
		e.Msg = fmt.Sprintf("%s where %s is expected", what, want)
	}
	v.errs = append(v.errs, e)
}

// typed notes that e, a decoding error, is about e.Path: it moves e to the
// line of the key and silences later checks of the zero value left there.
func (v *validator) typed(e *Error) {
	if e.Path == "" {
		return
	}
	e.Line = v.ix.line(e.Path)
	if v.undecoded == nil {
		v.undecoded = map[string]bool{}
	}
	v.undecoded[e.Path] = true
}

// index maps key paths (zabbix.servers[0], sites[1].roles.staff) to the YAML
// nodes that hold their values, so that validation can report lines.
type index struct {
	nodes    map[string]*yaml.Node
	keyLines map[string]int // line of the key naming path, when it has one
	byLine   map[int][]string
	budget   int
}

// maxIndexed bounds the nodes indexed, against documents built to explode
// through merge keys.
const maxIndexed = 1 << 16

func newIndex(doc *yaml.Node) *index {
	ix := &index{nodes: map[string]*yaml.Node{}, keyLines: map[string]int{}, byLine: map[int][]string{}, budget: maxIndexed}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		ix.walk("", 0, doc.Content[0], 0)
	}
	return ix
}

func (ix *index) walk(path string, keyLine int, n *yaml.Node, depth int) {
	if n == nil || ix.budget <= 0 || depth > 64 {
		return
	}
	if _, seen := ix.nodes[path]; seen {
		return // a merged key never hides an explicit one
	}
	ix.budget--
	ix.nodes[path] = n
	if keyLine > 0 {
		ix.keyLines[path] = keyLine
	}
	ix.byLine[n.Line] = append(ix.byLine[n.Line], path)
	switch n.Kind {
	case yaml.MappingNode:
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Value == "<<" && k.Tag == "!!merge" {
				merges = append(merges, val)
				continue
			}
			ix.walk(childPath(path, k.Value), k.Line, val, depth+1)
		}
		// Keys brought in by merge keys (<<: *base) are indexed at the
		// lines of the anchored mapping, where their text is.
		for _, m := range merges {
			targets := []*yaml.Node{m}
			if m.Kind == yaml.SequenceNode {
				targets = m.Content
			}
			for _, t := range targets {
				if t.Kind == yaml.AliasNode {
					t = t.Alias
				}
				if t == nil || t.Kind != yaml.MappingNode {
					continue
				}
				for i := 0; i+1 < len(t.Content); i += 2 {
					ix.walk(childPath(path, t.Content[i].Value), t.Content[i].Line, t.Content[i+1], depth+1)
				}
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			ix.walk(path+"["+strconv.Itoa(i)+"]", 0, c, depth+1)
		}
	}
}

var plainKey = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// childPath appends a mapping key to path, quoting keys that are not plain
// identifiers: sites[0].macros["{$X}"].
func childPath(path, key string) string {
	if !plainKey.MatchString(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// has reports whether path is written in the file.
func (ix *index) has(path string) bool {
	_, ok := ix.nodes[path]
	return ok
}

// line returns the line where path is written (its key's line, or its
// value's for a list item), or that of its closest written ancestor when
// path itself is absent.
func (ix *index) line(path string) int {
	for {
		if l, ok := ix.keyLines[path]; ok {
			return l
		}
		if n, ok := ix.nodes[path]; ok {
			return n.Line
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

// parentPath drops the last element of a path built by childPath.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		for i := strings.LastIndexByte(path, '['); i >= 0; i = strings.LastIndexByte(path[:i], '[') {
			inner := path[i+1 : len(path)-1]
			if _, err := strconv.Atoi(inner); err == nil {
				return path[:i]
			}
			if _, err := strconv.Unquote(inner); err == nil && strings.HasPrefix(inner, `"`) {
				return path[:i]
			}
		}
		return ""
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// pathAt guesses the key whose value on line is value, for messages of the
// YAML decoder that give only a line. It returns "" when unsure.
func (ix *index) pathAt(line int, value string) string {
	cands := ix.byLine[line]
	if len(cands) == 1 {
		return cands[0]
	}
	var match []string
	for _, p := range cands {
		n := ix.nodes[p]
		if n.Kind == yaml.ScalarNode && (n.Value == value || strings.HasSuffix(value, "...") && strings.HasPrefix(n.Value, strings.TrimSuffix(value, "..."))) {
			match = append(match, p)
		}
	}
	if len(match) == 1 {
		return match[0]
	}
	return ""
}

// outerAt returns the longest path whose value on line is of kind, for
// messages about a mapping or list found where a scalar was expected: on
// "- host: {a: b}" that is sites[0].host rather than sites[0].
func (ix *index) outerAt(line int, kind yaml.Kind) string {
	best := ""
	found := false
	for _, p := range ix.byLine[line] {
		if ix.nodes[p].Kind == kind && (!found || len(p) > len(best)) {
			best, found = p, true
		}
	}
	return best
}

// err returns every recorded problem, sorted by line, or nil.
func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
	errs := make([]error, len(v.errs))
	for i, e := range v.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}
