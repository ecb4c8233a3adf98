package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// respConn is a minimal Redis client (RESP2 requests and replies), enough
// for the cluster scenarios' INFO and PUBSUB readings. The load generator
// never uses Redis on its measured paths.
type respConn struct {
	nc net.Conn
	r  *bufio.Reader
}

func dialRedis(addr string) (*respConn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &respConn{nc: nc, r: bufio.NewReader(nc)}, nil
}

func (c *respConn) close() { _ = c.nc.Close() }

// do sends one command and reads its reply.
func (c *respConn) do(args ...string) (any, error) {
	_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(respCommand(args...)); err != nil {
		return nil, err
	}
	return readReply(c.r)
}

// respCommand encodes args as a RESP array of bulk strings.
func respCommand(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// redisError is an error reply.
type redisError string

func (e redisError) Error() string { return "redis: " + string(e) }

// readReply reads one RESP2 reply: a string (simple or bulk), an int64,
// nil (null bulk or array), a []any, or a redisError as the error.
func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return nil, fmt.Errorf("resp: bad line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, redisError(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, fmt.Errorf("resp: bad bulk length %q", body)
		}
		if n < 0 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		if string(b[n:]) != "\r\n" {
			return nil, errors.New("resp: bulk string not terminated")
		}
		return string(b[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, fmt.Errorf("resp: bad array length %q", body)
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, 0, min(n, 1<<16))
		for range n {
			v, err := readReply(r)
			if err != nil {
				var re redisError
				if !errors.As(err, &re) {
					return nil, err
				}
				v = re
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("resp: unknown reply type %q", line[0])
}

// infoFields parses the text of INFO into its key:value fields.
func infoFields(info string) map[string]string {
	m := map[string]string{}
	for line := range strings.SplitSeq(info, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// commandCalls parses INFO commandstats into calls per command (lower
// case, "cmdstat_" removed): "cmdstat_publish:calls=3,usec=..." gives
// publish=3.
func commandCalls(info string) map[string]int64 {
	out := map[string]int64{}
	for k, v := range infoFields(info) {
		name, ok := strings.CutPrefix(k, "cmdstat_")
		if !ok {
			continue
		}
		for kv := range strings.SplitSeq(v, ",") {
			if n, ok := strings.CutPrefix(kv, "calls="); ok {
				if c, err := strconv.ParseInt(n, 10, 64); err == nil {
					out[strings.ToLower(name)] = c
				}
			}
		}
	}
	return out
}

// callsDelta is after - before for every command of after that changed
// (counters only grow, so a command missing from after did not run).
func callsDelta(before, after map[string]int64) map[string]int64 {
	d := map[string]int64{}
	for k, v := range after {
		if n := v - before[k]; n != 0 {
			d[k] = n
		}
	}
	return d
}

// redisInfo runs INFO section and returns its fields.
func (c *respConn) info(section string) (map[string]string, string, error) {
	v, err := c.do("INFO", section)
	if err != nil {
		return nil, "", err
	}
	s, ok := v.(string)
	if !ok {
		return nil, "", fmt.Errorf("INFO %s: unexpected reply %T", section, v)
	}
	return infoFields(s), s, nil
}

// commandStats returns the calls per command so far.
func (c *respConn) commandStats() (map[string]int64, error) {
	_, s, err := c.info("commandstats")
	if err != nil {
		return nil, err
	}
	return commandCalls(s), nil
}

// usedMemory returns INFO memory's used_memory in bytes.
func (c *respConn) usedMemory() (int64, error) {
	f, _, err := c.info("memory")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(f["used_memory"], 10, 64)
}

// count returns the length of an array reply (PUBSUB CHANNELS and the
// like).
func (c *respConn) count(args ...string) (int, error) {
	v, err := c.do(args...)
	if err != nil {
		return 0, err
	}
	a, ok := v.([]any)
	if !ok {
		return 0, fmt.Errorf("%s: unexpected reply %T", args[0], v)
	}
	return len(a), nil
}
