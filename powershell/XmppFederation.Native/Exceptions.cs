using System;

namespace XmppFederation.Native;

/// <summary>
/// A failure reported by libxmppfed (or in loading it). <see cref="ErrorId"/> is the library's stable
/// name of the result code (<c>xmppfed_result_name</c>, e.g. <c>"NotFound"</c>), meant for
/// PowerShell's FullyQualifiedErrorId; the message is the library's own text.
/// </summary>
public class XmppFedException : Exception
{
    /// <summary>Create an exception for a result code.</summary>
    public XmppFedException(XmppFedResult result, string errorId, string message, string? target, Exception? innerException = null)
        : base(message, innerException)
    {
        Result = result;
        ErrorId = errorId;
        Target = target;
    }

    /// <summary>The result code the library returned.</summary>
    public XmppFedResult Result { get; }

    /// <summary>The stable name of <see cref="Result"/>, e.g. <c>"NotFound"</c>.</summary>
    public string ErrorId { get; }

    /// <summary>What the call was about: the identity, the filter, or the store folder; null if nothing specific.</summary>
    public string? Target { get; }
}

/// <summary>No partner has the identity (<see cref="XmppFedResult.NotFound"/>).</summary>
public class PartnerNotFoundException : XmppFedException
{
    /// <summary>Create the exception.</summary>
    public PartnerNotFoundException(XmppFedResult result, string errorId, string message, string? target)
        : base(result, errorId, message, target)
    {
    }
}

/// <summary>A partner with the identity exists (<see cref="XmppFedResult.AlreadyExists"/>).</summary>
public class PartnerExistsException : XmppFedException
{
    /// <summary>Create the exception.</summary>
    public PartnerExistsException(XmppFedResult result, string errorId, string message, string? target)
        : base(result, errorId, message, target)
    {
    }
}

/// <summary>
/// The change conflicts with the store's state: a domain claimed by another partner
/// (<see cref="XmppFedResult.DomainConflict"/>), an instance changed since it was read
/// (<see cref="XmppFedResult.StaleInstance"/>), or a store that moved on after an import's
/// difference was computed (<see cref="XmppFedResult.StoreChanged"/>).
/// </summary>
public class PartnerConflictException : XmppFedException
{
    /// <summary>Create the exception.</summary>
    public PartnerConflictException(XmppFedResult result, string errorId, string message, string? target)
        : base(result, errorId, message, target)
    {
    }
}

/// <summary>
/// The input was refused: JSON syntax or shape, a domain, a value, a negotiation combination, a
/// filter, an oversized or non-UTF-8 input, a missing argument, or an import with items that
/// cannot be imported (<see cref="XmppFedResult.ImportRejected"/>).
/// </summary>
public class InvalidPartnerException : XmppFedException
{
    /// <summary>Create the exception.</summary>
    public InvalidPartnerException(XmppFedResult result, string errorId, string message, string? target)
        : base(result, errorId, message, target)
    {
    }
}

/// <summary>The store cannot be used: I/O, damage, a newer format, a held lock, or no location.</summary>
public class StoreException : XmppFedException
{
    /// <summary>Create the exception.</summary>
    public StoreException(XmppFedResult result, string errorId, string message, string? target)
        : base(result, errorId, message, target)
    {
    }
}

/// <summary>
/// The native library is missing, has another ABI version, or hit an internal error
/// (<see cref="XmppFedResult.Panic"/>). Missing and mismatched libraries have no result code of
/// their own: they carry <see cref="XmppFedResult.Panic"/> with <see cref="ErrorIds.NativeLibraryNotFound"/>
/// or <see cref="ErrorIds.NativeLibraryAbiMismatch"/> as <see cref="XmppFedException.ErrorId"/>.
/// </summary>
public class NativeLibraryException : XmppFedException
{
    /// <summary>Create the exception.</summary>
    public NativeLibraryException(XmppFedResult result, string errorId, string message, string? target, Exception? innerException = null)
        : base(result, errorId, message, target, innerException)
    {
    }
}

/// <summary>Error ids of failures that happen before any result code exists.</summary>
public static class ErrorIds
{
    /// <summary>libxmppfed could not be found or loaded.</summary>
    public const string NativeLibraryNotFound = "NativeLibraryNotFound";

    /// <summary>libxmppfed was loaded but reports another ABI version than this assembly expects.</summary>
    public const string NativeLibraryAbiMismatch = "NativeLibraryAbiMismatch";
}
