using System;
using System.Runtime.InteropServices;

namespace XmppFederation.Native;

/// <summary>
/// The raw imports of libxmppfed, one per C function of <c>include/xmppfed.h</c>, named exactly
/// like it. Library-allocated <c>char *</c> outputs arrive as <see cref="IntPtr"/> and are released
/// only with <see cref="xmppfed_string_free"/>, after being decoded in place from their UTF-8
/// bytes (<c>PartnerStore.Take</c>), never by the .NET marshaller; a get's binary records
/// (<see cref="NativeBytes"/>) only with <see cref="xmppfed_bytes_free"/>, and a list's pages
/// (<see cref="PartnerPagesSafeHandle"/>) only with <see cref="xmppfed_partner_pages_free"/>.
/// Static strings (<c>xmppfed_version</c>, <c>xmppfed_result_name</c>,
/// <c>xmppfed_last_error_message</c>) are copied and never freed.
/// </summary>
internal static partial class NativeMethods
{
    /// <summary>The name the runtime asks the resolver for (see <see cref="NativeLibraryResolver"/>).</summary>
    internal const string LibraryName = "xmppfed";

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint xmppfed_abi_version();

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr xmppfed_version();

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr xmppfed_result_name(int result);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr xmppfed_last_error_message();

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_store_open(string? central_dir, string? replica_dir, out StoreSafeHandle store_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_store_open_with_environment(
        string? central_dir,
        string? replica_dir,
        string environment_json,
        out StoreSafeHandle store_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_environment_names(out IntPtr names_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void xmppfed_store_close(IntPtr store);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_store_paths(StoreSafeHandle store, out IntPtr paths_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_new(
        StoreSafeHandle store,
        string partner_json,
        [MarshalAs(UnmanagedType.U1)] bool in_memory,
        out IntPtr outcome_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_new_preview(
        StoreSafeHandle store,
        string partner_json,
        out IntPtr outcome_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_get(
        StoreSafeHandle store,
        string identity,
        [MarshalAs(UnmanagedType.U1)] bool local_store,
        out IntPtr partner_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_get_records(
        StoreSafeHandle store,
        string identity,
        [MarshalAs(UnmanagedType.U1)] bool local_store,
        out IntPtr records_out,
        out nuint records_len_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_list(
        StoreSafeHandle store,
        string? filter,
        [MarshalAs(UnmanagedType.U1)] bool local_store,
        out IntPtr partners_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_list_pages(
        StoreSafeHandle store,
        string? filter,
        [MarshalAs(UnmanagedType.U1)] bool local_store,
        out PartnerPagesSafeHandle pages_out,
        out nuint count_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_pages_next(PartnerPagesSafeHandle pages, out IntPtr records_out, out nuint records_len_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void xmppfed_partner_pages_free(IntPtr pages);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_complete(
        StoreSafeHandle store,
        string prefix,
        nuint max,
        [MarshalAs(UnmanagedType.U1)] bool local_store,
        out IntPtr identities_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_explain(
        StoreSafeHandle store,
        string domain,
        [MarshalAs(UnmanagedType.U1)] bool local_store,
        out IntPtr explanation_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_set(
        StoreSafeHandle store,
        string identity,
        string changes_json,
        out IntPtr outcome_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_set_preview(
        StoreSafeHandle store,
        string identity,
        string changes_json,
        out IntPtr outcome_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_set_instance(
        StoreSafeHandle store,
        string instance_json,
        string? changes_json,
        [MarshalAs(UnmanagedType.U1)] bool force,
        out IntPtr outcome_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_set_instance_preview(
        StoreSafeHandle store,
        string instance_json,
        string? changes_json,
        [MarshalAs(UnmanagedType.U1)] bool force,
        out IntPtr outcome_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_remove(
        StoreSafeHandle store,
        string identity,
        out IntPtr outcome_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_partner_remove_preview(
        StoreSafeHandle store,
        string identity,
        out IntPtr outcome_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_store_replicate(StoreSafeHandle store);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_store_status(StoreSafeHandle store, out IntPtr status_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_store_initialize(StoreSafeHandle store, out IntPtr result_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_store_initialize_preview(StoreSafeHandle store, out IntPtr result_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_store_history(StoreSafeHandle store, string? query_json, out IntPtr history_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_store_export(
        StoreSafeHandle store,
        string format,
        string? filter,
        [MarshalAs(UnmanagedType.U1)] bool local_store,
        out IntPtr text_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_store_import(
        StoreSafeHandle store,
        string input,
        string? options_json,
        out IntPtr plan_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial XmppFedResult xmppfed_store_import_preview(
        StoreSafeHandle store,
        string input,
        string? options_json,
        out IntPtr plan_json_out);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void xmppfed_string_free(IntPtr s);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void xmppfed_bytes_free(IntPtr bytes, nuint len);

    /// <summary>Copy a static library string (never freed); NULL gives null.</summary>
    internal static string? CopyStaticString(IntPtr borrowed) => Marshal.PtrToStringUTF8(borrowed);
}
