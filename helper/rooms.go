package helper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Errors of decodeRooms: why a join or leave payload was refused.
var (
	errRoomsNotObject = errors.New("payload is not an object")
	errRoomsMissing   = errors.New(`payload has no "rooms"`)
	errRoomsNotArray  = errors.New(`"rooms" is not an array`)
	errRoomsEmpty     = errors.New(`"rooms" is empty`)
)

// decodeRooms decodes the payload of a join or leave event, which must be
// {"rooms": [string, ...]} with at least one non-empty room name. Other
// keys are ignored; duplicate rooms are kept once, in first-seen order.
// Anything else is refused whole: no room of a malformed payload is used.
func decodeRooms(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errRoomsNotObject
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	list, ok := obj["rooms"]
	if !ok {
		return nil, errRoomsMissing
	}
	list = bytes.TrimSpace(list)
	if len(list) == 0 || list[0] != '[' {
		return nil, errRoomsNotArray
	}
	var items []json.RawMessage
	if err := json.Unmarshal(list, &items); err != nil {
		return nil, fmt.Errorf(`"rooms": %w`, err)
	}
	if len(items) == 0 {
		return nil, errRoomsEmpty
	}
	rooms := make([]string, 0, len(items))
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		it = bytes.TrimSpace(it)
		// json.Unmarshal of null into a string succeeds and leaves it
		// empty: only a JSON string is a room name.
		if len(it) == 0 || it[0] != '"' {
			return nil, fmt.Errorf(`"rooms"[%d] is not a string`, i)
		}
		var r string
		if err := json.Unmarshal(it, &r); err != nil {
			return nil, fmt.Errorf(`"rooms"[%d]: %w`, i, err)
		}
		if r == "" {
			return nil, fmt.Errorf(`"rooms"[%d] is empty`, i)
		}
		if !seen[r] {
			seen[r] = true
			rooms = append(rooms, r)
		}
	}
	return rooms, nil
}
