package msgpackparser_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/gosio/gosio/parser"
	"github.com/gosio/gosio/parser/msgpackparser"
	"github.com/gosio/gosio/socketio"
)

// A server and a client that both speak socket.io-msgpack-parser: the
// handlers are the same as with the default parser, []byte included.
func Example() {
	srv := socketio.NewServer(&socketio.Options{Parser: msgpackparser.Parser{}})
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("upload", func(name string, data []byte, ack socketio.Ack) {
			_ = ack(fmt.Sprintf("%s: %d bytes", name, len(data)), data[:2])
		})
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.Connect(ctx, ts.URL, &socketio.ClientOptions{
		ManagerOptions: socketio.ManagerOptions{Parser: msgpackparser.Parser{}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	args, err := c.EmitWithAck(ctx, "upload", "a.bin", []byte{1, 2, 3, 4})
	if err != nil {
		log.Fatal(err)
	}
	var text string
	var head []byte
	if err := args.Decode(0, &text); err != nil {
		log.Fatal(err)
	}
	if err := args.Decode(1, &head); err != nil {
		log.Fatal(err)
	}
	fmt.Println(text, head)
	// Output: a.bin: 4 bytes [1 2]
}

// What one packet looks like on the wire: a single binary message, the
// msgpack map {type, data, nsp, id} with the binary value in place.
func ExampleParser_AppendPacket() {
	data, atts, _ := parser.MarshalArgs(nil, "file", []byte("hi"))
	p := &parser.Packet{Type: parser.Event, Namespace: "/", ID: 1, HasID: true, Data: data, Attachments: atts}
	msg, binary, more, err := msgpackparser.Parser{}.AppendPacket(nil, p)
	fmt.Printf("%s\n%x\nbinary=%v, %d more message(s), err=%v\n", data, msg, binary, len(more), err)

	q, _ := msgpackparser.Parser{}.NewDecoder(0).Decode(msg, true)
	fmt.Printf("%v %s id=%d %s %q\n", q.Type, q.Namespace, q.ID, q.Data, q.Attachments)
	// Output:
	// ["file",{"_placeholder":true,"num":0}]
	// 84a47479706502a46461746192a466696c65c4026869a36e7370a12fa2696401
	// binary=true, 0 more message(s), err=<nil>
	// EVENT / id=1 ["file",{"_placeholder":true,"num":0}] ["hi"]
}
