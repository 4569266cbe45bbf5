-- Alerts about channels that stop working. outages counts the times a
-- channel went from healthy to unhealthy; alerted_outage is the last of
-- them the administrators were e-mailed about, so each outage is told
-- once however many deliveries fail in it, and alert_claimed_at lets one
-- server send it while the others skip it. Channels already unhealthy at
-- upgrade start with both at 0 and are not alerted about.
ALTER TABLE channels ADD COLUMN outages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN alerted_outage INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN alert_claimed_at {{timestamp}};
