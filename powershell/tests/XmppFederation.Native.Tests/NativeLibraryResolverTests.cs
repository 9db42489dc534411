using System;
using System.IO;
using System.Runtime.InteropServices;
using Xunit;

namespace XmppFederation.Native.Tests;

public sealed class NativeLibraryResolverTests
{
    [Fact]
    public void TheLibraryWasLoadedFromTheRuntimesFolderNextToTheAssembly()
    {
        _ = PartnerStore.AbiVersion;
        string expected = Path.Combine(
            Path.GetDirectoryName(typeof(PartnerStore).Assembly.Location)!,
            "runtimes",
            NativeLibraryResolver.PortableRid,
            "native",
            NativeLibraryResolver.NativeFileName);
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(NativeLibraryResolver.OverrideVariable)))
        {
            Assert.True(File.Exists(expected), expected);
            Assert.Contains(NativeLibraryResolver.LoadedPath, new[] { expected, Path.Combine(
                Path.GetDirectoryName(expected)!.Replace(NativeLibraryResolver.PortableRid, RuntimeInformation.RuntimeIdentifier),
                NativeLibraryResolver.NativeFileName) });
        }
    }

    [Fact]
    public void PortableRidIsOsAndArchitecture()
    {
        string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        Assert.Equal($"{os}-{arch}", NativeLibraryResolver.PortableRid);
        Assert.Equal(RuntimeInformation.RuntimeIdentifier, NativeLibraryResolver.RuntimeIdentifiers[0]);
        Assert.Contains(NativeLibraryResolver.PortableRid, NativeLibraryResolver.RuntimeIdentifiers);
    }

    [Fact]
    public void AMissingLibraryIsReportedWithTheRidsAndEveryPathTried()
    {
        string empty = Path.Combine(Path.GetTempPath(), "xmppfed-noLib-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(empty);
        try
        {
            var e = Assert.Throws<NativeLibraryException>(() => NativeLibraryResolver.Load(empty, overridePath: null, out _));

            Assert.Equal(ErrorIds.NativeLibraryNotFound, e.ErrorId);
            Assert.Contains(RuntimeInformation.RuntimeIdentifier, e.Message);
            Assert.Contains(NativeLibraryResolver.PortableRid, e.Message);
            Assert.Contains(NativeLibraryResolver.OverrideVariable, e.Message);
            foreach (string path in NativeLibraryResolver.CandidatePaths(empty))
            {
                Assert.StartsWith(Path.Combine(empty, "runtimes"), path);
                Assert.EndsWith(Path.Combine("native", NativeLibraryResolver.NativeFileName), path);
                Assert.Contains(path, e.Message);
            }

            Assert.Contains(Path.Combine(empty, "runtimes", NativeLibraryResolver.PortableRid, "native", NativeLibraryResolver.NativeFileName), e.Message);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void AnOverrideThatCannotBeLoadedIsReportedWithItsPath()
    {
        string missing = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "libxmppfed.so");

        var e = Assert.Throws<NativeLibraryException>(() => NativeLibraryResolver.Load(Path.GetTempPath(), missing, out _));

        Assert.Equal(ErrorIds.NativeLibraryNotFound, e.ErrorId);
        Assert.Contains(missing, e.Message);
        Assert.Contains(NativeLibraryResolver.OverrideVariable, e.Message);
    }

    [Fact]
    public void AnOverrideIsLoadedInsteadOfSearching()
    {
        string real = NativeLibraryResolver.CandidatePaths(NativeLibraryResolver.AssemblyDirectory)[^1];
        string emptyBase = Path.GetTempPath();

        IntPtr handle = NativeLibraryResolver.Load(emptyBase, real, out string path);

        Assert.NotEqual(IntPtr.Zero, handle);
        Assert.Equal(real, path);
        // Qualified: the netstandard2.0 build of the layer has an internal NativeLibrary of its own.
        Assert.True(System.Runtime.InteropServices.NativeLibrary.TryGetExport(handle, "xmppfed_abi_version", out _));
    }

    [Fact]
    public void AnAbiMismatchNamesBothVersionsAndTheLibrary()
    {
        var e = Assert.Throws<NativeLibraryException>(() => NativeLibraryGuard.CheckAbi(PartnerStore.ExpectedAbiVersion + 1, "'/opt/x/libxmppfed.so'"));

        Assert.Equal(ErrorIds.NativeLibraryAbiMismatch, e.ErrorId);
        Assert.Contains($"ABI version {PartnerStore.ExpectedAbiVersion + 1}", e.Message);
        Assert.Contains($"ABI version {PartnerStore.ExpectedAbiVersion}", e.Message);
        Assert.Contains("/opt/x/libxmppfed.so", e.Message);

        NativeLibraryGuard.CheckAbi(PartnerStore.ExpectedAbiVersion, "'ok'");
    }
}
