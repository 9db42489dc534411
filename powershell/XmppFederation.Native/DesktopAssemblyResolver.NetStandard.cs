using System;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XmppFederation.Native;

/// <summary>
/// netstandard2.0 build, on .NET Framework only (Windows PowerShell 5.1): the module folder ships
/// System.Text.Json and its dependencies, whose references to each other name other versions than
/// the ones shipped (System.Memory, System.Runtime.CompilerServices.Unsafe, ...). An application
/// settles that with binding redirects in its .config file; a module cannot, so a failed bind of an
/// assembly that the folder holds loads the folder's copy. .NET Core binds to the higher version
/// itself, so this is not registered there.
/// </summary>
internal static class DesktopAssemblyResolver
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The handler must be in place before System.Text.Json is first bound.")]
    internal static void Register()
    {
        if (RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal))
        {
            AppDomain.CurrentDomain.AssemblyResolve += Resolve;
        }
    }

    private static Assembly? Resolve(object? sender, ResolveEventArgs args)
    {
        string? name = new AssemblyName(args.Name).Name;
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        string candidate = Path.Combine(NativeLibraryResolver.AssemblyDirectory, name + ".dll");
        return File.Exists(candidate) ? Assembly.LoadFrom(candidate) : null;
    }
}
