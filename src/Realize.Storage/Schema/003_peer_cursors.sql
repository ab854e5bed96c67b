-- What each peer has durably applied of this peer's history, per arena: the index its last
-- acknowledgement named. Sending resumes from what the peer says it holds; this cursor tells
-- how far behind a peer is, and which entries every peer has (so may be trimmed).
CREATE TABLE peer_cursors (
    peer   TEXT NOT NULL,     -- the peer's ID
    arena  TEXT NOT NULL,     -- arena name
    acked  INTEGER NOT NULL,  -- last index acknowledged
    PRIMARY KEY (peer, arena)
) WITHOUT ROWID;
