-- unreal.db: what this peer knows of the other peers' files, from their histories. The
-- Unreal shows it; each batch a peer sends is applied in one transaction together with the
-- cursor of what was received, so the two never disagree.

-- One row per (peer, arena, path) the peer's history speaks of.
CREATE TABLE files (
    peer      TEXT NOT NULL,     -- the sender's peer ID
    arena     TEXT NOT NULL,     -- arena name
    path      TEXT NOT NULL,     -- path relative to the arena
    blob      BLOB,              -- content hash (32 bytes); NULL: removed (a tombstone, which
                                 -- supersedes the version it names in old_blob)
    size      INTEGER,           -- size in bytes; NULL for a tombstone
    mtime_ns  INTEGER,           -- modification time, ns since the epoch; NULL for a tombstone
    old_blob  BLOB,              -- the content this version replaced or removed, when known
    PRIMARY KEY (peer, arena, path)
) WITHOUT ROWID;

-- The versions of one path across peers: what the Unreal shows, and conflicts.
CREATE INDEX files_path ON files (arena, path);

-- The last index of each peer's history applied here, per arena.
CREATE TABLE received (
    peer   TEXT NOT NULL,     -- the sender's peer ID
    arena  TEXT NOT NULL,     -- arena name
    idx    INTEGER NOT NULL,  -- last index applied
    PRIMARY KEY (peer, arena)
) WITHOUT ROWID;

-- The files of a reset in progress; they replace the peer's rows of the arena at its end.
CREATE TABLE reset_files (
    peer      TEXT NOT NULL,
    arena     TEXT NOT NULL,
    path      TEXT NOT NULL,
    blob      BLOB NOT NULL,
    size      INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL,
    PRIMARY KEY (peer, arena, path)
) WITHOUT ROWID;
