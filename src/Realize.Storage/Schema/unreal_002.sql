-- The Unreal's view of files: which version of each path it shows, kept up to date as each
-- batch is applied (in the same transaction), so that a lookup, a listing or 'status' is an
-- indexed query and never a scan of files. And the blob cache: the content fetched so far.

-- The view tree. Its root (id 1) holds one directory per arena that has a file; below, the
-- directories and files of the paths whose winning version is not a tombstone. A directory
-- exists while any entry is in it and disappears with its last one.
CREATE TABLE entries (
    id        INTEGER PRIMARY KEY,  -- the inode number; 1 is the root. Never reused (see
                                    -- next_entry), so the kernel never mistakes a new entry
                                    -- for one it still remembers
    parent    INTEGER NOT NULL,  -- entries.id of the directory it is in; 0 for the root
    name      TEXT NOT NULL,     -- its name in the parent ('' for the root; the arena's name
                                 -- for an arena's directory)
    arena     TEXT,              -- arena name; NULL for the root
    path      TEXT NOT NULL,     -- path relative to the arena; '' for the arena's directory
                                 -- and the root
    is_dir    INTEGER NOT NULL,  -- 1: a directory, 0: a file
    peer      INTEGER,           -- a file: peers.id of the peer whose version it shows
    blob      BLOB,              -- a file: the content hash shown (32 bytes)
    size      INTEGER,           -- a file: size in bytes
    mtime_ns  INTEGER,           -- a file: modification time, ns since the epoch
    conflict  INTEGER NOT NULL DEFAULT 0,  -- a file: 1 when its path is in conflicts
    children  INTEGER NOT NULL DEFAULT 0,  -- a directory: how many entries it holds
    UNIQUE (parent, name)
);
-- A path, looked up when a batch touches it (and by FindPath).
CREATE UNIQUE INDEX entries_by_path ON entries (arena, path);
INSERT INTO entries (id, parent, name, arena, path, is_dir) VALUES (1, 0, '', NULL, '', 1);

-- One row: the id the next entry gets (ids only grow, also past entries since removed).
CREATE TABLE next_entry (
    id  INTEGER NOT NULL
);
INSERT INTO next_entry (id) VALUES (2);

-- Paths whose standing versions (those no other version supersedes) disagree: 'status'
-- lists them. Also kept when a directory of the same name hides the file.
CREATE TABLE conflicts (
    arena  TEXT NOT NULL,  -- arena name
    path   TEXT NOT NULL,  -- path relative to the arena
    PRIMARY KEY (arena, path)
) WITHOUT ROWID;

-- The blob cache: one file per blob in unreal/blobs/, named by its hash in hex. A blob is
-- written block by block (4 MiB, each verified by the caller first) and complete once every
-- block is there and synced to disk.
CREATE TABLE cached_blobs (
    blob        BLOB PRIMARY KEY,  -- content hash (32 bytes)
    size        INTEGER NOT NULL,  -- size in bytes
    block_list  BLOB,              -- the SHA-256 of each block, concatenated, once known
    complete    INTEGER NOT NULL,  -- 1 once every block is present and synced
    last_use    INTEGER NOT NULL,  -- when it was last used (ns since the epoch): eviction
                                   -- takes the least recently used first
    arena       TEXT               -- the arena of the file it was fetched for: it is served
                                   -- only to peers that share that arena
) WITHOUT ROWID;

-- The blocks of each cached blob written so far (for a partial blob: what a restart keeps).
CREATE TABLE cached_blocks (
    blob  BLOB NOT NULL,     -- cached_blobs.blob
    idx   INTEGER NOT NULL,  -- block index: the block starts at idx * 4 MiB
    PRIMARY KEY (blob, idx)
) WITHOUT ROWID;
