package sender

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

func TestWriteSenderInputGolden(t *testing.T) {
	items := []Item{
		{Host: "moodle.example", Key: "moodle.users.active", Value: "42", Clock: 1795292192, NS: 5},
		{Host: "moodle example", Key: `moodle.course.count[cat "3"]`, Value: `a "quoted" \ value`, Clock: 1795292193},
		{Host: "h", Key: "moodle.lld", Value: `[{"{#CATID}":"3","{#CATNAME}":"Science"}]`, Clock: 1795292194, NS: 999999999},
		{Host: "h", Key: "k", Value: "", Clock: 1795292195},
		{Host: "h", Key: "k", Value: "bad\xffutf8\ttab", Clock: 1795292196},
	}
	var buf bytes.Buffer
	if err := WriteSenderInput(&buf, items); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sender_input.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("got:\n%s\nwant:\n%s", buf.Bytes(), want)
	}
}

func TestWriteSenderInputStampsAndRefuses(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSenderInput(&buf, []Item{{Host: "h", Key: "k", Value: "v"}}); err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(buf.String())
	if len(fields) != 5 || fields[2] == "0" {
		t.Fatalf("unstamped item written as %q", buf.String())
	}
	for _, it := range []Item{
		{Host: "h", Key: "k", Value: "two\nlines"},
		{Host: "h", Key: "k", Value: "nul\x00"},
		{Host: "", Key: "k", Value: "v"},
		{Host: "h", Key: "", Value: "v"},
		{Host: "-", Key: "k", Value: "v"},
	} {
		err := WriteSenderInput(&bytes.Buffer{}, []Item{it})
		var ve *ValueError
		if !errors.As(err, &ve) {
			t.Errorf("%+v: err %v, want *ValueError", it, err)
		}
	}
}
