using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace XmppFederation.Native;

/// <summary>
/// An open partner store (the central store and this machine's replica of it). Every operation is
/// one call into libxmppfed; the library validates, applies defaults and decides. Thread-safe: the
/// native handle serialises calls, and disposing waits for calls in progress.
/// </summary>
public sealed class PartnerStore : IDisposable
{
    /// <summary>The ABI version (<c>XMPPFED_ABI_VERSION</c>) this assembly was built against.</summary>
    public const uint ExpectedAbiVersion = 3;

    private static readonly WireJsonContext Json = WireJsonContext.Default;

    private readonly StoreSafeHandle handle;

    private PartnerStore(StoreSafeHandle handle, StorePaths paths)
    {
        this.handle = handle;
        Paths = paths;
    }

    /// <summary>The version of the loaded native library, e.g. <c>0.1.0</c>.</summary>
    public static string LibraryVersion
    {
        get
        {
            NativeLibraryGuard.EnsureUsable();
            return NativeMethods.CopyStaticString(NativeMethods.xmppfed_version()) ?? string.Empty;
        }
    }

    /// <summary>
    /// The ABI version the native library reports. Unlike every other member, this does not refuse
    /// a mismatched library, so a diagnostic can show the number.
    /// </summary>
    public static uint AbiVersion => NativeLibraryGuard.Call(NativeMethods.xmppfed_abi_version);

    /// <summary>The folders this store uses.</summary>
    public StorePaths Paths { get; }

    private static IReadOnlyList<string>? environmentVariableNames;

    /// <summary>
    /// The environment variables the library reads (<c>XMPPFED_STORE</c>, ...), as it names them:
    /// all that a host passing its own environment to <see cref="Open(string?, string?, IReadOnlyDictionary{string, string}?)"/>
    /// needs to collect. Asked once per process.
    /// </summary>
    public static IReadOnlyList<string> EnvironmentVariableNames
    {
        get
        {
            if (environmentVariableNames is { } known)
            {
                return known;
            }

            NativeLibraryGuard.EnsureUsable();
            List<string> names = Call(null, Json.ListString, (out IntPtr o) => NativeMethods.xmppfed_environment_names(out o));
            return environmentVariableNames = names.AsReadOnly();
        }
    }

    /// <summary>
    /// Open a store. Null folders take the library's defaults (<c>$XMPPFED_STORE</c> /
    /// <c>$XMPPFED_REPLICA</c>, else per-user folders).
    /// </summary>
    /// <exception cref="StoreException">The store cannot be opened (damaged, newer format, unreadable, no location).</exception>
    /// <exception cref="NativeLibraryException">The native library is missing or of another ABI version.</exception>
    public static PartnerStore Open(string? centralDir = null, string? replicaDir = null) =>
        Open(centralDir, replicaDir, environment: null);

    /// <summary>
    /// Open a store whose defaults come from <paramref name="environment"/> (variable name to
    /// value; the library reads its <c>XMPPFED_*</c> names from it) instead of the process
    /// environment; null means the process environment. A PowerShell session passes its own
    /// <c>$env:</c> values, which on Linux native code cannot see.
    /// </summary>
    public static PartnerStore Open(string? centralDir, string? replicaDir, IReadOnlyDictionary<string, string>? environment)
    {
        NativeLibraryGuard.EnsureUsable();
        Ensure.NoNulCharacter(centralDir, nameof(centralDir), centralDir);
        Ensure.NoNulCharacter(replicaDir, nameof(replicaDir), centralDir);
        StoreSafeHandle handle;
        XmppFedResult result;
        if (environment is null)
        {
            result = NativeMethods.xmppfed_store_open(centralDir, replicaDir, out handle);
        }
        else
        {
            var variables = environment.ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);
            result = NativeMethods.xmppfed_store_open_with_environment(
                centralDir, replicaDir, JsonSerializer.Serialize(variables, Json.DictionaryStringString), out handle);
        }

        try
        {
            Ensure.Success(result, centralDir);
            result = NativeMethods.xmppfed_store_paths(handle, out IntPtr pathsJson);
            Ensure.Success(result, centralDir);
            StorePaths paths = Take(pathsJson, Json.StorePaths);
            return new PartnerStore(handle, paths);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Create a partner from the caller's properties (JSON property names as keys; values: string,
    /// bool, number, enum value, list of strings, null, or for AdditionalDomains a dictionary with
    /// Add / Remove / Replace). Missing properties take the library's defaults.
    /// </summary>
    public PartnerOutcome New(IReadOnlyDictionary<string, object?> properties) =>
        Write(properties, KeyOf(properties), (string json, out IntPtr o) => NativeMethods.xmppfed_partner_new(handle, json, false, out o));

    /// <summary>What <see cref="New"/> would do now (the same checks against the store), storing nothing.</summary>
    public PartnerOutcome PreviewNew(IReadOnlyDictionary<string, object?> properties) =>
        Write(properties, KeyOf(properties), (string json, out IntPtr o) => NativeMethods.xmppfed_partner_new_preview(handle, json, out o));

    /// <summary>
    /// Build and validate a partner as <see cref="New"/> would, storing nothing (New -InMemory).
    /// The result has Revision 0; <see cref="SetInstance"/> creates it.
    /// </summary>
    public static PartnerOutcome NewInMemory(IReadOnlyDictionary<string, object?> properties)
    {
        NativeLibraryGuard.EnsureUsable();
        using var noStore = new StoreSafeHandle();
        return Write(properties, KeyOf(properties), (string json, out IntPtr o) => NativeMethods.xmppfed_partner_new(noStore, json, true, out o));
    }

    /// <summary>Read one partner from the central store, or from the local replica.</summary>
    /// <exception cref="PartnerNotFoundException">No partner has that identity.</exception>
    public PartnerData Get(string identity, bool localStore = false)
    {
        // As a record, like the list (PartnerSequence): decoding one partner's JSON cost more than
        // the library's whole read.
        XmppFedResult result = NativeMethods.xmppfed_partner_get_records(handle, Checked(identity, nameof(identity)), localStore,
            out IntPtr records, out nuint length);
        Ensure.Success(result, identity);
        using var partner = new NativeBytes(records, length);
        return PartnerRecords.ReadOne(partner.Span);
    }

    /// <summary>
    /// Every partner, or those whose Identity matches a PowerShell wildcard <paramref name="filter"/>
    /// (case-insensitive, whole identity); sorted by identity.
    /// </summary>
    /// <exception cref="InvalidPartnerException">The filter is not a valid pattern (InvalidFilter).</exception>
    public IReadOnlyList<PartnerData> List(string? filter = null, bool localStore = false)
    {
        using PartnerSequence partners = ListStreamed(filter, localStore);
        return new List<PartnerData>(partners);
    }

    /// <summary>
    /// What <see cref="List"/> returns, taken from the library a page at a time and decoded one
    /// partner at a time while it is enumerated (for a pipeline: the first partner goes on
    /// before the rest are encoded, and the list is never held whole). The partners are the
    /// store's at this call; the call is made, and its failures thrown, here. Enumerate the
    /// result once and dispose it to release the library's pages.
    /// </summary>
    /// <exception cref="InvalidPartnerException">The filter is not a valid pattern (InvalidFilter).</exception>
    public PartnerSequence ListStreamed(string? filter = null, bool localStore = false)
    {
        Ensure.NoNulCharacter(filter, nameof(filter), filter);
        XmppFedResult result = NativeMethods.xmppfed_partner_list_pages(handle, filter, localStore, out PartnerPagesSafeHandle pages, out nuint count);
        Ensure.Success(result, filter);
        return new PartnerSequence(pages, count);
    }

    /// <summary>
    /// Identities that begin with <paramref name="prefix"/> (case-insensitive, literal: no
    /// wildcards), sorted, at most <paramref name="max"/>: for tab completion.
    /// </summary>
    public IReadOnlyList<string> Complete(string prefix, int max, bool localStore = false)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        Ensure.NoNulCharacter(prefix, nameof(prefix), prefix);
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        return Call(prefix, Json.ListString,
            (out IntPtr o) => NativeMethods.xmppfed_partner_complete(handle, prefix, (nuint)max, localStore, out o));
    }

    /// <summary>
    /// What the list says about a remote domain: whether it is allowed, the partner that covers it
    /// and how, the negotiation methods tried in order, the warnings and near misses. A domain the
    /// list does not allow is an answer (<see cref="DomainExplanation.Allowed"/> false), not an error.
    /// </summary>
    /// <exception cref="InvalidPartnerException">The domain is not a valid domain name (InvalidDomain).</exception>
    public DomainExplanation Explain(string domain, bool localStore = false) =>
        Call(Checked(domain, nameof(domain)), Json.DomainExplanation,
            (out IntPtr o) => NativeMethods.xmppfed_partner_explain(handle, domain, localStore, out o));

    /// <summary>
    /// Change a partner: <paramref name="changes"/> holds only the properties to change (not
    /// Identity/Domain). AdditionalDomains: a list replaces, null clears, a dictionary with
    /// Add / Remove / Replace modifies.
    /// </summary>
    public PartnerOutcome Set(string identity, IReadOnlyDictionary<string, object?> changes) =>
        Write(changes, Checked(identity, nameof(identity)), (string json, out IntPtr o) => NativeMethods.xmppfed_partner_set(handle, identity, json, out o));

    /// <summary>What <see cref="Set"/> would do now, storing nothing.</summary>
    public PartnerOutcome PreviewSet(string identity, IReadOnlyDictionary<string, object?> changes) =>
        Write(changes, Checked(identity, nameof(identity)), (string json, out IntPtr o) => NativeMethods.xmppfed_partner_set_preview(handle, identity, json, out o));

    /// <summary>
    /// Write a whole partner, with <paramref name="changes"/> (as for <see cref="Set"/>; may be
    /// empty) applied to it first. Revision 0 (from <see cref="NewInMemory"/>) creates it; an
    /// instance read from the store is refused (StaleInstance) if the store changed it since, unless
    /// <paramref name="force"/>.
    /// </summary>
    public PartnerOutcome SetInstance(PartnerData instance, bool force, IReadOnlyDictionary<string, object?>? changes = null) =>
        WriteInstance(instance, force, changes, preview: false);

    /// <summary>What <see cref="SetInstance"/> would do now, storing nothing.</summary>
    public PartnerOutcome PreviewSetInstance(PartnerData instance, bool force, IReadOnlyDictionary<string, object?>? changes = null) =>
        WriteInstance(instance, force, changes, preview: true);

    /// <summary>Remove a partner; returns it as it was, with any warning about what followed the commit.</summary>
    /// <exception cref="PartnerNotFoundException">No partner has that identity.</exception>
    public PartnerOutcome Remove(string identity) =>
        Call(Checked(identity, nameof(identity)), Json.PartnerOutcome,
            (out IntPtr o) => NativeMethods.xmppfed_partner_remove(handle, identity, out o));

    /// <summary>What <see cref="Remove"/> would do now (NotFound for a missing partner), removing nothing.</summary>
    public PartnerOutcome PreviewRemove(string identity) =>
        Call(Checked(identity, nameof(identity)), Json.PartnerOutcome,
            (out IntPtr o) => NativeMethods.xmppfed_partner_remove_preview(handle, identity, out o));

    /// <summary>Refresh this machine's replica from the central store now.</summary>
    public void Replicate()
    {
        XmppFedResult result = NativeMethods.xmppfed_store_replicate(handle);
        Ensure.Success(result, Paths.Replica);
    }

    /// <summary>
    /// This machine's replica against the central store: revisions, the store's identity, when the
    /// replica was last written, whether it is current, and why either side cannot be read.
    /// </summary>
    public ReplicationStatus Status() =>
        Call(Paths.Central, Json.ReplicationStatus, (out IntPtr o) => NativeMethods.xmppfed_store_status(handle, out o));

    /// <summary>
    /// Create the central store explicitly, or check that it is current
    /// (Initialize-CsXmppAllowedPartnerStore): a database's schema, or a store folder.
    /// </summary>
    public StoreInitialization Initialize() =>
        Call(Paths.Central, Json.StoreInitialization, (out IntPtr o) => NativeMethods.xmppfed_store_initialize(handle, out o));

    /// <summary>What <see cref="Initialize"/> would do now, creating nothing.</summary>
    public StoreInitialization PreviewInitialize() =>
        Call(Paths.Central, Json.StoreInitialization, (out IntPtr o) => NativeMethods.xmppfed_store_initialize_preview(handle, out o));

    /// <summary>
    /// The change history the central store still holds (Get-CsXmppAllowedPartnerHistory): who
    /// changed which partner, when, how, and what changed, newest first; <paramref name="query"/>
    /// narrows it (null: everything).
    /// </summary>
    /// <exception cref="InvalidPartnerException">The Identity pattern is not a valid wildcard (InvalidFilter).</exception>
    public IReadOnlyList<HistoryEntry> History(HistoryQuery? query = null)
    {
        string? queryJson = null;
        if (query is not null)
        {
            Ensure.NoNulCharacter(query.Identity, nameof(query.Identity), query.Identity);
            var fields = new Dictionary<string, object?>();
            if (query.Identity is not null)
            {
                fields[nameof(HistoryQuery.Identity)] = query.Identity;
            }
            if (query.After is DateTime after)
            {
                fields[nameof(HistoryQuery.After)] = Rfc3339(after);
            }
            if (query.Before is DateTime before)
            {
                fields[nameof(HistoryQuery.Before)] = Rfc3339(before);
            }
            if (query.First is ulong first)
            {
                fields[nameof(HistoryQuery.First)] = first;
            }
            queryJson = JsonInput.Serialize(fields);
        }

        return Call(query?.Identity ?? Paths.Central, Json.ListHistoryEntry,
            (out IntPtr o) => NativeMethods.xmppfed_store_history(handle, queryJson, out o));
    }

    /// <summary>
    /// The whole list (or the partners whose Identity matches the wildcard <paramref name="filter"/>)
    /// as text, sorted by identity, as Export-CsXmppAllowedPartner writes it.
    /// </summary>
    /// <exception cref="InvalidPartnerException">The filter is not a valid pattern (InvalidFilter).</exception>
    public string Export(TransferFormat format, string? filter = null, bool localStore = false)
    {
        Ensure.NoNulCharacter(filter, nameof(filter), filter);
        string formatName = format.ToString();
        XmppFedResult result = NativeMethods.xmppfed_store_export(handle, formatName, filter, localStore, out IntPtr text);
        Ensure.Success(result, filter);
        return TakeText(text);
    }

    /// <summary>
    /// Import the whole list from <paramref name="input"/> (JSON or CSV as <see cref="Export"/>
    /// writes it, per <see cref="ImportOptions.Format"/>): the difference against the central
    /// store, applied as one commit, or nothing is.
    /// </summary>
    /// <exception cref="InvalidPartnerException">The input cannot be read as a whole, or an item cannot be imported (ImportRejected).</exception>
    /// <exception cref="PartnerConflictException">The store is no longer at <see cref="ImportOptions.ExpectedRevision"/> (StoreChanged).</exception>
    public ImportResult Import(string input, ImportOptions? options = null) => ImportText(input, options, preview: false);

    /// <summary>What <see cref="Import(string, ImportOptions?)"/> would do now, writing nothing; rejected items are listed, not thrown.</summary>
    public ImportResult PreviewImport(string input, ImportOptions? options = null) => ImportText(input, options, preview: true);

    /// <summary>
    /// Import partners given as property sets (one dictionary per partner, JSON property names as
    /// keys; values as for <see cref="New"/>, or text for any of them, as a CSV row has), in their
    /// order; <see cref="ImportOptions.Format"/> is not used.
    /// </summary>
    public ImportResult Import(IEnumerable<IReadOnlyDictionary<string, object?>> partners, ImportOptions? options = null) =>
        ImportText(JsonInput.SerializeArray(partners), AsJson(options), preview: false);

    /// <summary>What <see cref="Import(IEnumerable{IReadOnlyDictionary{string, object?}}, ImportOptions?)"/> would do now, writing nothing.</summary>
    public ImportResult PreviewImport(IEnumerable<IReadOnlyDictionary<string, object?>> partners, ImportOptions? options = null) =>
        ImportText(JsonInput.SerializeArray(partners), AsJson(options), preview: true);

    /// <summary>Close the native handle (after any call in progress on another thread returns).</summary>
    public void Dispose() => handle.Dispose();

    private ImportResult ImportText(string input, ImportOptions? options, bool preview)
    {
        ArgumentNullException.ThrowIfNull(input);
        Ensure.NoNulCharacter(input, nameof(input), Paths.Central);
        string? optionsJson = null;
        if (options is not null)
        {
            var fields = new Dictionary<string, object?>
            {
                [nameof(ImportOptions.Format)] = options.Format.ToString(),
                [nameof(ImportOptions.RemoveMissing)] = options.RemoveMissing,
            };
            if (options.ExpectedRevision is ulong expected)
            {
                fields[nameof(ImportOptions.ExpectedRevision)] = expected;
            }
            optionsJson = JsonInput.Serialize(fields);
        }

        return Call(Paths.Central, Json.ImportResult, (out IntPtr o) => preview
            ? NativeMethods.xmppfed_store_import_preview(handle, input, optionsJson, out o)
            : NativeMethods.xmppfed_store_import(handle, input, optionsJson, out o));
    }

    /// <summary>The options for items this assembly writes as JSON.</summary>
    private static ImportOptions AsJson(ImportOptions? options) => new()
    {
        Format = TransferFormat.Json,
        RemoveMissing = options?.RemoveMissing ?? false,
        ExpectedRevision = options?.ExpectedRevision,
    };

    /// <summary>
    /// A time as the library reads it: UTC, RFC 3339, to the second. A time of unspecified kind
    /// is local time, as PowerShell and <see cref="DateTime.ToUniversalTime"/> take it.
    /// </summary>
    internal static string Rfc3339(DateTime time) =>
        time.ToUniversalTime().ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A library-allocated text, copied and then freed with <c>xmppfed_string_free</c>, always.</summary>
    private static string TakeText(IntPtr owned)
    {
        Ensure.Output(owned);

        try
        {
            return System.Runtime.InteropServices.Marshal.PtrToStringUTF8(owned) ?? string.Empty;
        }
        finally
        {
            NativeMethods.xmppfed_string_free(owned);
        }
    }

    private PartnerOutcome WriteInstance(PartnerData instance, bool force, IReadOnlyDictionary<string, object?>? changes, bool preview)
    {
        ArgumentNullException.ThrowIfNull(instance);
        string json = JsonSerializer.Serialize(instance, Json.PartnerData);
        string? changesJson = changes is null || changes.Count == 0 ? null : JsonInput.Serialize(changes);
        return Call(instance.Identity, Json.PartnerOutcome, (out IntPtr o) => preview
            ? NativeMethods.xmppfed_partner_set_instance_preview(handle, json, changesJson, force, out o)
            : NativeMethods.xmppfed_partner_set_instance(handle, json, changesJson, force, out o));
    }

    /// <summary>A native call whose output is one library-allocated JSON string.</summary>
    private delegate XmppFedResult JsonCall(out IntPtr json);

    /// <summary>A native writer taking one caller JSON document.</summary>
    private delegate XmppFedResult WriteCall(string inputJson, out IntPtr outcomeJson);

    /// <summary>The one call path: call, turn a failure into its exception, take and decode the output.</summary>
    private static T Call<T>(string? target, JsonTypeInfo<T> type, JsonCall call)
    {
        XmppFedResult result = call(out IntPtr json);
        Ensure.Success(result, target);
        return Take(json, type);
    }

    /// <summary>
    /// Decode a library-allocated JSON string straight from its UTF-8 bytes (no UTF-16 copy),
    /// then free it with <c>xmppfed_string_free</c>, always.
    /// </summary>
    private static unsafe T Take<T>(IntPtr owned, JsonTypeInfo<T> type)
    {
        Ensure.Output(owned);

        try
        {
            var utf8 = System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)owned);
            return JsonSerializer.Deserialize(utf8, type) ?? throw new JsonException("the document is null");
        }
        catch (JsonException e)
        {
            throw Ensure.Unreadable($"JSON this assembly cannot read as {typeof(T).Name}", e);
        }
        finally
        {
            NativeMethods.xmppfed_string_free(owned);
        }
    }

    private static PartnerOutcome Write(IReadOnlyDictionary<string, object?> properties, string? target, WriteCall call)
    {
        string input = JsonInput.Serialize(properties);
        return Call(target, Json.PartnerOutcome, (out IntPtr o) => call(input, out o));
    }

    /// <summary>A required identity argument, checked before it crosses the C ABI.</summary>
    private static string Checked(string identity, string argumentName)
    {
        ArgumentNullException.ThrowIfNull(identity, argumentName);
        Ensure.NoNulCharacter(identity, argumentName, identity);
        return identity;
    }

    /// <summary>The identity a New request is about, for exception targets: Identity, else Domain.</summary>
    private static string? KeyOf(IReadOnlyDictionary<string, object?> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        foreach (string key in new[] { nameof(PartnerData.Identity), nameof(PartnerData.Domain) })
        {
            if (properties.TryGetValue(key, out object? value) && value is not null)
            {
                return value.ToString();
            }
        }

        return null;
    }
}
