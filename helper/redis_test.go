package helper_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/internal/testutil"
)

func redisClient(t *testing.T, addr string) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	testutil.NoErr(t, err)
	t.Cleanup(c.Close)
	testutil.NoErr(t, c.Do(context.Background(), c.B().Ping().Build()).Error())
	return c
}

// clientCount is the number of connections Redis has, minus the one asking.
func clientCount(t *testing.T, addr string) int {
	t.Helper()
	v, err := testutil.RedisDo(addr, "CLIENT", "LIST")
	testutil.NoErr(t, err)
	return strings.Count(strings.TrimSpace(v.(string)), "\n")
}

// Two Go helpers on one Redis: Send from either reaches the clients of
// both, by socket id, room and broadcast.
func TestServerRedisCluster(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "redis-server")
	addr := testutil.StartRedis(t)
	var hs []*helper.ServerHelper
	var cs []*client
	for i := range 2 {
		h, url := startServer(t, helper.ServerOptions{
			Identifier:    fmt.Sprint("go-", i),
			Redis:         redisClient(t, addr),
			ValidateRooms: publicRooms,
		})
		c := authed(t, url)
		testutil.NoErr(t, c.JoinRooms("public-shared"))
		id := c.Socket().ID()
		waitRooms(t, h, id, id, helper.RoomDefault, helper.RoomNotification, "public-shared")
		hs, cs = append(hs, h), append(cs, c)
	}
	ctx := context.Background()
	for i, h := range hs {
		for j, c := range cs {
			testutil.NoErr(t, h.Send(ctx, c.Socket().ID(), fmt.Sprintf("id-%d-%d", i, j), i))
		}
		testutil.NoErr(t, h.Send(ctx, "public-shared", fmt.Sprint("room-", i), i))
		testutil.NoErr(t, h.Send(ctx, "", fmt.Sprint("all-", i), i))
	}
	for j, c := range cs {
		want := []string{fmt.Sprintf("id-0-%d", j), fmt.Sprintf("id-1-%d", j), "room-0", "room-1", "all-0", "all-1"}
		slices.Sort(want)
		got := func() []string {
			var out []string
			for _, e := range c.rec.kinds("event") {
				if e.Name != helper.EventPing && e.Name != helper.EventAuthenticated {
					out = append(out, e.Name)
				}
			}
			slices.Sort(out)
			return out
		}
		testutil.WaitUntil(t, 5*time.Second, fmt.Sprintf("client %d got %v", j, want), func() bool { return len(got()) >= len(want) })
		time.Sleep(100 * time.Millisecond)
		testutil.Equal(t, got(), want)
	}
}

// Shutdown releases the adapter's dedicated connection, even when its
// context has ended: its subscriptions are gone and it is back in the
// rueidis client's pool (the next helper reuses it), and the caller's
// client stays open.
func TestServerRedisShutdownReleases(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "redis-server")
	addr := testutil.StartRedis(t)
	rc := redisClient(t, addr)
	base := clientCount(t, addr)
	subscriptions := func() string {
		pats, err := testutil.RedisDo(addr, "PUBSUB", "NUMPAT")
		testutil.NoErr(t, err)
		chans, err := testutil.RedisDo(addr, "PUBSUB", "CHANNELS")
		testutil.NoErr(t, err)
		return fmt.Sprintf("patterns %v, channels %v", pats, chans)
	}
	none := subscriptions()
	testutil.Equal(t, none, "patterns 0, channels []")
	for _, expired := range []bool{false, true} {
		h, err := helper.NewServer(context.Background(), &helper.ServerOptions{Authenticate: testAuth, Redis: rc, Logger: quiet})
		testutil.NoErr(t, err)
		srv := httptest.NewServer(h)
		c := authed(t, srv.URL)
		testutil.Equal(t, clientCount(t, addr), base+1) // the subscriber, reused the second time
		if subscriptions() == none {
			t.Fatal("the adapter subscribed nothing")
		}
		ctx, cancel := context.WithCancel(context.Background())
		if expired {
			cancel()
		}
		err = h.Shutdown(ctx)
		cancel()
		if expired && !errors.Is(err, context.Canceled) {
			t.Errorf("Shutdown with an ended context: %v", err)
		}
		if !expired {
			testutil.NoErr(t, err)
		}
		testutil.WaitUntil(t, 5*time.Second, fmt.Sprintf("unsubscribed (expired %v)", expired), func() bool { return subscriptions() == none })
		testutil.Equal(t, c.rec.waitKind(t, "disconnect").Name, "io server disconnect")
		if again := h.Shutdown(context.Background()); again != err { // idempotent: the first result
			t.Errorf("second Shutdown: %v, want %v", again, err)
		}
		testutil.NoErr(t, rc.Do(context.Background(), rc.B().Ping().Build()).Error())
		_ = c.Shutdown()
		srv.Close()
	}
	testutil.Equal(t, clientCount(t, addr), base+1)
}
