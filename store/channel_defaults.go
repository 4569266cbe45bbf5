package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/signpost-uk/signpost"
)

// DefaultChannels names the channels whose configuration lists category
// among the categories they publish by default (the "categories" array in
// the channel's config), sorted. A notice with no channels chosen goes
// to these.
func (db *DB) DefaultChannels(ctx context.Context, category signpost.Category) ([]string, error) {
	all, err := db.CategoryChannels(ctx)
	return all[category], err
}

// CategoryChannels maps each category to its default channels (as
// DefaultChannels), leaving out categories that have none.
func (db *DB) CategoryChannels(ctx context.Context) (map[signpost.Category][]string, error) {
	cs, err := db.Channels(ctx)
	if err != nil {
		return nil, err
	}
	out := map[signpost.Category][]string{}
	for _, c := range cs {
		var cfg struct {
			Categories []signpost.Category `json:"categories"`
		}
		if err := json.Unmarshal(c.Config, &cfg); err != nil {
			return nil, fmt.Errorf("channel %s: configuration: %w", c.Name, err)
		}
		for _, cat := range slices.Compact(slices.Sorted(slices.Values(cfg.Categories))) {
			out[cat] = append(out[cat], c.Name)
		}
	}
	return out, nil
}
