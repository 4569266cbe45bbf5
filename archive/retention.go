package archive

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/store"
)

// MaxKeepDays bounds the retention period (100 years), so that a typo
// cannot overflow the cutoff.
const MaxKeepDays = 36500

// Retention reads the retention setting.
func (s *Service) Retention(ctx context.Context) (store.ArchiveRetention, error) {
	return s.db.ArchiveRetention(ctx)
}

// SetRetention sets how many days finished notices are kept after their
// last change (0: for ever), and audits the change.
func (s *Service) SetRetention(ctx context.Context, actor string, keepDays int) error {
	if keepDays < 0 || keepDays > MaxKeepDays {
		return signpost.Errorf(signpost.EINVALID, "the retention period must be between 0 (keep everything) and %d days", MaxKeepDays)
	}
	return s.db.UpdateQuietly(ctx, func(tx *store.Tx) error {
		before, err := tx.ArchiveRetention(ctx)
		if err != nil {
			return err
		}
		if err := tx.SetArchiveRetention(ctx, store.ArchiveRetention{KeepDays: keepDays, UpdatedBy: actor}); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.PolicyChange, Target: "archive-retention",
			Before: map[string]int{"keep_days": before.KeepDays}, After: map[string]int{"keep_days": keepDays}})
		return err
	})
}

// PurgeReport says what a purge removed, or in a dry run would remove.
type PurgeReport struct {
	KeepDays int       // the setting applied; 0 means nothing is purged
	Cutoff   time.Time // notices finished and unchanged since before this went
	DryRun   bool
	store.ArchivePurgeCounts
}

// Purge deletes every notice closed or retracted, and unchanged, for longer
// than the retention period, with its revisions and delivery records, and
// writes one audit entry with the counts and the cutoff (never content).
// The audit log itself is never purged, so its chain still verifies, and
// it keeps the record that the purge happened. With dryRun nothing changes
// and nothing is audited.
func (s *Service) Purge(ctx context.Context, actor string, dryRun bool) (PurgeReport, error) {
	var rep PurgeReport
	rep.DryRun = dryRun
	// Update, not UpdateAccounts: closed notices leave the residents'
	// pages, which must be rebuilt.
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		set, err := tx.ArchiveRetention(ctx)
		if err != nil {
			return err
		}
		rep.KeepDays = set.KeepDays
		if set.KeepDays == 0 {
			return nil
		}
		rep.Cutoff = s.Now().UTC().Truncate(time.Second).AddDate(0, 0, -set.KeepDays)
		if rep.ArchivePurgeCounts, err = tx.PurgeArchive(ctx, rep.Cutoff, dryRun); err != nil {
			return err
		}
		if dryRun {
			return nil
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.Purge, Target: "archive",
			After: map[string]any{"keep_days": set.KeepDays, "cutoff": rep.Cutoff, "counts": rep.ArchivePurgeCounts}})
		return err
	})
	if err != nil {
		return PurgeReport{}, fmt.Errorf("purge archive: %w", err)
	}
	return rep, nil
}

// RunDaily purges once a day until ctx ends, the first time a day after it
// starts; 'signpost archive purge' does it at once.
func (s *Service) RunDaily(ctx context.Context, log *slog.Logger) {
	tick := time.NewTicker(24 * time.Hour)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			rep, err := s.Purge(ctx, "system:retention", false)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("archive purge failed", "err", err)
			case rep.Notices > 0:
				log.Info("archive purged", "notices", rep.Notices, "revisions", rep.Revisions, "cutoff", rep.Cutoff)
			}
		}
	}
}
