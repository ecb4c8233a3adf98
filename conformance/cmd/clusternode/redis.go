package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/redis"
)

// newRedisAdapter connects to cfg.redisURL and starts the classic or the
// sharded adapter with its default options (prefix "socket.io").
func newRedisAdapter(ctx context.Context, cfg *config, log *slog.Logger) (adapter.Factory, func() error, error) {
	opt, err := rueidis.ParseURL(cfg.redisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("--redis %q: %w", cfg.redisURL, err)
	}
	opt.DisableCache = true
	client, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, nil, err
	}
	var cluster *redis.Cluster
	switch cfg.adapter {
	case "classic":
		o := &redis.Options{Logger: log, PublishOnSpecificResponseChannel: cfg.opts.PublishOnSpecificResponseChannel}
		if cfg.opts.Parser == "json" {
			o.Parser = redis.JSON
		}
		cluster, err = redis.New(ctx, client, o)
	case "sharded":
		o := &redis.ShardedOptions{Logger: log}
		switch cfg.opts.SubscriptionMode {
		case "static":
			o.SubscriptionMode = redis.Static
		case "dynamic-private":
			o.SubscriptionMode = redis.DynamicPrivate
		}
		cluster, err = redis.NewSharded(ctx, client, o)
	case "streams":
		cluster, err = redis.NewStreams(ctx, client, &redis.StreamsOptions{Logger: log})
	default:
		err = fmt.Errorf("unknown adapter %q", cfg.adapter)
	}
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	closeAll := func() error {
		err := cluster.Close()
		client.Close()
		if errors.Is(err, redis.ErrClosed) {
			err = nil
		}
		return err
	}
	return cluster.Adapter, closeAll, nil
}
