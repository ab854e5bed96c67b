-- The view tree looks an entry up by its directory and name (UNIQUE (parent, name)), and only
-- directories by path: an index of every entry by (arena, path) cost each new file a third
-- b-tree insert of its whole path, the larger part of applying a batch. Directories are few
-- (about one in a hundred entries), so this index stays small.
DROP INDEX entries_by_path;
CREATE UNIQUE INDEX directories_by_path ON entries (arena, path) WHERE is_dir = 1;
