using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace XmppFederation.Native;

/// <summary>
/// Finds libxmppfed in this assembly's own <c>runtimes/&lt;rid&gt;/native/</c> folder. PowerShell
/// does not read a module's deps.json, so the runtime's default probing would not look there.
/// <c>$XMPPFED_NATIVE_LIBRARY</c> (a full path) overrides the search, for development.
/// </summary>
internal static class NativeLibraryResolver
{
    /// <summary>Environment variable naming the library file to load instead of searching.</summary>
    internal const string OverrideVariable = "XMPPFED_NATIVE_LIBRARY";

    private static readonly object Gate = new();
    private static IntPtr loadedHandle;
    private static string? loadedPath;
    private static string? lastFailure;

    /// <summary>The file the resolver loaded, or null if it has not loaded one (yet).</summary>
    internal static string? LoadedPath
    {
        get
        {
            lock (Gate)
            {
                return loadedPath;
            }
        }
    }

    /// <summary>Why the resolver's own search failed, if it did (the runtime's default probing ran after it).</summary>
    internal static string? LastFailure
    {
        get
        {
            lock (Gate)
            {
                return lastFailure;
            }
        }
    }

    /// <summary>The file name of the library on this operating system.</summary>
    internal static string NativeFileName =>
        OperatingSystem.IsWindows() ? "xmppfed.dll"
        : OperatingSystem.IsMacOS() || OperatingSystem.IsIOS() || OperatingSystem.IsMacCatalyst() ? "libxmppfed.dylib"
        : "libxmppfed.so";

    /// <summary>The portable RID of this process (e.g. <c>linux-x64</c>, <c>osx-arm64</c>, <c>win-x64</c>).</summary>
    internal static string PortableRid
    {
        get
        {
            string os =
                OperatingSystem.IsWindows() ? "win"
                : OperatingSystem.IsMacOS() || OperatingSystem.IsMacCatalyst() ? "osx"
                : OperatingSystem.IsFreeBSD() ? "freebsd"
                : OperatingSystem.IsLinux() ? "linux"
                : RuntimeInformation.OSDescription.Split(' ')[0].ToLowerInvariant();
            string arch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => "x64",
                Architecture.X86 => "x86",
                Architecture.Arm64 => "arm64",
                Architecture.Arm => "arm",
                var other => other.ToString().ToLowerInvariant(),
            };
            return $"{os}-{arch}";
        }
    }

    /// <summary>The RIDs searched, most specific first: the runtime's own RID, then the portable one.</summary>
    internal static IReadOnlyList<string> RuntimeIdentifiers =>
        new[] { RuntimeInformation.RuntimeIdentifier, PortableRid }.Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>The folder of this assembly: the module folder when loaded by PowerShell.</summary>
    internal static string AssemblyDirectory
    {
        get
        {
            string location = typeof(NativeMethods).Assembly.Location;
            return string.IsNullOrEmpty(location) ? AppContext.BaseDirectory : Path.GetDirectoryName(location)!;
        }
    }

    /// <summary>The files tried under <paramref name="baseDirectory"/>, in order.</summary>
    internal static IReadOnlyList<string> CandidatePaths(string baseDirectory) =>
        RuntimeIdentifiers
            .Select(rid => Path.Combine(baseDirectory, "runtimes", rid, "native", NativeFileName))
            .ToArray();

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The resolver must be in place before the first P/Invoke, whoever loads this assembly.")]
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, Resolve);

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != NativeMethods.LibraryName)
        {
            return IntPtr.Zero;
        }

        lock (Gate)
        {
            if (loadedHandle != IntPtr.Zero)
            {
                return loadedHandle;
            }

            try
            {
                loadedHandle = Load(AssemblyDirectory, Environment.GetEnvironmentVariable(OverrideVariable), out string path);
                loadedPath = path;
                lastFailure = null;
                return loadedHandle;
            }
            catch (NativeLibraryException e) when (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(OverrideVariable)))
            {
                // Let the runtime's default probing try (e.g. LD_LIBRARY_PATH during development);
                // if it fails too, NativeLibraryGuard reports this text, which names what was tried.
                lastFailure = e.Message;
                return IntPtr.Zero;
            }
        }
    }

    /// <summary>
    /// Load the library: <paramref name="overridePath"/> if given, else the first candidate under
    /// <paramref name="baseDirectory"/> that exists. Throws <see cref="NativeLibraryException"/>
    /// naming the RIDs and every path tried.
    /// </summary>
    internal static IntPtr Load(string baseDirectory, string? overridePath, out string path)
    {
        if (overridePath is { Length: > 0 })
        {
            path = overridePath;
            if (NativeLibrary.TryLoad(overridePath, out IntPtr handle))
            {
                return handle;
            }

            throw NotFound(
                $"The native library '{overridePath}' named by ${OverrideVariable} could not be loaded "
                + (File.Exists(overridePath) ? "(the file exists but is not a loadable library for this process)." : "(no such file)."));
        }

        var tried = new List<string>();
        foreach (string candidate in CandidatePaths(baseDirectory))
        {
            tried.Add(candidate);
            if (!File.Exists(candidate))
            {
                continue;
            }

            if (NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                path = candidate;
                return handle;
            }

            throw NotFound(
                $"The native library '{candidate}' exists but could not be loaded (wrong architecture or a missing dependency?). "
                + $"Runtime identifiers: {string.Join(", ", RuntimeIdentifiers)}.");
        }

        throw NotFound(
            $"The native library {NativeFileName} was not found for runtime identifiers {string.Join(", ", RuntimeIdentifiers)}. "
            + $"Paths tried: {string.Join(", ", tried.Select(p => $"'{p}'"))}. "
            + $"Install the build for this platform, or set ${OverrideVariable} to the library's full path.");
    }

    private static NativeLibraryException NotFound(string message) =>
        new(XmppFedResult.Panic, ErrorIds.NativeLibraryNotFound, message, target: null);
}

/// <summary>Checks, once and lazily, that the loaded library exists and speaks the ABI this assembly was built for.</summary>
internal static class NativeLibraryGuard
{
    private static readonly Lazy<string> Checked = new(Check, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Throw <see cref="NativeLibraryException"/> unless the library is usable.</summary>
    internal static void EnsureUsable() => _ = Checked.Value;

    /// <summary>Run a native call, turning a missing library or function into <see cref="NativeLibraryException"/>.</summary>
    internal static T Call<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            string message = NativeLibraryResolver.LastFailure ?? e.Message;
            if (e is EntryPointNotFoundException)
            {
                message = $"The native library {LibraryDescription()} lacks a function this assembly needs: {e.Message}";
            }

            throw new NativeLibraryException(XmppFedResult.Panic, ErrorIds.NativeLibraryNotFound, message, target: null, e);
        }
    }

    /// <summary>Refuse a library of another ABI version, naming both numbers and the library.</summary>
    internal static void CheckAbi(uint actual, string libraryDescription)
    {
        if (actual != PartnerStore.ExpectedAbiVersion)
        {
            throw new NativeLibraryException(
                XmppFedResult.Panic,
                ErrorIds.NativeLibraryAbiMismatch,
                $"The native library {libraryDescription} has ABI version {actual}, but XmppFederation.Native expects ABI version {PartnerStore.ExpectedAbiVersion}. Install matching versions.",
                target: null);
        }
    }

    private static string Check()
    {
        uint actual = Call(NativeMethods.xmppfed_abi_version);
        CheckAbi(actual, LibraryDescription());
        return LibraryDescription();
    }

    private static string LibraryDescription() =>
        NativeLibraryResolver.LoadedPath is { } path
            ? $"'{path}'"
            : $"'{NativeMethods.LibraryName}' (found by the runtime's default search, not in '{Path.Combine(NativeLibraryResolver.AssemblyDirectory, "runtimes")}')";
}
