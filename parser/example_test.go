package parser_test

import (
	"errors"
	"fmt"

	"github.com/gosio/gosio/parser"
)

// A server reads one connection's messages in order and hands complete
// packets on; any decode error closes the connection.
func ExampleDecoder() {
	type message struct {
		binary bool
		data   []byte
	}
	incoming := []message{
		{data: []byte(`0/chat,{"token":"123"}`)},
		{data: []byte(`51-/chat,7["upload","a.txt",{"_placeholder":true,"num":0}]`)},
		{binary: true, data: []byte("hello")},
		{data: []byte(`2["disconnect"]`)},
	}

	d := parser.NewDecoder(0)
	for _, m := range incoming {
		var p *parser.Packet
		var err error
		if m.binary {
			p, err = d.DecodeBinary(m.data)
		} else {
			p, err = d.DecodeText(m.data)
		}
		if err != nil {
			fmt.Println("close:", err, errors.Is(err, parser.ErrInvalidPayload))
			return
		}
		if p == nil {
			continue // waiting for attachments
		}
		fmt.Printf("%v %s id=%d,%v %s %d attachment(s)\n", p.Type, p.Namespace, p.ID, p.HasID, p.Data, len(p.Attachments))
	}
	// Output:
	// CONNECT /chat id=0,false {"token":"123"} 0 attachment(s)
	// BINARY_EVENT /chat id=7,true ["upload","a.txt",{"_placeholder":true,"num":0}] 1 attachment(s)
	// close: parser: invalid payload: event name disconnect is reserved true
}

func ExampleAppendText() {
	data, atts, err := parser.MarshalArgs(nil, "upload", "a.txt", []byte("hello"))
	if err != nil {
		panic(err)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: "/chat", ID: 7, HasID: true, Data: data, Attachments: atts}

	frame := parser.AppendText([]byte("4"), p) // with the Engine.IO message type
	fmt.Printf("%s\n", frame)
	for _, a := range p.Attachments {
		fmt.Printf("binary %q\n", a)
	}
	// Output:
	// 451-/chat,7["upload","a.txt",{"_placeholder":true,"num":0}]
	// binary "hello"
}

// A handler gets an event's arguments, decodes the ones it needs and
// re-emits the others unchanged, binary included.
func ExampleValue() {
	d := parser.NewDecoder(0)
	_, _ = d.DecodeText([]byte(`52-["message",{"b":2,"a":1},{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`))
	_, _ = d.DecodeBinary([]byte("first"))
	in, err := d.DecodeBinary([]byte("second"))
	if err != nil {
		panic(err)
	}

	args, err := parser.SplitArray(in.Data)
	if err != nil {
		panic(err)
	}
	var blob []byte
	if err := parser.Unmarshal(args[2], in.Attachments, &blob); err != nil {
		panic(err)
	}
	fmt.Printf("args[2] = %q\n", blob)

	data, atts, err := parser.MarshalArgs(nil, "message-back",
		parser.Value{JSON: args[1], Attachments: in.Attachments},
		parser.Value{JSON: args[3], Attachments: in.Attachments})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %q\n", parser.AppendText(nil, &parser.Packet{Type: parser.Event, Data: data, Attachments: atts}), atts)
	// Output:
	// args[2] = "second"
	// 51-["message-back",{"b":2,"a":1},{"_placeholder":true,"num":0}] ["first"]
}

func ExampleUnmarshal() {
	data, atts, _ := parser.MarshalArgs(nil, map[string]any{"name": "a.txt", "body": []byte("hi")})
	var args []struct {
		Name string `json:"name"`
		Body []byte `json:"body"`
	}
	if err := parser.Unmarshal(data, atts, &args); err != nil {
		panic(err)
	}
	fmt.Printf("%s %q %q\n", data, args[0].Name, args[0].Body)
	// Output:
	// [{"body":{"_placeholder":true,"num":0},"name":"a.txt"}] "a.txt" "hi"
}
