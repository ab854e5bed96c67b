using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;

// realize-map-reader FILE SPLIT: maps FILE, reads from SPLIT to the end first, then from the
// start to SPLIT (page faults in the middle of the file, not a sequential read), and prints the
// SHA-256 of the content in file order, in hex.
if (args.Length != 2 || !long.TryParse(args[1], out long split))
{
    Console.Error.WriteLine("usage: Realize.MapReader FILE SPLIT");
    return 2;
}
long length = new FileInfo(args[0]).Length;
using var map = MemoryMappedFile.CreateFromFile(args[0], FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
using var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
byte[] content = new byte[length];
view.ReadArray(split, content, (int)split, (int)(length - split));
view.ReadArray(0, content, 0, (int)split);
Console.WriteLine(Convert.ToHexStringLower(SHA256.HashData(content)));
return 0;
