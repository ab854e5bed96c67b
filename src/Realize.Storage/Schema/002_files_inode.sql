-- Finds the rows of a file of real/ by its inode: a scan of part of an arena recognises the
-- files of a directory moved in from elsewhere without hashing them, and finds the other
-- names of a hard-linked file that was written through one of them.
CREATE INDEX files_inode ON files (inode) WHERE inode IS NOT NULL;
