-- When each peer last acknowledged each arena's history: a peer silent for longer than
-- history.keep_days no longer holds trimming back, and status shows since when it is behind.
-- Rows that exist already count from now, the time this file is applied: nothing older is known.
ALTER TABLE peer_cursors ADD COLUMN acked_at_ms INTEGER NOT NULL DEFAULT 0;  -- Unix time in ms of the last acknowledgement (or of the row's creation, for a peer never heard of); a connected peer holding all of it keeps it fresh
UPDATE peer_cursors SET acked_at_ms = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);
