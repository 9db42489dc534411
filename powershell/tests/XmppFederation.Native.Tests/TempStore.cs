using System;
using System.Collections.Generic;
using System.IO;

namespace XmppFederation.Native.Tests;

/// <summary>A store in fresh temporary central and replica folders, deleted afterwards.</summary>
internal sealed class TempStore : IDisposable
{
    public TempStore()
    {
        Root = Path.Combine(Path.GetTempPath(), "xmppfed-tests-" + Guid.NewGuid().ToString("N"));
        CentralDir = Path.Combine(Root, "central");
        ReplicaDir = Path.Combine(Root, "replica");
        Directory.CreateDirectory(CentralDir);
        Directory.CreateDirectory(ReplicaDir);
        try
        {
            Store = PartnerStore.Open(CentralDir, ReplicaDir);
        }
        catch
        {
            Directory.Delete(Root, recursive: true);
            throw;
        }
    }

    public string Root { get; }

    public string CentralDir { get; }

    public string ReplicaDir { get; }

    public PartnerStore Store { get; }

    public void Dispose()
    {
        Store.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static Dictionary<string, object?> Props(params (string Key, object? Value)[] pairs)
    {
        var d = new Dictionary<string, object?>();
        foreach (var (key, value) in pairs)
        {
            d[key] = value;
        }

        return d;
    }
}
