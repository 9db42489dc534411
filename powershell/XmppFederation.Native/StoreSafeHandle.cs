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

/// <summary>An <c>xmppfed_partner_pages *</c> (<see cref="PartnerSequence"/>), freed once, also by the finalizer if never disposed.</summary>
internal sealed class PartnerPagesSafeHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>Used by the marshaller for <c>out</c> arguments.</summary>
    public PartnerPagesSafeHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.xmppfed_partner_pages_free(handle);
        return true;
    }
}
