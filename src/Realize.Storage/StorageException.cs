using Microsoft.Data.Sqlite;
using Realize.Core;

namespace Realize.Storage;

/// <summary>
/// A database of the store (<c>index.db</c>, <c>unreal.db</c>) could not be read or written:
/// SQLite's reason, the file, and what to do, in one line. The Storage layer is the only one
/// that knows SQLite; every public member of its databases throws this instead of SQLite's
/// own exception.
/// </summary>
public sealed class StorageException : RealizeException
{
    // SQLite's primary result codes (sqlite3.h) that call for different advice.
    private const int SqlitePerm = 3;
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoErr = 10;
    private const int SqliteCorrupt = 11;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;
    private const int SqliteNotADb = 26;

    public StorageException()
    {
    }

    public StorageException(string message)
        : base(message)
    {
    }

    public StorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private StorageException(string path, SqliteException failure)
        : base($"{path}: {Reason(failure)}; {Advice(failure.SqliteErrorCode)}", failure)
    {
        DatabasePath = path;
        ErrorCode = failure.SqliteErrorCode;
    }

    /// <summary>The database file that failed.</summary>
    public string? DatabasePath { get; }

    /// <summary>SQLite's primary result code (<c>SQLITE_BUSY</c> is 5, <c>SQLITE_CORRUPT</c> 11...), 0 when not from SQLite.</summary>
    public int ErrorCode { get; }

    /// <summary>The one place a <see cref="SqliteException"/> of <paramref name="path"/> becomes this layer's exception.</summary>
    internal static StorageException From(string path, SqliteException failure) => new(path, failure);

    // "SQLite Error 11: 'database disk image is malformed'." without the prefix and the dot.
    private static string Reason(SqliteException failure)
    {
        string message = failure.Message.ReplaceLineEndings(" ").TrimEnd('.');
        int quote = message.IndexOf('\'', StringComparison.Ordinal);
        return quote >= 0 && message.EndsWith('\'') && quote < message.Length - 1 ? message[(quote + 1)..^1] : message;
    }

    private static string Advice(int code) => code switch
    {
        SqliteBusy or SqliteLocked => "another process holds it locked: stop the other realize and try again",
        SqliteReadOnly or SqlitePerm or SqliteCantOpen => "check that it and its directory are writable by this user and its disk is mounted read-write",
        SqliteFull => "its disk is full: free some space and try again",
        SqliteIoErr => "its disk failed to read or write: check the disk (dmesg), then try again",
        SqliteCorrupt or SqliteNotADb => "it is damaged or not a realize database: stop realize and move the file away; a new one is made at the next start",
        _ => "if it happens again, stop realize and check the file",
    };
}
