module github.com/gosio/gosio

go 1.26

require (
	github.com/coder/websocket v1.8.15
	github.com/google/go-cmp v0.7.0
)
