-- Which history this index.db holds: a random number given when the file is made. A peer
-- standing at index N of another history (this file was deleted and made anew, and its new
-- history reached N again) would otherwise never learn that its table is of the old one.
CREATE TABLE history_id (
    id  INTEGER NOT NULL  -- positive, random
);
INSERT INTO history_id (id) VALUES ((random() & 9007199254740991) + 1);
