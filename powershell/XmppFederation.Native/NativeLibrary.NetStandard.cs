using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;

namespace XmppFederation.Native;

/// <summary>The signature of .NET Core's <c>DllImportResolver</c>, for the netstandard2.0 build.</summary>
internal delegate IntPtr DllImportResolver(string libraryName, Assembly assembly, DllImportSearchPath? searchPath);

/// <summary>
/// netstandard2.0 build (Windows PowerShell 5.1): the two members of .NET Core's
/// <c>System.Runtime.InteropServices.NativeLibrary</c> that <see cref="NativeLibraryResolver"/>
/// uses, over the operating system's own loader. .NET Framework has no load hook for
/// <c>[DllImport]</c>, so the library is loaded by its full path before the first call and the
/// imports bind to it by name:
/// <list type="bullet">
/// <item>Windows (Windows PowerShell 5.1, and this build in PowerShell 7): the resolver runs before
/// the first call (<see cref="LoadBeforeFirstCall"/>, from <c>NativeMethods</c>' static constructor
/// and from <c>xmppfed_abi_version</c>) and loads the file with <c>LoadLibraryExW</c>; Windows then
/// gives <c>[DllImport("xmppfed")]</c> the loaded <c>xmppfed.dll</c>, as it gives every load of a
/// module name that is already loaded. What the resolver throws, or keeps in
/// <see cref="NativeLibraryResolver.LastFailure"/>, reaches the caller as it does from .NET Core's
/// hook.</item>
/// <item>Linux and macOS (only PowerShell 7 runs this build there): <c>dlopen</c> with the full
/// path, handed to the runtime through .NET Core's own resolver hook, looked up by reflection: a
/// library without a SONAME cannot be found by name in the loaded set.</item>
/// </list>
/// </summary>
internal static class NativeLibrary
{
    private const uint LoadWithAlteredSearchPath = 0x00000008;
    private const int RtldNow = 2;

    private static Func<IntPtr>? loadBeforeFirstCall;

    /// <summary>Load the library file at <paramref name="path"/>; false if it cannot be loaded.</summary>
    internal static bool TryLoad(string path, out IntPtr handle)
    {
        handle = OperatingSystem.IsWindows()
            ? LoadLibraryExW(Path.GetFullPath(path), IntPtr.Zero, LoadWithAlteredSearchPath)
            : OperatingSystem.IsMacOS() ? DlopenMac(Path.GetFullPath(path), RtldNow) : DlopenLinux(Path.GetFullPath(path), RtldNow);
        return handle != IntPtr.Zero;
    }

    /// <summary>
    /// Put <paramref name="resolver"/> in charge of loading the library: through the runtime's hook
    /// where there is one and the platform needs it, else before the first call (see the class comment).
    /// </summary>
    internal static void SetDllImportResolver(Assembly assembly, DllImportResolver resolver)
    {
        if (!OperatingSystem.IsWindows() && TrySetRuntimeResolver(assembly, resolver))
        {
            return;
        }

        loadBeforeFirstCall = () => resolver(NativeMethods.LibraryName, assembly, null);
    }

    /// <summary>Run the resolver if the runtime does not (see the class comment); it returns at once once it has loaded the library.</summary>
    internal static void LoadBeforeFirstCall() => _ = loadBeforeFirstCall?.Invoke();

    private static bool TrySetRuntimeResolver(Assembly assembly, DllImportResolver resolver)
    {
        Type? nativeLibrary = Type.GetType("System.Runtime.InteropServices.NativeLibrary, System.Runtime.InteropServices", throwOnError: false);
        Type? resolverType = Type.GetType("System.Runtime.InteropServices.DllImportResolver, System.Runtime.InteropServices", throwOnError: false);
        if (nativeLibrary is null || resolverType is null)
        {
            return false;
        }

        MethodInfo? set = nativeLibrary.GetMethod("SetDllImportResolver", new[] { typeof(Assembly), resolverType });
        if (set is null)
        {
            return false;
        }

        set.Invoke(null, new object[] { assembly, Delegate.CreateDelegate(resolverType, resolver.Target, resolver.Method) });
        return true;
    }

    [DllImport("kernel32", CharSet = CharSet.Unicode, SetLastError = true)]
    private static extern IntPtr LoadLibraryExW(string fileName, IntPtr reserved, uint flags);

    [DllImport("libdl.so.2", EntryPoint = "dlopen")]
    private static extern IntPtr DlopenLinux([MarshalAs(UnmanagedType.LPStr)] string fileName, int flags);

    [DllImport("libSystem.dylib", EntryPoint = "dlopen")]
    private static extern IntPtr DlopenMac([MarshalAs(UnmanagedType.LPStr)] string fileName, int flags);
}
