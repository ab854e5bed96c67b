-- Finds the files that hold a blob: a peer asking for one over BLOB is served from a file of
-- real/ or of a plain-directory arena whose row has it (and whose size, mtime and inode still
-- match the row). Tombstones have no blob and stay out of the index.
CREATE INDEX files_blob ON files (blob) WHERE blob IS NOT NULL;
-- The block lists of this peer's blobs of more than one block, kept once computed (by the BLOB
-- server, or by whoever hashes a file): a blob's list never changes, and computing it means
-- reading the whole file, seconds for a large one, before the first block can be verified.
-- Lists of blobs no file has any more are deleted with the history's trimming.
CREATE TABLE block_lists (
    blob    BLOB PRIMARY KEY,  -- content hash (32 bytes)
    hashes  BLOB NOT NULL      -- the SHA-256 of each 4 MiB block, concatenated (32 bytes each)
) WITHOUT ROWID;
