using System;
using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// What every cmdlet of the module shares: one open store per process, reused by every cmdlet
/// call; library exceptions become ErrorRecords.
/// </summary>
/// <remarks>
/// Opening a store reads its whole log, while an open handle only reads what other processes
/// appended since (one stat when nothing changed). A script that calls New- in a loop would
/// otherwise re-read the list on every call. The handle is thread-safe, so runspaces share it; a
/// different $env:XMPPFED_STORE or $env:XMPPFED_REPLICA opens another one.
/// </remarks>
public abstract class StoreCmdlet : PSCmdlet
{
    private static readonly object Gate = new();
    private static PartnerStore? shared;
    private static string? sharedKey;

    private PartnerStore? store;

    /// <summary>The store for this pipeline (central folder from $env:XMPPFED_STORE or the default).</summary>
    protected PartnerStore Store => store ?? throw new InvalidOperationException("the store is opened in BeginProcessing");

    /// <summary>Whether this cmdlet needs the store at all for the current parameters.</summary>
    protected virtual bool NeedsStore => true;

    /// <inheritdoc/>
    protected override void BeginProcessing()
    {
        if (!NeedsStore)
        {
            return;
        }
        try
        {
            store = SharedStore();
        }
        catch (Exception e) when (e is XmppFedException or TypeInitializationException or DllNotFoundException)
        {
            // Nothing can go on without a readable store or the native library.
            ThrowTerminatingError(ErrorRecords.From(e, null));
        }
    }

    private static PartnerStore SharedStore()
    {
        var key = Environment.GetEnvironmentVariable("XMPPFED_STORE") + "\n" + Environment.GetEnvironmentVariable("XMPPFED_REPLICA");
        lock (Gate)
        {
            // A replaced handle is not disposed here: another runspace may still be using it;
            // its SafeHandle closes it once nothing refers to it.
            if (shared is null || sharedKey != key)
            {
                shared = PartnerStore.Open();
                sharedKey = key;
            }
            return shared;
        }
    }

    /// <summary>Reports a per-item failure without stopping the pipeline, unless nothing can go on.</summary>
    protected void Fail(Exception e, object? target)
    {
        var record = ErrorRecords.From(e, target);
        if (ErrorRecords.IsFatal(e))
        {
            ThrowTerminatingError(record);
        }
        WriteError(record);
    }

    /// <summary>Shows the library's negotiation warnings as PowerShell warnings.</summary>
    protected void WriteWarnings(PartnerOutcome outcome)
    {
        foreach (var warning in outcome.Warnings)
        {
            WriteWarning(warning.Message);
        }
    }
}
