package socketio

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConnectionStateRecoveryOneSend checks that the missed packets of a
// restored session go out as one unit: a polling GET already waiting when
// the client reconnects gets them all, in order, in one payload, rather
// than the first one alone.
func TestConnectionStateRecoveryOneSend(t *testing.T) {
	t.Parallel()
	srv, url, sockets, _ := csrServer(t, time.Minute)
	ids, offset := csrDropped(t, srv, url, sockets)
	const missed = 30
	for i := range missed {
		_ = srv.Emit("ev", fmt.Sprint("m", i))
	}

	p := &inprocClient{srv: srv}
	code, body := p.do(t, http.MethodGet, "", "")
	if code != http.StatusOK || !strings.HasPrefix(body, "0") {
		t.Fatalf("handshake: %d %q", code, body)
	}
	var open struct{ SID string }
	_ = json.Unmarshal([]byte(body[1:]), &open)
	p.sid = open.SID
	got := make(chan string, 1)
	go func() { got <- p.poll(t) }()
	// Let the GET wait before the CONNECT that restores the session.
	time.Sleep(50 * time.Millisecond)
	if code, body := p.do(t, http.MethodPost, "&sid="+p.sid, fmt.Sprintf(`40{"pid":%q,"offset":%q}`, ids.PID, offset)); code != http.StatusOK {
		t.Fatalf("connect: %d %q", code, body)
	}
	packets := strings.Split(<-got, "\x1e")
	if len(packets) < missed {
		t.Fatalf("the waiting GET got %d packets, want the %d missed ones at once: %q", len(packets), missed, packets)
	}
	for i := range missed {
		if want := fmt.Sprintf(`42["ev","m%d","`, i); !strings.HasPrefix(packets[i], want) {
			t.Fatalf("packet %d is %q, want %s...", i, packets[i], want)
		}
	}
	if len(packets) == missed {
		packets = append(packets, p.poll(t))
	}
	if want := fmt.Sprintf(`40{"sid":%q,"pid":%q}`, ids.SID, ids.PID); packets[missed] != want {
		t.Fatalf("after the missed packets %q, want %s", packets[missed], want)
	}
	<-sockets
	_, _ = p.do(t, http.MethodPost, "&sid="+p.sid, "1")
}
