-- index.db: what this peer has reported of its own files, and the history it sends.

-- One row per (arena, path) that the upper dir (or a plain-directory arena) speaks of,
-- holding what the history last said of that path. A path without a row is as the lower
-- layer shows it.
CREATE TABLE files (
    arena     TEXT NOT NULL,     -- arena name
    path      TEXT NOT NULL,     -- path relative to the arena
    blob      BLOB,              -- content hash (32 bytes; hex(blob) shows it); NULL: reported removed (a tombstone)
    size      INTEGER,           -- size in bytes, NULL for a tombstone
    mtime_ns  INTEGER,           -- modification time, ns since the epoch, NULL for a tombstone
    inode     INTEGER,           -- inode of the entry in real/, NULL when none; with size,
                                 -- mtime and ctime it tells an unchanged file, never re-hashed
    ctime_ns  INTEGER,           -- status change time of the entry in real/, ns; catches a
                                 -- rewrite whose mtime was set back (touch -d, rsync -t)
    source    INTEGER NOT NULL,  -- 0 tombstone, 1 content in real/, 2 content of the lower layer
    PRIMARY KEY (arena, path)
) WITHOUT ROWID;

-- The history: an append-only log with a strictly increasing index per arena.
CREATE TABLE history (
    arena     TEXT NOT NULL,     -- arena name
    idx       INTEGER NOT NULL,  -- index within the arena, from 1, allocated in the write transaction
    type      INTEGER NOT NULL,  -- 1 added, 2 updated, 3 removed
    path      TEXT NOT NULL,     -- path relative to the arena
    blob      BLOB,              -- new content hash (32 bytes); NULL for removed
    size      INTEGER,           -- new size; NULL for removed
    mtime_ns  INTEGER,           -- new mtime in ns; NULL for removed
    old_blob  BLOB,              -- the content this replaces or removes (32 bytes), when known
    PRIMARY KEY (arena, idx)
) WITHOUT ROWID;

-- The next history index of each arena. Kept apart so that trimming the log never
-- lets an index be reused.
CREATE TABLE arenas (
    name        TEXT PRIMARY KEY,  -- arena name
    next_index  INTEGER NOT NULL   -- index the next notification of this arena gets
) WITHOUT ROWID;

-- Content hashes of the files of a --lower directory, so each is hashed once.
CREATE TABLE lower_blobs (
    path      TEXT PRIMARY KEY,  -- path relative to the lower directory
    size      INTEGER NOT NULL,  -- size when hashed
    mtime_ns  INTEGER NOT NULL,  -- mtime when hashed
    inode     INTEGER NOT NULL,  -- inode when hashed
    blob      BLOB NOT NULL      -- content hash (32 bytes)
) WITHOUT ROWID;
