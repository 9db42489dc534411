using Microsoft.Win32.SafeHandles;

namespace XmppFederation.Native;

/// <summary>
/// An <c>xmppfed_store *</c>. The marshaller adds a reference for the length of every call, so
/// disposing while another thread is inside a call closes the handle only after that call returns.
/// </summary>
internal sealed class StoreSafeHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>Used by the marshaller for <c>out</c> arguments, and as the NULL store.</summary>
    public StoreSafeHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.xmppfed_store_close(handle);
        return true;
    }
}
