using System.Reflection;
using Microsoft.Data.Sqlite;
using Realize.Core;

namespace Realize.Storage;

/// <summary>
/// What <c>index.db</c> and <c>unreal.db</c> have in common: one WAL connection used by one
/// thread at a time, schema migrations from embedded .sql files, statements prepared once, and
/// blob hashes stored as their 32 bytes.
/// </summary>
public abstract class SqliteDb : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, (SqliteCommand Command, SqliteParameter[] Parameters)> _prepared = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;

    /// <summary>Opens (creating when missing) the database at <paramref name="path"/> and brings its schema up to date.</summary>
    /// <param name="migrated">
    /// Called after the migrations ran, in their transaction, with the schema version they
    /// started from: for a migration that needs code, not only SQL (the derived class's field
    /// initializers have run; its constructor body has not).
    /// </param>
    /// <exception cref="StorageException">SQLite could not open it or bring its schema up to date.</exception>
    protected SqliteDb(string path, string name, IReadOnlyList<string> migrations, Action<SqliteDb, long>? migrated = null)
    {
        DatabasePath = path;
        DatabaseName = name;
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            _connection.Open();
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;");
            Migrate(name, migrations, migrated);
        }
        catch (SqliteException e)
        {
            _connection.Dispose();
            throw StorageException.From(path, e);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>The file's name, for messages.</summary>
    protected string DatabaseName { get; }

    /// <summary>The file, as opened.</summary>
    protected string DatabasePath { get; }

    /// <summary>
    /// Runs <paramref name="body"/>, turning a <see cref="SqliteException"/> into a
    /// <see cref="StorageException"/> naming this file: every public member of a database goes
    /// through here (or <see cref="GuardedRows"/>), so no other layer sees SQLite's types.
    /// </summary>
    protected T Guarded<T>(Func<T> body)
    {
        try
        {
            return body();
        }
        catch (SqliteException e)
        {
            throw StorageException.From(DatabasePath, e);
        }
    }

    /// <inheritdoc cref="Guarded{T}(Func{T})"/>
    protected void Guarded(Action body)
    {
        try
        {
            body();
        }
        catch (SqliteException e)
        {
            throw StorageException.From(DatabasePath, e);
        }
    }

    /// <summary><paramref name="rows"/>, read lazily as they are, with <see cref="Guarded{T}(Func{T})"/>'s conversion on each step.</summary>
    protected internal IEnumerable<T> GuardedRows<T>(IEnumerable<T> rows)
    {
        using var cursor = rows.GetEnumerator();
        while (true)
        {
            try
            {
                if (!cursor.MoveNext())
                {
                    yield break;
                }
            }
            catch (SqliteException e)
            {
                throw StorageException.From(DatabasePath, e);
            }
            yield return cursor.Current;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var (command, _) in _prepared.Values)
        {
            command.Dispose();
        }
        foreach (var statement in _raw.Values)
        {
            statement.Dispose();
        }
        _connection.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs <paramref name="body"/> in a transaction that every command of this connection joins; nested calls join the outer one.</summary>
    protected T InTransaction<T>(Func<T> body)
    {
        if (_transaction is not null)
        {
            return body();
        }
        using var transaction = _transaction = _connection.BeginTransaction();
        try
        {
            T result = body();
            transaction.Commit();
            return result;
        }
        finally
        {
            _transaction = null;
        }
    }

    /// <summary>
    /// Starts a transaction that lasts until the result is disposed (then rolled back): the reads
    /// in between see one state of the database, whatever other connections commit meanwhile.
    /// </summary>
    protected IDisposable BeginReadTransaction()
    {
        if (_transaction is not null)
        {
            throw new InvalidOperationException("a transaction is already open on this connection");
        }
        _transaction = _connection.BeginTransaction(deferred: true);
        return new ReadTransaction(this);
    }

    private sealed class ReadTransaction(SqliteDb db) : IDisposable
    {
        public void Dispose()
        {
            db._transaction?.Dispose();
            db._transaction = null;
        }
    }

    /// <summary>A statement prepared on first use and kept, joined to the current transaction, with its parameters by position.</summary>
    protected internal (SqliteCommand Command, SqliteParameter[] Parameters) Prepared(string sql, params string[] names)
    {
        if (!_prepared.TryGetValue(sql, out var entry))
        {
            var command = Command(sql);
            entry = (command, AddParameters(command, names));
            _prepared[sql] = entry;
        }
        entry.Command.Transaction = _transaction;
        return entry;
    }

    /// <summary>
    /// A statement of SQLite's own API on this connection, for the hottest loop (applying a
    /// peer's history): binding spans and numbers directly, it costs half of a command's
    /// boxing, byte arrays and reader per row. It joins whatever transaction is open.
    /// </summary>
    protected internal sealed class RawStatement : IDisposable
    {
        private readonly SQLitePCL.sqlite3 _db;
        private readonly SQLitePCL.sqlite3_stmt _statement;

        internal RawStatement(SQLitePCL.sqlite3 db, string sql)
        {
            _db = db;
            Check(SQLitePCL.raw.sqlite3_prepare_v2(db, sql, out _statement));
        }

        public void Bind(int index, long value) => Check(SQLitePCL.raw.sqlite3_bind_int64(_statement, index, value));

        public void Bind(int index, string value) => Check(SQLitePCL.raw.sqlite3_bind_text(_statement, index, value));

        public void Bind(int index, BlobHash? value)
        {
            if (value is not { } hash)
            {
                Check(SQLitePCL.raw.sqlite3_bind_null(_statement, index));
                return;
            }
            Span<byte> bytes = stackalloc byte[32];
            hash.WriteBytes(bytes);
            Check(SQLitePCL.raw.sqlite3_bind_blob(_statement, index, bytes));
        }

        public void BindBytes(int index, ReadOnlySpan<byte> value) => Check(SQLitePCL.raw.sqlite3_bind_blob(_statement, index, value));

        public void BindNull(int index) => Check(SQLitePCL.raw.sqlite3_bind_null(_statement, index));

        /// <summary>Steps to the next row: false once there is none (then the statement is reset, ready to bind again).</summary>
        public bool Read()
        {
            int result = SQLitePCL.raw.sqlite3_step(_statement);
            if (result == SQLitePCL.raw.SQLITE_ROW)
            {
                return true;
            }
            SQLitePCL.raw.sqlite3_reset(_statement);
            return result == SQLitePCL.raw.SQLITE_DONE
                ? false
                : throw Error(result);
        }

        /// <summary>Ends a read before its last row: the statement otherwise keeps its read snapshot (and the WAL unchecked).</summary>
        public void Reset() => SQLitePCL.raw.sqlite3_reset(_statement);

        public bool IsNull(int column) => SQLitePCL.raw.sqlite3_column_type(_statement, column) == SQLitePCL.raw.SQLITE_NULL;

        public long Value(int column) => SQLitePCL.raw.sqlite3_column_int64(_statement, column);

        public long? NullableValue(int column) => IsNull(column) ? null : Value(column);

        public string Text(int column) => SQLitePCL.raw.sqlite3_column_text(_statement, column).utf8_to_string();

        /// <summary>A blob hash column; null for NULL.</summary>
        public BlobHash? Blob(int column, string database)
        {
            if (IsNull(column))
            {
                return null;
            }
            var bytes = SQLitePCL.raw.sqlite3_column_blob(_statement, column);
            return bytes.Length == 32 ? BlobHash.FromBytes(bytes)
                : throw new InvalidDataException($"{database} holds a damaged blob hash: remove it and start again");
        }

        /// <summary>Runs the statement, which returns no rows, and makes it ready to bind again.</summary>
        public void Execute()
        {
            int result = SQLitePCL.raw.sqlite3_step(_statement);
            SQLitePCL.raw.sqlite3_reset(_statement);
            if (result != SQLitePCL.raw.SQLITE_DONE)
            {
                throw Error(result);
            }
        }

        private void Check(int result)
        {
            if (result != SQLitePCL.raw.SQLITE_OK)
            {
                throw Error(result);
            }
        }

        /// <summary>The error as Microsoft.Data.Sqlite words it, so that callers catch one kind.</summary>
        private SqliteException Error(int result) =>
            new($"SQLite Error {result}: '{SQLitePCL.raw.sqlite3_errmsg(_db).utf8_to_string()}'", result);

        public void Dispose() => _statement.Dispose();
    }

    private readonly Dictionary<string, RawStatement> _raw = new(StringComparer.Ordinal);

    /// <summary>A <see cref="RawStatement"/> prepared on first use and kept.</summary>
    protected internal RawStatement PreparedRaw(string sql)
    {
        if (!_raw.TryGetValue(sql, out var statement))
        {
            statement = new RawStatement(_connection.Handle!, sql);
            _raw[sql] = statement;
        }
        return statement;
    }

    /// <summary>A one-off statement, joined to the current transaction.</summary>
    protected SqliteCommand Command(string sql)
    {
        var command = _connection.CreateCommand();
        command.Transaction = _transaction;
#pragma warning disable CA2100 // every statement is a constant of a derived class
        command.CommandText = sql;
#pragma warning restore CA2100
        return command;
    }

    protected void Execute(string sql)
    {
        using var command = Command(sql);
        command.ExecuteNonQuery();
    }

    protected static SqliteParameter[] AddParameters(SqliteCommand command, params string[] names) =>
        names.Select(name => command.Parameters.Add(new SqliteParameter { ParameterName = name })).ToArray();

    /// <summary>A blob hash as stored: its 32 bytes.</summary>
    protected static object BlobValue(BlobHash? blob)
    {
        if (blob is not { } hash)
        {
            return DBNull.Value;
        }
        byte[] bytes = new byte[32];
        hash.WriteBytes(bytes);
        return bytes;
    }

    /// <summary>A blob hash read back; null for NULL.</summary>
    protected internal BlobHash? ReadBlob(SqliteDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }
        // Not GetBytes: on a WITHOUT ROWID table it opens an incremental blob handle per call,
        // 17 us each (measured), thirty times the cost of copying the 32 bytes.
        byte[] bytes = reader.GetFieldValue<byte[]>(ordinal);
        return bytes.Length == 32
            ? BlobHash.FromBytes(bytes)
            : throw new InvalidDataException($"{DatabaseName} holds a damaged blob hash: remove it and start again");
    }

    internal static string ReadSchema(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Realize.Storage.Schema.{name}")
            ?? throw new InvalidOperationException($"schema {name} is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private void Migrate(string name, IReadOnlyList<string> migrations, Action<SqliteDb, long>? migrated)
    {
        using var version = Command("PRAGMA user_version");
        long current = (long)version.ExecuteScalar()!;
        if (current > migrations.Count)
        {
            throw new InvalidDataException($"{name} has schema version {current}, newer than this realize ({migrations.Count}): upgrade realize");
        }
        if (current == migrations.Count)
        {
            return;
        }
        InTransaction(() =>
        {
            // Read again under the write lock: another connection opening the file for the first
            // time at the same moment may have migrated it meanwhile.
            using var again = Command("PRAGMA user_version");
            current = (long)again.ExecuteScalar()!;
            if (current == migrations.Count)
            {
                return 0;
            }
            foreach (string migration in migrations.Skip((int)current))
            {
                Execute(ReadSchema(migration));
            }
            migrated?.Invoke(this, current);
            Execute($"PRAGMA user_version = {migrations.Count}");
            return 0;
        });
    }
}
