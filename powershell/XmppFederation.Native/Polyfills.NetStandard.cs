// netstandard2.0 only (see the .csproj): the few .NET Core APIs the shared sources use, written
// over what .NET Standard 2.0 has, so that those sources compile unchanged for both builds. Each
// member behaves like the .NET Core member of the same name, for the uses in this assembly.
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace System.Runtime.CompilerServices
{
    /// <summary>Lets the compiler emit init-only setters (records) for netstandard2.0.</summary>
    internal static class IsExternalInit
    {
    }

    /// <summary>
    /// Marks a module initializer. The compiler emits the module's constructor, which .NET
    /// Framework runs too (before the first use of any type of the assembly).
    /// </summary>
    [AttributeUsage(AttributeTargets.Method, Inherited = false)]
    internal sealed class ModuleInitializerAttribute : Attribute
    {
    }
}

namespace XmppFederation.Native
{
    internal static class NetStandardPolyfills
    {
        extension(ArgumentNullException)
        {
            internal static void ThrowIfNull(object? argument, string? paramName = null)
            {
                if (argument is null)
                {
                    throw new ArgumentNullException(paramName);
                }
            }
        }

        extension(ArgumentOutOfRangeException)
        {
            internal static void ThrowIfNegative(int value, string? paramName = null)
            {
                if (value < 0)
                {
                    throw new ArgumentOutOfRangeException(paramName, value, $"{paramName} ('{value}') must be a non-negative value.");
                }
            }
        }

        extension(string text)
        {
            internal bool Contains(char value, StringComparison comparison) =>
                comparison == StringComparison.Ordinal
                    ? text.IndexOf(value) >= 0
                    : text.IndexOf(value.ToString(), comparison) >= 0;
        }

        extension(ObjectDisposedException)
        {
            internal static void ThrowIf(bool condition, object instance)
            {
                if (condition)
                {
                    throw new ObjectDisposedException(instance?.GetType().FullName);
                }
            }
        }

        extension(MemoryMarshal)
        {
            /// <summary>The bytes before the first NUL at <paramref name="value"/>.</summary>
            internal static unsafe ReadOnlySpan<byte> CreateReadOnlySpanFromNullTerminated(byte* value)
            {
                if (value is null)
                {
                    return default;
                }
                int length = 0;
                while (value[length] != 0)
                {
                    length++;
                }
                return new ReadOnlySpan<byte>(value, length);
            }
        }

        extension(OperatingSystem)
        {
            internal static bool IsWindows() => RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

            internal static bool IsLinux() => RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

            internal static bool IsMacOS() => RuntimeInformation.IsOSPlatform(OSPlatform.OSX);

            internal static bool IsFreeBSD() => RuntimeInformation.IsOSPlatform(OSPlatform.Create("FREEBSD"));

            internal static bool IsIOS() => false;

            internal static bool IsMacCatalyst() => false;
        }

        extension(RuntimeInformation)
        {
            /// <summary>
            /// .NET Standard has no RuntimeInformation.RuntimeIdentifier (and .NET Framework no
            /// RID at all): the portable RID stands in, which the resolver tries anyway.
            /// </summary>
            internal static string RuntimeIdentifier => NativeLibraryResolver.PortableRid;
        }

        extension(Marshal)
        {
            internal static unsafe string? PtrToStringUTF8(IntPtr ptr)
            {
                if (ptr == IntPtr.Zero)
                {
                    return null;
                }

                byte* bytes = (byte*)ptr;
                int length = 0;
                while (bytes[length] != 0)
                {
                    length++;
                }

                return Encoding.UTF8.GetString(bytes, length);
            }
        }
    }
}
