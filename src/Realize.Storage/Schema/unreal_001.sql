-- unreal.db: what this peer knows of the other peers' files, from their histories. The
-- Unreal shows it; each batch a peer sends is applied in one transaction together with the
-- cursor of what was received, so the two never disagree.

-- The peers this database has heard of, each with a small number that the other tables use.
CREATE TABLE peers (
    id       INTEGER PRIMARY KEY,  -- the number
    peer_id  TEXT NOT NULL UNIQUE  -- the peer ID, as 'realize id' prints it
);

-- One row per (arena, path, peer) a peer's history speaks of. By arena and path first: the
-- Unreal looks a path up across peers, and a scan's history arrives in path order.
CREATE TABLE files (
    arena     TEXT NOT NULL,     -- arena name
    path      TEXT NOT NULL,     -- path relative to the arena
    peer      INTEGER NOT NULL,  -- the sender: peers.id
    blob      BLOB,              -- content hash (32 bytes); NULL: removed (a tombstone, which
                                 -- supersedes the version it names in old_blob)
    size      INTEGER,           -- size in bytes; NULL for a tombstone
    mtime_ns  INTEGER,           -- modification time, ns since the epoch; NULL for a tombstone
    old_blob  BLOB,              -- the content this version replaced or removed, when known
    PRIMARY KEY (arena, path, peer)
) WITHOUT ROWID;

-- The last index of each peer's history applied here, per arena, and which history it is of
-- (the sender's random history id: a new index.db there starts another one).
CREATE TABLE received (
    peer     INTEGER NOT NULL,  -- peers.id
    arena    TEXT NOT NULL,     -- arena name
    idx      INTEGER NOT NULL,  -- last index applied
    history  INTEGER NOT NULL,  -- the sender's history id
    PRIMARY KEY (peer, arena)
) WITHOUT ROWID;

-- The files of a reset in progress; they replace the peer's rows of the arena at its end.
CREATE TABLE reset_files (
    peer      INTEGER NOT NULL,
    arena     TEXT NOT NULL,
    path      TEXT NOT NULL,
    blob      BLOB NOT NULL,
    size      INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL,
    PRIMARY KEY (peer, arena, path)
) WITHOUT ROWID;
