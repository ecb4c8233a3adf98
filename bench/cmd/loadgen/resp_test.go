package main

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRespCommand(t *testing.T) {
	got := string(respCommand("INFO", "commandstats"))
	want := "*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestReadReply(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
		err  string
	}{
		{"+OK\r\n", "OK", ""},
		{":42\r\n", int64(42), ""},
		{"$5\r\nhello\r\n", "hello", ""},
		{"$0\r\n\r\n", "", ""},
		{"$-1\r\n", nil, ""},
		{"*-1\r\n", nil, ""},
		{"*3\r\n$1\r\na\r\n:7\r\n*1\r\n+x\r\n", []any{"a", int64(7), []any{"x"}}, ""},
		{"-ERR unknown\r\n", nil, "redis: ERR unknown"},
		{"$5\r\nhel", nil, "EOF"},
		{"$3\r\nabcde", nil, "not terminated"},
		{"?x\r\n", nil, "unknown reply type"},
		{"OK\n", nil, "bad line"},
	} {
		got, err := readReply(bufio.NewReader(strings.NewReader(tc.in)))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
	// An error inside an array is an element, not the call's error.
	got, err := readReply(bufio.NewReader(strings.NewReader("*2\r\n-ERR x\r\n:1\r\n")))
	var re redisError
	if err != nil || len(got.([]any)) != 2 || !errors.As(got.([]any)[0].(error), &re) {
		t.Fatalf("got %#v, %v", got, err)
	}
}

const commandstats = "# Commandstats\r\n" +
	"cmdstat_publish:calls=1203,usec=4567,usec_per_call=3.80,rejected_calls=0,failed_calls=0\r\n" +
	"cmdstat_spublish:calls=7,usec=20,usec_per_call=2.86,rejected_calls=0,failed_calls=0\r\n" +
	"cmdstat_PUBSUB|NUMSUB:calls=2,usec=5,usec_per_call=2.50\r\n" +
	"cmdstat_info:calls=x,usec=1\r\n" +
	"\r\n"

func TestCommandCalls(t *testing.T) {
	got := commandCalls(commandstats)
	want := map[string]int64{"publish": 1203, "spublish": 7, "pubsub|numsub": 2}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	after := map[string]int64{"publish": 1303, "spublish": 7, "xadd": 4}
	d := callsDelta(got, after)
	if !reflect.DeepEqual(d, map[string]int64{"publish": 100, "xadd": 4}) {
		t.Fatalf("delta %v", d)
	}
}

func TestInfoFields(t *testing.T) {
	f := infoFields("# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nnokey\r\n")
	if f["used_memory"] != "1048576" || f["used_memory_human"] != "1.00M" || len(f) != 2 {
		t.Fatalf("got %v", f)
	}
}
