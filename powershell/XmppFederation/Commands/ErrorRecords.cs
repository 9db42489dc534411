using System;
using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// Turns library exceptions into ErrorRecords. The error id is the library's stable result name
/// (e.g. "NotFound"), so $Error[0].FullyQualifiedErrorId reads "NotFound,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand".
/// </summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(Exception e, object? target) => e switch
    {
        // A library that cannot be loaded or used is unavailable, not an unspecified failure.
        NativeLibraryException x when x.ErrorId != nameof(XmppFedResult.Panic) => new ErrorRecord(x, x.ErrorId, ErrorCategory.ResourceUnavailable, target ?? x.Target),
        XmppFedException x => new ErrorRecord(x, x.ErrorId, Category(x.Result), target ?? x.Target),
        // A parameter value that has no JSON form (e.g. a script block in a domain list).
        ArgumentException => new ErrorRecord(e, "InvalidValue", ErrorCategory.InvalidArgument, target),
        _ => new ErrorRecord(e, "NativeLibraryUnavailable", ErrorCategory.ResourceUnavailable, target),
    };

    /// <summary>Failures after which no further item can succeed: the store cannot be trusted or the library is unusable.</summary>
    public static bool IsFatal(Exception e) => e switch
    {
        NativeLibraryException => true,
        XmppFedException x => x.Result is XmppFedResult.StoreCorrupt or XmppFedResult.StoreVersion or XmppFedResult.NoStoreLocation
            or XmppFedResult.StoreUntrusted or XmppFedResult.StoreMismatch,
        ArgumentException => false,
        _ => true,
    };

    private static ErrorCategory Category(XmppFedResult result) => result switch
    {
        XmppFedResult.NotFound => ErrorCategory.ObjectNotFound,
        XmppFedResult.AlreadyExists or XmppFedResult.DomainConflict => ErrorCategory.ResourceExists,
        XmppFedResult.StaleInstance or XmppFedResult.StoreChanged => ErrorCategory.InvalidOperation,
        XmppFedResult.ImportRejected => ErrorCategory.InvalidData,
        XmppFedResult.StoreIo => ErrorCategory.ResourceUnavailable,
        XmppFedResult.StoreLocked => ErrorCategory.ResourceBusy,
        XmppFedResult.StoreUntrusted => ErrorCategory.SecurityError,
        XmppFedResult.StoreMismatch => ErrorCategory.InvalidData,
        XmppFedResult.StoreCorrupt or XmppFedResult.StoreVersion => ErrorCategory.InvalidData,
        XmppFedResult.NoStoreLocation => ErrorCategory.ObjectNotFound,
        XmppFedResult.Panic => ErrorCategory.NotSpecified,
        _ => ErrorCategory.InvalidArgument,
    };
}
