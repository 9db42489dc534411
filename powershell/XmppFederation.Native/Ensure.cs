using System;

namespace XmppFederation.Native;

/// <summary>
/// The one place where result codes become exceptions. The error text is read right after the
/// failing call, on the same thread, before any other xmppfed call can replace it.
/// </summary>
internal static class Ensure
{
    /// <summary>Throw the exception for <paramref name="result"/> unless it is <see cref="XmppFedResult.Ok"/>.</summary>
    internal static void Success(XmppFedResult result, string? target)
    {
        if (result == XmppFedResult.Ok)
        {
            return;
        }

        string? message = NativeMethods.CopyStaticString(NativeMethods.xmppfed_last_error_message());
        string errorId = NativeMethods.CopyStaticString(NativeMethods.xmppfed_result_name((int)result))
            ?? $"UnknownResult{(int)result}";
        throw ExceptionFor(result, errorId, message ?? $"libxmppfed failed with {errorId} ({(int)result}) and gave no message.", target);
    }

    /// <summary>An output pointer the library set on success: NULL there is a library bug.</summary>
    internal static void Output(IntPtr owned)
    {
        if (owned == IntPtr.Zero)
        {
            throw NoOutput();
        }
    }

    /// <summary>The library reported success but gave no output.</summary>
    internal static NativeLibraryException NoOutput() => new(XmppFedResult.Panic, "Panic",
        "libxmppfed reported success but returned no output (a library bug).", target: null);

    /// <summary>
    /// The library writes its outputs itself: one this assembly cannot read (<paramref name="what"/>
    /// says which) is a library/assembly mismatch.
    /// </summary>
    internal static NativeLibraryException Unreadable(string what, Exception e) => new(
        XmppFedResult.Panic,
        ErrorIds.NativeLibraryAbiMismatch,
        $"The native library returned {what}: {e.Message}",
        target: null,
        e);

    /// <summary>The exception type for each result code; codes this assembly does not know get the base type.</summary>
    internal static XmppFedException ExceptionFor(XmppFedResult result, string errorId, string message, string? target) => result switch
    {
        XmppFedResult.NotFound => new PartnerNotFoundException(result, errorId, message, target),
        XmppFedResult.AlreadyExists => new PartnerExistsException(result, errorId, message, target),
        XmppFedResult.DomainConflict or XmppFedResult.StaleInstance or XmppFedResult.StoreChanged => new PartnerConflictException(result, errorId, message, target),
        XmppFedResult.JsonSyntax or XmppFedResult.JsonShape or XmppFedResult.InvalidDomain or XmppFedResult.InvalidValue
            or XmppFedResult.InvalidNegotiation or XmppFedResult.InvalidFilter or XmppFedResult.InputTooLarge
            or XmppFedResult.InvalidUtf8 or XmppFedResult.NullArgument or XmppFedResult.ImportRejected
            => new InvalidPartnerException(result, errorId, message, target),
        XmppFedResult.StoreIo or XmppFedResult.StoreCorrupt or XmppFedResult.StoreVersion or XmppFedResult.StoreLocked
            or XmppFedResult.StoreUntrusted or XmppFedResult.StoreMismatch
            or XmppFedResult.NoStoreLocation
            => new StoreException(result, errorId, message, target),
        XmppFedResult.Panic => new NativeLibraryException(result, errorId, message, target),
        _ => new XmppFedException(result, errorId, message, target),
    };

    /// <summary>
    /// A C string ends at its first NUL, so a .NET string holding one would reach the library cut
    /// short and name something else. Such a value cannot cross the C ABI and is refused here.
    /// </summary>
    internal static void NoNulCharacter(string? value, string argumentName, string? target)
    {
        if (value is not null && value.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidPartnerException(
                XmppFedResult.InvalidValue,
                nameof(XmppFedResult.InvalidValue),
                $"{argumentName} contains a NUL character (U+0000), which cannot be passed to the native library.",
                target);
        }
    }
}
