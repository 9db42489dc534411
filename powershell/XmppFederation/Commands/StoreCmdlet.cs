using System;
using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// What every cmdlet of the module shares: the store is opened once per pipeline in
/// BeginProcessing and closed at the end; library exceptions become ErrorRecords.
/// </summary>
public abstract class StoreCmdlet : PSCmdlet
{
    private PartnerStore? store;

    /// <summary>The store opened for this pipeline (central folder from $env:XMPPFED_STORE or the default).</summary>
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
            store = PartnerStore.Open();
        }
        catch (Exception e) when (e is XmppFedException or TypeInitializationException or DllNotFoundException)
        {
            // Nothing can go on without a readable store or the native library.
            ThrowTerminatingError(ErrorRecords.From(e, null));
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

    /// <inheritdoc/>
    protected override void EndProcessing() => Close();

    /// <inheritdoc/>
    protected override void StopProcessing() => Close();

    private void Close()
    {
        store?.Dispose();
        store = null;
    }
}
