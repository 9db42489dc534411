using System;
using System.Collections.Generic;
using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// What every cmdlet of the module shares: one open store per process and session settings,
/// reused by every cmdlet call; the one place where exceptions become ErrorRecords.
/// </summary>
/// <remarks>
/// Opening a store reads its whole log, while an open handle only reads what other processes
/// appended since (a stat of the folder and one of the open file when nothing changed). A script
/// that calls New- in a loop would otherwise re-read the list on every call. The handle is
/// thread-safe, so runspaces share it.
/// The store is opened with the session's own values of the variables the library reads
/// (XMPPFED_STORE, ...; it names them): on Linux, $env: changes made in the session live in .NET's
/// copy of the environment, which the native library cannot see. Other values open another handle.
/// </remarks>
public abstract class StoreCmdlet : PSCmdlet
{
    /// <summary>
    /// The type name Lync Server 2013 gives the objects of these cmdlets (its reference pages'
    /// "Return Types"), which every partner carries ahead of the .NET type's own names
    /// (<see cref="PartnerDataAdapter"/>), so scripts and format data that key on Lync's name work too.
    /// </summary>
    public const string LyncTypeName = "Microsoft.Rtc.Management.WritableConfig.Settings.XmppFederation.XmppAllowedPartner#Decorated";

    private static readonly object Gate = new();
    private static PartnerStore? shared;
    /// <summary>The values of <see cref="PartnerStore.EnvironmentVariableNames"/> <see cref="shared"/> was opened with (null: unset).</summary>
    private static string?[] sharedValues = Array.Empty<string?>();
    /// <summary>The verbose line naming <see cref="shared"/>'s folders, made once per handle, not per call.</summary>
    private static string sharedDescription = string.Empty;

    private PartnerStore? store;

    /// <summary>The store for this pipeline.</summary>
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
        string description;
        try
        {
            store = SharedStore(out description);
        }
        catch (Exception e) when (IsReportable(e) || e is TypeInitializationException)
        {
            // Nothing can go on without a readable store or the native library.
            ThrowTerminatingError(ErrorRecords.From(e, null));
            return; // never reached; PowerShell 5.1's reference assembly does not mark ThrowTerminatingError [DoesNotReturn]
        }
        WriteVerbose(description);
    }

    /// <summary>The store of this process for the session's current XMPPFED_* settings (also used by tab completion).</summary>
    /// <remarks>
    /// Runs at every cmdlet call, so when nothing changed it only reads the variables the library
    /// names and compares them with the values the handle was opened with: no copy of the whole
    /// environment (GetEnvironmentVariables: ~10 us), no allocation.
    /// </remarks>
    internal static PartnerStore SharedStore() => SharedStore(out _);

    /// <inheritdoc cref="SharedStore()"/>
    /// <param name="description">The verbose line that names the handle's folders.</param>
    private static PartnerStore SharedStore(out string description)
    {
        IReadOnlyList<string> names = PartnerStore.EnvironmentVariableNames;
        lock (Gate)
        {
            if (shared is not null && Unchanged(names, sharedValues))
            {
                description = sharedDescription;
                return shared;
            }
            var values = new string?[names.Count];
            var variables = new SortedDictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = Environment.GetEnvironmentVariable(names[i]);
                if (values[i] is string value)
                {
                    variables[names[i]] = value;
                }
            }
            // A replaced handle is not disposed here: another runspace may still be using it;
            // its SafeHandle closes it once nothing refers to it.
            shared = PartnerStore.Open(null, null, variables);
            sharedValues = values;
            sharedDescription = $"Central store: {shared.Paths.Central}; local replica: {shared.Paths.Replica}";
            description = sharedDescription;
            return shared;
        }
    }

    private static bool Unchanged(IReadOnlyList<string> names, string?[] values)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (!string.Equals(Environment.GetEnvironmentVariable(names[i]), values[i], StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Writes partners to the pipeline as they are enumerated.
    /// </summary>
    /// <returns>How many were written.</returns>
    protected int WritePartners(IEnumerable<PartnerData> partners)
    {
        int written = 0;
        foreach (var partner in partners)
        {
            WritePartner(partner);
            written++;
        }
        return written;
    }

    /// <summary>
    /// Writes one partner to the pipeline (see <see cref="WritePartners"/>); Lync's type name comes
    /// with its type (<see cref="PartnerDataAdapter"/>).
    /// </summary>
    protected void WritePartner(PartnerData partner) => WriteObject(partner);

    /// <summary>
    /// Runs one item's work; a failure becomes an ErrorRecord with <paramref name="target"/> as
    /// its target: non-terminating, so the rest of the pipeline goes on, unless nothing can.
    /// </summary>
    protected void ForItem(object? target, Action work)
    {
        try
        {
            work();
        }
        catch (Exception e) when (IsReportable(e))
        {
            var record = ErrorRecords.From(e, target);
            if (ErrorRecords.IsFatal(e))
            {
                ThrowTerminatingError(record);
            }
            WriteError(record);
        }
    }

    /// <summary>
    /// Whether ShouldProcess may show anything for this call of a cmdlet of impact
    /// <paramref name="impact"/>: -WhatIf, a confirmation (-Confirm, or a $ConfirmPreference at or
    /// below the impact), or its verbose line (-Verbose, $VerbosePreference). Only then do the
    /// writers have the library decide the change first (a preview), so that what is shown names
    /// the partner as it would be stored and a change that would be refused is never offered.
    /// -Confirm:$false turns the confirmation off, not on. Otherwise ShouldProcess only says yes,
    /// and the preview would read the store a second time for nothing (6 of a New's 32 system
    /// calls). A preference that does not convert counts as one that shows.
    /// </summary>
    protected bool ShouldProcessMayShow(ConfirmImpact impact)
    {
        var bound = MyInvocation.BoundParameters;
        if (WhatIfActive() || bound.ContainsKey("Verbose"))
        {
            return true;
        }
        // -Confirm asks whatever the preference; -Confirm:$false (as scripts pass it) never asks,
        // so only the verbose line is left to decide.
        if (bound.TryGetValue("Confirm", out object? confirmBound))
        {
            if (confirmBound is SwitchParameter s ? s.IsPresent : LanguagePrimitives.IsTrue(confirmBound))
            {
                return true;
            }
        }
        // Unset preference variables mean PowerShell's defaults: High, SilentlyContinue.
        else if (!Preference("ConfirmPreference", ConfirmImpact.High, out ConfirmImpact confirm)
            || (confirm != ConfirmImpact.None && confirm <= impact))
        {
            return true;
        }
        return !Preference("VerbosePreference", ActionPreference.SilentlyContinue, out ActionPreference verbose)
            || (verbose != ActionPreference.SilentlyContinue && verbose != ActionPreference.Ignore);
    }

    /// <summary>Whether -WhatIf is in effect (the parameter, or $WhatIfPreference).</summary>
    protected bool WhatIfActive()
    {
        if (MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? bound))
        {
            return bound is SwitchParameter s ? s.IsPresent : LanguagePrimitives.IsTrue(bound);
        }
        return LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));
    }

    private bool Preference<T>(string name, T unset, out T value)
    {
        object? set = GetVariableValue(name);
        if (set is null)
        {
            value = unset;
            return true;
        }
        return LanguagePrimitives.TryConvertTo(set, out value);
    }

    /// <summary>Exceptions that are reports about the request, the store or the library, not bugs of this module.</summary>
    private static bool IsReportable(Exception e) => e is XmppFedException or ArgumentException or DllNotFoundException;

    /// <summary>
    /// Shows the library's warnings as PowerShell warnings; with -Force (Lync: "suppresses the
    /// display of any non-fatal error message") they are written to the verbose stream instead.
    /// </summary>
    protected void WriteWarnings(PartnerOutcome outcome, bool force) => WriteWarnings(outcome.Warnings, force);

    /// <summary>Shows the library's warnings (see <see cref="WriteWarnings(PartnerOutcome, bool)"/>).</summary>
    protected void WriteWarnings(IEnumerable<NegotiationWarning> warnings, bool force)
    {
        foreach (var warning in warnings)
        {
            if (force)
            {
                WriteVerbose($"WARNING ({warning.Id}): {warning.Message}");
            }
            else
            {
                WriteWarning(warning.Message);
            }
        }
    }
}
