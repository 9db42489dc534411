using System;
using System.Runtime.InteropServices;
using System.Text;

namespace XmppFederation.Native;

/// <summary>
/// netstandard2.0 build of <c>NativeMethods.cs</c> (the Windows PowerShell 5.1 build): the same
/// members with the same signatures, over <c>[DllImport]</c>, which .NET Framework has
/// (<c>[LibraryImport]</c> and UTF-8 string marshalling are .NET Core's). Every string crosses as
/// NUL-terminated UTF-8 bytes that this file encodes; NULL stays NULL. The library is loaded by
/// <see cref="NativeLibraryResolver"/> before the first call (see <c>NativeLibrary.NetStandard.cs</c>).
/// </summary>
internal static class NativeMethods
{
    /// <summary>The name the imports bind to (see <see cref="NativeLibraryResolver"/>).</summary>
    internal const string LibraryName = "xmppfed";

    private const CallingConvention Cdecl = CallingConvention.Cdecl;

    /// <summary>
    /// Loads the library (on Windows) before any import of this class is first called, also by a
    /// caller that does not go through <see cref="NativeLibraryGuard"/> first. A failure is not
    /// thrown here, where it would break the type for good: the guard's first call
    /// (<see cref="xmppfed_abi_version"/>) loads again and reports it.
    /// </summary>
    static NativeMethods()
    {
        try
        {
            NativeLibrary.LoadBeforeFirstCall();
        }
        catch (NativeLibraryException)
        {
        }
    }

    /// <summary>
    /// Every use of the library through <see cref="PartnerStore"/> begins with this call
    /// (<see cref="NativeLibraryGuard"/>), so a library that could not be loaded is reported here,
    /// as .NET Core's resolver hook would at the first call.
    /// </summary>
    internal static uint xmppfed_abi_version()
    {
        NativeLibrary.LoadBeforeFirstCall();
        return Raw.xmppfed_abi_version();
    }

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern IntPtr xmppfed_version();

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern IntPtr xmppfed_result_name(int result);

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern IntPtr xmppfed_last_error_message();

    internal static XmppFedResult xmppfed_store_open(string? central_dir, string? replica_dir, out StoreSafeHandle store_out) =>
        Raw.xmppfed_store_open(Utf8(central_dir), Utf8(replica_dir), out store_out);

    internal static XmppFedResult xmppfed_store_open_with_environment(
        string? central_dir, string? replica_dir, string environment_json, out StoreSafeHandle store_out) =>
        Raw.xmppfed_store_open_with_environment(Utf8(central_dir), Utf8(replica_dir), Utf8(environment_json), out store_out);

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern XmppFedResult xmppfed_environment_names(out IntPtr names_json_out);

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern void xmppfed_store_close(IntPtr store);

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern XmppFedResult xmppfed_store_paths(StoreSafeHandle store, out IntPtr paths_json_out);

    internal static XmppFedResult xmppfed_partner_new(StoreSafeHandle store, string partner_json, bool in_memory, out IntPtr outcome_json_out) =>
        Raw.xmppfed_partner_new(store, Utf8(partner_json), in_memory, out outcome_json_out);

    internal static XmppFedResult xmppfed_partner_new_preview(StoreSafeHandle store, string partner_json, out IntPtr outcome_json_out) =>
        Raw.xmppfed_partner_new_preview(store, Utf8(partner_json), out outcome_json_out);

    internal static XmppFedResult xmppfed_partner_get(StoreSafeHandle store, string identity, bool local_store, out IntPtr partner_json_out) =>
        Raw.xmppfed_partner_get(store, Utf8(identity), local_store, out partner_json_out);

    internal static XmppFedResult xmppfed_partner_get_records(StoreSafeHandle store, string identity, bool local_store, out IntPtr records_out, out nuint records_len_out) =>
        Raw.xmppfed_partner_get_records(store, Utf8(identity), local_store, out records_out, out records_len_out);

    internal static XmppFedResult xmppfed_partner_list(StoreSafeHandle store, string? filter, bool local_store, out IntPtr partners_json_out) =>
        Raw.xmppfed_partner_list(store, Utf8(filter), local_store, out partners_json_out);

    internal static XmppFedResult xmppfed_partner_list_pages(StoreSafeHandle store, string? filter, bool local_store, out PartnerPagesSafeHandle pages_out, out nuint count_out) =>
        Raw.xmppfed_partner_list_pages(store, Utf8(filter), local_store, out pages_out, out count_out);

    internal static XmppFedResult xmppfed_partner_pages_next(PartnerPagesSafeHandle pages, out IntPtr records_out, out nuint records_len_out) =>
        Raw.xmppfed_partner_pages_next(pages, out records_out, out records_len_out);

    internal static void xmppfed_partner_pages_free(IntPtr pages) => Raw.xmppfed_partner_pages_free(pages);

    internal static XmppFedResult xmppfed_partner_explain(StoreSafeHandle store, string domain, bool local_store, out IntPtr explanation_json_out) =>
        Raw.xmppfed_partner_explain(store, Utf8(domain), local_store, out explanation_json_out);

    internal static XmppFedResult xmppfed_partner_complete(
        StoreSafeHandle store, string prefix, nuint max, bool local_store, out IntPtr identities_json_out) =>
        Raw.xmppfed_partner_complete(store, Utf8(prefix), max, local_store, out identities_json_out);

    internal static XmppFedResult xmppfed_partner_set(StoreSafeHandle store, string identity, string changes_json, out IntPtr outcome_json_out) =>
        Raw.xmppfed_partner_set(store, Utf8(identity), Utf8(changes_json), out outcome_json_out);

    internal static XmppFedResult xmppfed_partner_set_preview(StoreSafeHandle store, string identity, string changes_json, out IntPtr outcome_json_out) =>
        Raw.xmppfed_partner_set_preview(store, Utf8(identity), Utf8(changes_json), out outcome_json_out);

    internal static XmppFedResult xmppfed_partner_set_instance(
        StoreSafeHandle store, string instance_json, string? changes_json, bool force, out IntPtr outcome_json_out) =>
        Raw.xmppfed_partner_set_instance(store, Utf8(instance_json), Utf8(changes_json), force, out outcome_json_out);

    internal static XmppFedResult xmppfed_partner_set_instance_preview(
        StoreSafeHandle store, string instance_json, string? changes_json, bool force, out IntPtr outcome_json_out) =>
        Raw.xmppfed_partner_set_instance_preview(store, Utf8(instance_json), Utf8(changes_json), force, out outcome_json_out);

    internal static XmppFedResult xmppfed_partner_remove(StoreSafeHandle store, string identity, out IntPtr outcome_json_out) =>
        Raw.xmppfed_partner_remove(store, Utf8(identity), out outcome_json_out);

    internal static XmppFedResult xmppfed_partner_remove_preview(StoreSafeHandle store, string identity, out IntPtr outcome_json_out) =>
        Raw.xmppfed_partner_remove_preview(store, Utf8(identity), out outcome_json_out);

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern XmppFedResult xmppfed_store_replicate(StoreSafeHandle store);

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern XmppFedResult xmppfed_store_status(StoreSafeHandle store, out IntPtr status_json_out);

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern XmppFedResult xmppfed_store_initialize(StoreSafeHandle store, out IntPtr result_json_out);

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern XmppFedResult xmppfed_store_initialize_preview(StoreSafeHandle store, out IntPtr result_json_out);

    internal static XmppFedResult xmppfed_store_history(StoreSafeHandle store, string? query_json, out IntPtr history_json_out) =>
        Raw.xmppfed_store_history(store, Utf8(query_json), out history_json_out);

    internal static XmppFedResult xmppfed_store_export(StoreSafeHandle store, string format, string? filter, bool local_store, out IntPtr text_out) =>
        Raw.xmppfed_store_export(store, Utf8(format), Utf8(filter), local_store, out text_out);

    internal static XmppFedResult xmppfed_store_import(StoreSafeHandle store, string input, string? options_json, out IntPtr plan_json_out) =>
        Raw.xmppfed_store_import(store, Utf8(input), Utf8(options_json), out plan_json_out);

    internal static XmppFedResult xmppfed_store_import_preview(StoreSafeHandle store, string input, string? options_json, out IntPtr plan_json_out) =>
        Raw.xmppfed_store_import_preview(store, Utf8(input), Utf8(options_json), out plan_json_out);

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern void xmppfed_string_free(IntPtr s);

    [DllImport(LibraryName, CallingConvention = Cdecl)]
    internal static extern void xmppfed_bytes_free(IntPtr bytes, nuint len);

    /// <summary>Copy a library-allocated string and free it with <c>xmppfed_string_free</c>, always.</summary>
    internal static string TakeString(IntPtr owned)
    {
        try
        {
            return Marshal.PtrToStringUTF8(owned)
                ?? throw Ensure.NoOutput();
        }
        finally
        {
            xmppfed_string_free(owned);
        }
    }

    /// <summary>Copy a static library string (never freed); NULL gives null.</summary>
    internal static string? CopyStaticString(IntPtr borrowed) => Marshal.PtrToStringUTF8(borrowed);

    /// <summary>A string as NUL-terminated UTF-8 (the marshaller pins the array for the call); null stays NULL.</summary>
    private static byte[]? Utf8(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, 0, value.Length, bytes, 0);
        return bytes;
    }

    /// <summary>The imports that this file wraps (strings as UTF-8 byte arrays), named like their C functions.</summary>
    private static class Raw
    {
        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern uint xmppfed_abi_version();

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_store_open(byte[]? central_dir, byte[]? replica_dir, out StoreSafeHandle store_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_store_open_with_environment(
            byte[]? central_dir, byte[]? replica_dir, byte[]? environment_json, out StoreSafeHandle store_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_new(
            StoreSafeHandle store, byte[]? partner_json, [MarshalAs(UnmanagedType.U1)] bool in_memory, out IntPtr outcome_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_new_preview(StoreSafeHandle store, byte[]? partner_json, out IntPtr outcome_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_get(
            StoreSafeHandle store, byte[]? identity, [MarshalAs(UnmanagedType.U1)] bool local_store, out IntPtr partner_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_explain(
            StoreSafeHandle store, byte[]? domain, [MarshalAs(UnmanagedType.U1)] bool local_store, out IntPtr explanation_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_list(
            StoreSafeHandle store, byte[]? filter, [MarshalAs(UnmanagedType.U1)] bool local_store, out IntPtr partners_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_get_records(
            StoreSafeHandle store, byte[]? identity, [MarshalAs(UnmanagedType.U1)] bool local_store, out IntPtr records_out, out nuint records_len_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_list_pages(
            StoreSafeHandle store, byte[]? filter, [MarshalAs(UnmanagedType.U1)] bool local_store, out PartnerPagesSafeHandle pages_out, out nuint count_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_pages_next(PartnerPagesSafeHandle pages, out IntPtr records_out, out nuint records_len_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern void xmppfed_partner_pages_free(IntPtr pages);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_complete(
            StoreSafeHandle store, byte[]? prefix, nuint max, [MarshalAs(UnmanagedType.U1)] bool local_store, out IntPtr identities_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_set(StoreSafeHandle store, byte[]? identity, byte[]? changes_json, out IntPtr outcome_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_set_preview(
            StoreSafeHandle store, byte[]? identity, byte[]? changes_json, out IntPtr outcome_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_set_instance(
            StoreSafeHandle store, byte[]? instance_json, byte[]? changes_json, [MarshalAs(UnmanagedType.U1)] bool force, out IntPtr outcome_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_set_instance_preview(
            StoreSafeHandle store, byte[]? instance_json, byte[]? changes_json, [MarshalAs(UnmanagedType.U1)] bool force, out IntPtr outcome_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_remove(StoreSafeHandle store, byte[]? identity, out IntPtr outcome_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_partner_remove_preview(StoreSafeHandle store, byte[]? identity, out IntPtr outcome_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_store_history(StoreSafeHandle store, byte[]? query_json, out IntPtr history_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_store_export(
            StoreSafeHandle store, byte[]? format, byte[]? filter, [MarshalAs(UnmanagedType.U1)] bool local_store, out IntPtr text_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_store_import(StoreSafeHandle store, byte[]? input, byte[]? options_json, out IntPtr plan_json_out);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern XmppFedResult xmppfed_store_import_preview(StoreSafeHandle store, byte[]? input, byte[]? options_json, out IntPtr plan_json_out);
    }
}
