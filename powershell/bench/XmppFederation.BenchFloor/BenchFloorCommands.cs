using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace XmppFederation.BenchFloor;

// Bench-only. Each cmdlet has the shape of its XmppFederation counterpart (a sealed PSCmdlet, the
// same parameters and pipeline binding, ShouldProcess on writers, BeginProcessing that fetches a
// shared per-process state) and does nothing else: what it costs is what PowerShell costs.

/// <summary>The floor's stand-in for PartnerData: the same properties and property types.</summary>
public sealed class BenchPartner
{
    public string Identity { get; set; } = string.Empty;
    public string Domain { get; set; } = string.Empty;
    public List<string> AdditionalDomains { get; set; } = new();
    public string Description { get; set; } = string.Empty;
    public string ProxyFqdn { get; set; } = string.Empty;
    public BenchPartnerType PartnerType { get; set; }
    public BenchNegotiation TlsNegotiation { get; set; }
    public BenchNegotiation SaslNegotiation { get; set; }
    public bool SupportDialbackNegotiation { get; set; }
    public bool EnableKeepAlive { get; set; }
    public uint ConnectionLimit { get; set; }
    public ulong Revision { get; set; }
    public override string ToString() => Identity;
}

public enum BenchPartnerType { Federated, PublicVerified, PublicUnverified }

public enum BenchNegotiation { Required, Optional, NotSupported }

/// <summary>
/// CPU time of the calling thread (the pipeline's: cmdlets run on it, and so do the garbage
/// collections their allocations trigger), for the benchmark's CPU columns: on a shared 2-CPU
/// machine, wall time also counts waiting for a CPU. The process's CPU time would also count the
/// runtime's background threads, above all tiered JIT recompiling hot methods, which goes on
/// for seconds in a fresh pwsh and made process figures swing 3x between runs.
/// </summary>
public static class Clock
{
    public static double ThreadCpuSeconds()
    {
        if (OperatingSystem.IsLinux() && clock_gettime(3 /* CLOCK_THREAD_CPUTIME_ID */, out Timespec ts) == 0)
        {
            return ts.Seconds + ts.Nanoseconds * 1e-9;
        }
        return Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int clock_gettime(int clock, out Timespec ts);
}

/// <summary>The per-process state every floor cmdlet shares (as XmppFederation shares its store handle).</summary>
internal static class FloorState
{
    internal const string TypeName = "Microsoft.Rtc.Management.WritableConfig.Settings.XmppFederation.XmppAllowedPartner#Decorated";
    private static readonly object Gate = new();
    internal static PSObject[] Prebuilt = { Wrap(Build(0)) };
    internal static FileStream? SyncFile;

    internal static BenchPartner Build(int i)
    {
        string id = $"p{i}.example.org";
        return new BenchPartner
        {
            Identity = id,
            Domain = id,
            AdditionalDomains = new List<string> { "chat." + id },
            Description = $"benchmark partner number {i:D6}",
            PartnerType = BenchPartnerType.PublicUnverified,
            SupportDialbackNegotiation = true,
            EnableKeepAlive = true,
            ConnectionLimit = 20,
            Revision = (ulong)i + 1,
        };
    }

    /// <summary>Wrapped once, with the type name inserted, as XmppFederation does for every partner it writes.</summary>
    internal static PSObject Wrap(BenchPartner partner)
    {
        var wrapped = PSObject.AsPSObject(partner);
        wrapped.TypeNames.Insert(0, TypeName);
        return wrapped;
    }

    internal static object Shared()
    {
        lock (Gate)
        {
            return Prebuilt;
        }
    }

    /// <summary>One line of the size of a store log line (~390 bytes), appended and made durable.</summary>
    internal static void AppendDurably(FileStream file, byte[] line)
    {
        file.Write(line, 0, line.Length);
        file.Flush(flushToDisk: false);
        if (OperatingSystem.IsLinux())
        {
            if (fdatasync(file.SafeFileHandle) != 0)
            {
                throw new IOException($"fdatasync failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        else
        {
            file.Flush(flushToDisk: true);
        }
    }

    internal static readonly byte[] Line = Encoding.UTF8.GetBytes(
        "c023d3ef {\"Seq\":1,\"Put\":{\"Identity\":\"p0.example.org\",\"Domain\":\"p0.example.org\",\"AdditionalDomains\":[\"chat.p0.example.org\"],"
        + "\"Description\":\"benchmark partner number 000000\",\"ProxyFqdn\":\"\",\"PartnerType\":\"PublicUnverified\",\"TlsNegotiation\":\"Required\","
        + "\"SaslNegotiation\":\"Required\",\"SupportDialbackNegotiation\":true,\"EnableKeepAlive\":true,\"ConnectionLimit\":20,\"Revision\":1}}\n");

    [DllImport("libc", SetLastError = true)]
    private static extern int fdatasync(SafeFileHandle fd);
}

/// <summary>The shared base: BeginProcessing fetches the per-process state, as StoreCmdlet does.</summary>
public abstract class FloorCmdlet : PSCmdlet
{
    private object? state;

    protected override void BeginProcessing() => state = FloorState.Shared();

    protected void WriteFloorObject(PSObject prebuilt) => WriteObject(prebuilt);

    /// <summary>What a writer does besides binding and ShouldProcess: nothing, or one durable append.</summary>
    protected void Commit()
    {
        _ = state;
        if (FloorState.SyncFile is { } file)
        {
            FloorState.AppendDurably(file, FloorState.Line);
        }
    }
}

/// <summary>Prebuilds the objects Get-BenchFloorPartner writes, and opens (or, with no path, closes) the writers' append file.</summary>
[Cmdlet(VerbsData.Initialize, "BenchFloor")]
public sealed class InitializeBenchFloorCommand : PSCmdlet
{
    [Parameter] public int Count { get; set; } = 1;
    [Parameter] public string? SyncFile { get; set; }

    protected override void EndProcessing()
    {
        var prebuilt = new PSObject[Math.Max(1, Count)];
        for (int i = 0; i < prebuilt.Length; i++)
        {
            prebuilt[i] = FloorState.Wrap(FloorState.Build(i));
        }
        FloorState.Prebuilt = prebuilt;
        FloorState.SyncFile?.Dispose();
        FloorState.SyncFile = SyncFile is null ? null
            : new FileStream(SyncFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1);
    }
}

/// <summary>Get's floor: with -Identity one prebuilt object, without it every prebuilt object.</summary>
[Cmdlet(VerbsCommon.Get, "BenchFloorPartner", DefaultParameterSetName = "Identity")]
[OutputType(typeof(BenchPartner))]
public sealed class GetBenchFloorPartnerCommand : FloorCmdlet
{
    [Parameter(Position = 0, ParameterSetName = "Identity")]
    [ValidateNotNullOrEmpty]
    public string? Identity { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "Filter")]
    [ValidateNotNull]
    public string Filter { get; set; } = string.Empty;

    [Parameter] public SwitchParameter LocalStore { get; set; }

    protected override void ProcessRecord()
    {
        var prebuilt = FloorState.Prebuilt;
        if (Identity is not null)
        {
            WriteFloorObject(prebuilt[0]);
            return;
        }
        foreach (var partner in prebuilt)
        {
            WriteFloorObject(partner);
        }
    }
}

/// <summary>New's floor: binds New's parameters (also from the pipeline by property name), asks ShouldProcess, commits nothing or one durable line, writes one prebuilt object.</summary>
[Cmdlet(VerbsCommon.New, "BenchFloorPartner", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BenchPartner))]
public sealed class NewBenchFloorPartnerCommand : FloorCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Identity { get; set; } = string.Empty;
    [Parameter(ValueFromPipelineByPropertyName = true)] public object? AdditionalDomains { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] public string? Description { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] public string? ProxyFqdn { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] public BenchPartnerType PartnerType { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] public BenchNegotiation TlsNegotiation { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] public BenchNegotiation SaslNegotiation { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] public string? SupportDialbackNegotiation { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] public string? EnableKeepAlive { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] public uint ConnectionLimit { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Identity, "Create XMPP allowed partner"))
        {
            return;
        }
        Commit();
        WriteFloorObject(FloorState.Prebuilt[0]);
    }
}

/// <summary>Set's floor: binds -Identity and the property parameters, asks ShouldProcess, commits nothing or one durable line.</summary>
[Cmdlet(VerbsCommon.Set, "BenchFloorPartner", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
public sealed class SetBenchFloorPartnerCommand : FloorCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Identity { get; set; } = string.Empty;
    [Parameter] public string? Description { get; set; }
    [Parameter] public object? AdditionalDomains { get; set; }

    protected override void ProcessRecord()
    {
        if (ShouldProcess(Identity, "Change XMPP allowed partner"))
        {
            Commit();
        }
    }
}

/// <summary>Remove's floor: binds -Identity, asks ShouldProcess, commits nothing or one durable line.</summary>
[Cmdlet(VerbsCommon.Remove, "BenchFloorPartner", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
public sealed class RemoveBenchFloorPartnerCommand : FloorCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Identity { get; set; } = string.Empty;

    protected override void ProcessRecord()
    {
        if (ShouldProcess(Identity, "Remove XMPP allowed partner"))
        {
            Commit();
        }
    }
}

/// <summary>The bare fsync floor, no cmdlet per operation: appends a log-line-sized line and fdatasyncs it Count times, writing each operation's seconds.</summary>
[Cmdlet(VerbsDiagnostic.Measure, "BenchFloorFsync")]
[OutputType(typeof(double))]
public sealed class MeasureBenchFloorFsyncCommand : PSCmdlet
{
    [Parameter(Mandatory = true)] public string Path { get; set; } = string.Empty;
    [Parameter] public int Count { get; set; } = 100;

    protected override void EndProcessing()
    {
        using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1);
        var seconds = new double[Count];
        for (int i = 0; i < Count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            FloorState.AppendDurably(file, FloorState.Line);
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        WriteObject(seconds, enumerateCollection: true);
    }
}
