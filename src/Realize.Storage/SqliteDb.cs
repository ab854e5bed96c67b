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
    private readonly byte[] _blobBuffer = new byte[32];
    private readonly Dictionary<string, (SqliteCommand Command, SqliteParameter[] Parameters)> _prepared = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;

    /// <summary>Opens (creating when missing) the database at <paramref name="path"/> and brings its schema up to date.</summary>
    protected SqliteDb(string path, string name, IReadOnlyList<string> migrations)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            _connection.Open();
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;");
            Migrate(name, migrations);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var (command, _) in _prepared.Values)
        {
            command.Dispose();
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
        // Into one reused buffer: loading 100,000 rows allocates no array per blob.
        long length = reader.GetBytes(ordinal, 0, _blobBuffer, 0, _blobBuffer.Length);
        return length == 32
            ? BlobHash.FromBytes(_blobBuffer)
            : throw new InvalidDataException($"{DatabaseName} holds a damaged blob hash: remove it and start again");
    }

    /// <summary>The file's name, for messages.</summary>
    protected abstract string DatabaseName { get; }

    internal static string ReadSchema(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Realize.Storage.Schema.{name}")
            ?? throw new InvalidOperationException($"schema {name} is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private void Migrate(string name, IReadOnlyList<string> migrations)
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
            foreach (string migration in migrations.Skip((int)current))
            {
                Execute(ReadSchema(migration));
            }
            Execute($"PRAGMA user_version = {migrations.Count}");
            return 0;
        });
    }
}
