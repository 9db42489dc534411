using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// Import-CsXmppAllowedPartner: makes the list what a file (Export-CsXmppAllowedPartner's JSON or
/// CSV) or the pipeline's objects say, in one commit: partners added, changed, and with
/// -RemoveMissing the ones the input does not name removed. The library computes the difference
/// and applies it all or not at all; this cmdlet shows the difference (-WhatIf), asks, and applies
/// exactly the difference it showed (a store changed in between is refused: StoreChanged).
/// </summary>
[Cmdlet(VerbsData.Import, "CsXmppAllowedPartner", DefaultParameterSetName = PathSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ImportResult))]
public sealed class ImportCsXmppAllowedPartnerCommand : StoreCmdlet
{
    /// <summary>Parameter set reading a file.</summary>
    public const string PathSet = "Path";
    /// <summary>Parameter set reading the pipeline's objects.</summary>
    public const string InputObjectSet = "InputObject";

    /// <summary>Partners named in a removal confirmation before "and N more".</summary>
    private const int NamesShown = 10;

    /// <summary>The file to read (a PowerShell path, relative to the current location; no wildcards).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Json or Csv; default: from the file's extension (.csv, .json), else Json.</summary>
    [Parameter(ParameterSetName = PathSet)]
    public TransferFormat Format { get; set; }

    /// <summary>
    /// Objects with partner properties, one partner each: rows of Import-Csv, objects of
    /// ConvertFrom-Json or Import-Clixml, partners of Get-CsXmppAllowedPartner. All of them are
    /// imported together when the pipeline ends.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public PSObject? InputObject { get; set; }

    /// <summary>Remove the partners the input does not name: the list becomes exactly the input.</summary>
    [Parameter]
    public SwitchParameter RemoveMissing { get; set; }

    /// <summary>Removes without the extra confirmation that -RemoveMissing asks for; warnings go to the verbose stream.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private readonly List<IReadOnlyDictionary<string, object?>> items = new();
    private readonly List<(int Position, object Value)> notPartners = new();

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == InputObjectSet)
        {
            // Collected: the pipeline is one import, applied once at its end.
            if (InputObject is not null)
            {
                var properties = PipelineProperties.Of(InputObject);
                if (properties is null)
                {
                    notPartners.Add((items.Count + 1, InputObject.BaseObject));
                }
                items.Add(properties ?? new Dictionary<string, object?>());
            }
            return;
        }

        string file = FilePaths.Resolve(this, Path);
        TransferFormat format = MyInvocation.BoundParameters.ContainsKey(nameof(Format)) ? Format : FilePaths.FormatOf(file);
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            WriteError(new ErrorRecord(new ItemNotFoundException($"Cannot find path '{file}' because it does not exist.", e),
                "PathNotFound", ErrorCategory.ObjectNotFound, file));
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(new ErrorRecord(e, "FileReadError", ErrorCategory.ReadError, file));
            return;
        }
        var where = format == TransferFormat.Csv ? $"Line {{0}} of '{file}'" : $"Item {{0}} of '{file}'";
        Run(file, where, options =>
        {
            options.Format = format;
            return (Store.PreviewImport(text, options), o => Store.Import(text, o));
        });
    }

    /// <inheritdoc/>
    protected override void EndProcessing()
    {
        if (ParameterSetName != InputObjectSet)
        {
            return;
        }
        if (notPartners.Count > 0)
        {
            var (position, value) = notPartners[0];
            string shown = value is string s && s.Length > 40 ? s.Substring(0, 40) + "..." : $"{value}";
            WriteError(ErrorRecords.From(new ArgumentException(
                $"InputObject takes objects with partner properties (rows of Import-Csv, objects of ConvertFrom-Json, partners of "
                + $"Get-CsXmppAllowedPartner), but pipeline object {position} is a {value.GetType().Name} ('{shown}')"
                + (notPartners.Count > 1 ? $", and {notPartners.Count - 1} more are not objects either" : string.Empty)
                + "; nothing was imported. To import a file, use -Path."), value));
            return;
        }
        Run(null, "Pipeline object {0}", options => (Store.PreviewImport(items, options), o => Store.Import(items, o)));
    }

    /// <summary>
    /// The import: the library's difference first (warnings, rejected items as errors), then, if
    /// there is something to change, ShouldProcess, then the commit of exactly that difference.
    /// </summary>
    private void Run(string? file, string where, Func<ImportOptions, (ImportResult Plan, Func<ImportOptions, ImportResult> Apply)> start)
    {
        ForItem(file, () =>
        {
            var options = new ImportOptions { RemoveMissing = RemoveMissing };
            var (plan, apply) = start(options);
            WriteWarnings(plan.Warnings, Force);
            foreach (var rejected in plan.Rejected)
            {
                string message = $"{string.Format(System.Globalization.CultureInfo.InvariantCulture, where, rejected.Position)} cannot be imported: {rejected.Reason}";
                WriteError(ErrorRecords.From(rejected.ToException(message), (object?)rejected.Identity ?? rejected.Position));
            }
            string summary = Summary(plan);
            if (plan.Rejected.Count == 0 && plan.ChangeCount == 0)
            {
                WriteVerbose($"Nothing to import: {summary} (central store at revision {plan.BaseRevision}).");
                WriteObject(plan);
                return;
            }
            string action = $"Import XMPP allowed partners ({summary})";
            string target = Store.Paths.Central;
            if (plan.Rejected.Count > 0)
            {
                if (WhatIfActive())
                {
                    WriteObject(plan);
                    return;
                }
                // Nothing to ask: the library refuses the whole import (ImportRejected), naming the
                // first problem. Asked to apply exactly this difference, it decides as shown.
                options.ExpectedRevision = plan.BaseRevision;
                WriteObject(apply(options));
                return;
            }
            if (!ShouldProcess($"Performing the operation \"{action}\" on target \"{target}\".",
                    $"Are you sure you want to perform this action?{Environment.NewLine}Performing the operation \"{action}\" on target \"{target}\".",
                    "Confirm", out ShouldProcessReason reason))
            {
                if (reason == ShouldProcessReason.WhatIf)
                {
                    WriteObject(plan);
                }
                return;
            }
            if (plan.Removed.Count > 0 && !Force && RemovalNotYetConfirmed() && !ShouldContinue(RemovalQuestion(plan), "Confirm removal"))
            {
                return;
            }
            options.ExpectedRevision = plan.BaseRevision;
            var result = apply(options);
            WriteWarnings(result.Warnings.Where(w => !plan.Warnings.Contains(w)), Force);
            WriteVerbose($"Imported into '{target}': {Summary(result)}; committed as revision {result.CommittedRevision}.");
            WriteObject(result);
        });
    }

    private static string Summary(ImportResult plan) =>
        $"{plan.Added.Count} added, {plan.Changed.Count} changed, {plan.Removed.Count} removed, {plan.Unchanged.Count} unchanged"
        + (plan.Rejected.Count > 0 ? $", {plan.Rejected.Count} rejected" : string.Empty);

    private static string RemovalQuestion(ImportResult plan)
    {
        var names = plan.Removed.Take(NamesShown).Select(p => p.Identity);
        string more = plan.Removed.Count > NamesShown ? $" and {plan.Removed.Count - NamesShown} more" : string.Empty;
        return $"-RemoveMissing removes {plan.Removed.Count} partner(s) that the input does not name: {string.Join(", ", names)}{more}. Remove them?";
    }

    /// <summary>
    /// A removal is a high-impact change: it is confirmed as ConfirmImpact High would be. That is,
    /// unless -Confirm (ShouldProcess has asked already), -Confirm:$false, or a $ConfirmPreference
    /// other than High (Low and Medium: ShouldProcess has asked; None: never ask).
    /// </summary>
    private bool RemovalNotYetConfirmed()
    {
        if (MyInvocation.BoundParameters.ContainsKey("Confirm"))
        {
            return false;
        }
        object? preference = GetVariableValue("ConfirmPreference");
        return preference is not null && LanguagePrimitives.TryConvertTo(preference, out ConfirmImpact impact) && impact == ConfirmImpact.High;
    }
}

/// <summary>
/// The properties of a pipeline object as an import item: names and values as PowerShell shows
/// them, values turned into text, numbers, Booleans, lists and nested property sets. What they
/// mean, and what is wrong with them, the library decides.
/// </summary>
internal static class PipelineProperties
{
    /// <summary>Deeper than any partner property; a self-referencing object stops here.</summary>
    private const int MaxDepth = 8;

    /// <summary>The object's properties; null for a value that has none of its own (text, a number).</summary>
    public static Dictionary<string, object?>? Of(PSObject item)
    {
        object value = item.BaseObject;
        if (IsScalar(value))
        {
            return null;
        }
        return Properties(item, depth: 0);
    }

    private static bool IsScalar(object value) =>
        value is string or char or bool or Enum or DateTime or DateTimeOffset or decimal || value.GetType().IsPrimitive;

    private static Dictionary<string, object?> Properties(PSObject item, int depth)
    {
        var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (item.BaseObject is IDictionary map)
        {
            foreach (DictionaryEntry entry in map)
            {
                properties[Convert.ToString(entry.Key, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty] = Value(entry.Value, depth + 1);
            }
            return properties;
        }
        foreach (PSPropertyInfo property in item.Properties)
        {
            object? value;
            try
            {
                value = property.Value;
            }
            catch (GetValueException)
            {
                continue; // a property whose getter fails is not data
            }
            properties[property.Name] = Value(value, depth + 1);
        }
        return properties;
    }

    private static object? Value(object? value, int depth)
    {
        if (value is null)
        {
            return null;
        }
        if (depth > MaxDepth)
        {
            return value.ToString();
        }
        if (value is PSObject wrapped)
        {
            object inner = wrapped.BaseObject;
            if (inner is PSCustomObject)
            {
                return Properties(wrapped, depth);
            }
            // A value read back by Import-Clixml (Deserialized.*): an enum comes back as its
            // number, with its name as the object's text.
            if (wrapped.TypeNames.Count > 0 && wrapped.TypeNames[0].StartsWith("Deserialized.", StringComparison.Ordinal) && IsScalar(inner))
            {
                return wrapped.ToString();
            }
            value = inner;
        }
        switch (value)
        {
            case string or bool or Enum or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal:
                return value;
            case char c:
                return c.ToString();
            case IDictionary:
                return Properties(PSObject.AsPSObject(value), depth);
            case IEnumerable list:
                return list.Cast<object?>().Select(v => Value(v, depth + 1)).ToList();
            default:
                // Any other value (a date, a URI) as the text PowerShell would show.
                return LanguagePrimitives.ConvertTo<string>(value);
        }
    }
}
