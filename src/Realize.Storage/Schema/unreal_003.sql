-- The seal of a complete cached blob: its file's inode and ctime once it was complete and synced.
-- The cache never writes a complete blob's file again, so a file whose inode or ctime differs
-- was changed behind the cache's back (ctime cannot be set back): its blocks are checked again
-- before it is served, at the next open or restart.
ALTER TABLE cached_blobs ADD COLUMN sealed_inode INTEGER;  -- null: not complete, or complete before this schema
ALTER TABLE cached_blobs ADD COLUMN sealed_ctime INTEGER;  -- ns since the epoch
