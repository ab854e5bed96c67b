-- Finds the files that hold a blob: a peer asking for one over BLOB is served from a file of
-- real/ or of a plain-directory arena whose row has it (and whose size, mtime and inode still
-- match the row). Tombstones have no blob and stay out of the index.
CREATE INDEX files_blob ON files (blob) WHERE blob IS NOT NULL;
