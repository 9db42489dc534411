using System;
using System.IO;
using System.Management.Automation;
using System.Text;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// Export-CsXmppAllowedPartner: the whole list (or the partners a filter selects) as JSON or CSV
/// text, in the stable form the library writes (sorted, no Revision), to a file or to the
/// pipeline. Import-CsXmppAllowedPartner reads it back.
/// </summary>
[Cmdlet(VerbsData.Export, "CsXmppAllowedPartner", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(string))]
public sealed class ExportCsXmppAllowedPartnerCommand : StoreCmdlet
{
    /// <summary>
    /// The file to write (a PowerShell path, relative to the current location; no wildcards).
    /// Omit it to write the text to the pipeline.
    /// </summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Json or Csv; default: from the file's extension (.csv, .json), else Json.</summary>
    [Parameter]
    public TransferFormat Format { get; set; }

    /// <summary>A wildcard pattern matched against Identity: only those partners are exported.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(PartnerIdentityCompleter))]
    public string? Filter { get; set; }

    /// <summary>Read this machine's local replica instead of the central store.</summary>
    [Parameter]
    public SwitchParameter LocalStore { get; set; }

    /// <summary>Overwrite a read-only file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Do not overwrite an existing file.</summary>
    [Parameter]
    [Alias("NoOverwrite")]
    public SwitchParameter NoClobber { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        string? file = Path is null ? null : FilePaths.Resolve(this, Path);
        TransferFormat format = MyInvocation.BoundParameters.ContainsKey(nameof(Format)) ? Format : FilePaths.FormatOf(file);
        ForItem(file ?? Filter, () =>
        {
            string text = Store.Export(format, Filter, LocalStore);
            string source = LocalStore ? "local replica" : "central store";
            if (file is null)
            {
                WriteVerbose($"Exported the {source}{(Filter is null ? string.Empty : $" (partners matching '{Filter}')")} as {format}.");
                WriteObject(text);
                return;
            }
            if (NoClobber && File.Exists(file))
            {
                WriteError(new ErrorRecord(
                    new IOException($"The file '{file}' already exists, and -NoClobber was given: it was not overwritten."),
                    "NoClobber", ErrorCategory.ResourceExists, file));
                return;
            }
            if (!ShouldProcess(file, $"Export XMPP allowed partners ({format})"))
            {
                return;
            }
            try
            {
                FilePaths.WriteUtf8(file, text, Force);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
            {
                WriteError(new ErrorRecord(e, "FileWriteError", ErrorCategory.WriteError, file));
                return;
            }
            WriteVerbose($"Exported the {source}{(Filter is null ? string.Empty : $" (partners matching '{Filter}')")} as {format} to '{file}'.");
        });
    }
}

/// <summary>The files of Export- and Import-CsXmppAllowedPartner: PowerShell paths, the format of a file name, UTF-8 text.</summary>
internal static class FilePaths
{
    /// <summary>
    /// A PowerShell path (relative to the session's current location, not the process's) as a
    /// file system path; the file need not exist. A path of another provider is refused.
    /// </summary>
    public static string Resolve(PSCmdlet cmdlet, string path)
    {
        string resolved;
        ProviderInfo provider;
        try
        {
            resolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _);
        }
        catch (Exception e) when (e is SessionStateException or ProviderInvocationException or NotSupportedException or ArgumentException)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(e, "InvalidPath", ErrorCategory.InvalidArgument, path));
            throw; // never reached
        }
        if (provider.Name != "FileSystem")
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"Path '{path}' is on the {provider.Name} provider; give a file system path."),
                "InvalidPath", ErrorCategory.InvalidArgument, path));
        }
        return resolved;
    }

    /// <summary>The format a file name stands for: .csv is Csv, anything else (.json, no file) Json.</summary>
    public static TransferFormat FormatOf(string? file) =>
        file is not null && System.IO.Path.GetExtension(file).Equals(".csv", StringComparison.OrdinalIgnoreCase)
            ? TransferFormat.Csv
            : TransferFormat.Json;

    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte-order mark; <paramref name="force"/> clears a read-only flag first.</summary>
    public static void WriteUtf8(string file, string text, bool force)
    {
        if (force && File.Exists(file))
        {
            var attributes = File.GetAttributes(file);
            if ((attributes & FileAttributes.ReadOnly) != 0)
            {
                File.SetAttributes(file, attributes & ~FileAttributes.ReadOnly);
            }
        }
        File.WriteAllText(file, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }
}
