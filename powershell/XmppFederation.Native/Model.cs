using System;
using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace XmppFederation.Native;

/// <summary>Trust level of a partner (names as in the library).</summary>
public enum PartnerType
{
    /// <summary>A federated partner.</summary>
    Federated,
    /// <summary>A public provider whose identity was verified.</summary>
    PublicVerified,
    /// <summary>A public provider whose identity was not verified (the library's default).</summary>
    PublicUnverified,
}

/// <summary>Whether TLS must, may or cannot be used on server-to-server streams.</summary>
public enum TlsNegotiation
{
    /// <summary>TLS must be used (the library's default).</summary>
    Required,
    /// <summary>TLS may be used.</summary>
    Optional,
    /// <summary>TLS cannot be used.</summary>
    NotSupported,
}

/// <summary>Whether SASL EXTERNAL (certificate authentication, which needs TLS) must, may or cannot be used.</summary>
public enum SaslNegotiation
{
    /// <summary>SASL must be used (the library's default).</summary>
    Required,
    /// <summary>SASL may be used.</summary>
    Optional,
    /// <summary>SASL cannot be used.</summary>
    NotSupported,
}

/// <summary>
/// An allowed partner as the library returns it. The property names are the wire format's. A new
/// instance has .NET's zero values, not the library's defaults: get those from
/// <see cref="PartnerStore.NewInMemory"/>.
/// </summary>
public sealed class PartnerData
{
    /// <summary>The key: the partner's primary domain, canonical.</summary>
    public string Identity { get; set; } = string.Empty;

    /// <summary>Same value as <see cref="Identity"/>.</summary>
    public string Domain { get; set; } = string.Empty;

    /// <summary>Further domains of the partner.</summary>
    public DomainList AdditionalDomains { get; set; } = new();

    /// <summary>Free text.</summary>
    public string Description { get; set; } = string.Empty;

    /// <summary>FQDN of the partner's proxy server, or empty.</summary>
    public string ProxyFqdn { get; set; } = string.Empty;

    /// <summary>Trust level.</summary>
    public PartnerType PartnerType { get; set; }

    /// <summary>TLS negotiation.</summary>
    public TlsNegotiation TlsNegotiation { get; set; }

    /// <summary>SASL negotiation.</summary>
    public SaslNegotiation SaslNegotiation { get; set; }

    /// <summary>Whether XEP-0220 server dialback is supported.</summary>
    public bool SupportDialbackNegotiation { get; set; }

    /// <summary>Whether keep-alives are sent.</summary>
    public bool EnableKeepAlive { get; set; }

    /// <summary>Maximum simultaneous connections with this partner.</summary>
    public uint ConnectionLimit { get; set; }

    /// <summary>The store revision at which the partner was last written; 0 if never stored.</summary>
    public ulong Revision { get; set; }

    /// <summary>The Identity, so that <c>"$partner"</c> and string parameters read the partner's name.</summary>
    public override string ToString() => Identity;
}

/// <summary>
/// A partner's additional domains. A list like any other, whose text form (<see cref="ToString"/>,
/// what Export-Csv and string conversion write) is the domains separated by <c>;</c>: the text
/// form of a list that the library reads back (an empty text is an empty list).
/// </summary>
public sealed class DomainList : List<string>
{
    /// <summary>Separates the domains in the text form.</summary>
    public const string Separator = ";";

    /// <summary>An empty list.</summary>
    public DomainList()
    {
    }

    /// <summary>A list of the given domains.</summary>
    public DomainList(IEnumerable<string> domains)
        : base(domains)
    {
    }

    /// <summary>The domains separated by <see cref="Separator"/>, e.g. <c>a.example.com;b.example.com</c>.</summary>
    public override string ToString() => string.Join(Separator, this);
}

/// <summary>A valid but questionable combination of settings, with a stable id.</summary>
/// <param name="Id">Stable id, e.g. <c>DialbackNotUsed</c>.</param>
/// <param name="Message">The library's explanation.</param>
public sealed record NegotiationWarning(string Id, string Message);

/// <summary>A written (or, in memory, built) partner and the library's warnings about it.</summary>
public sealed class PartnerOutcome
{
    /// <summary>Create an outcome.</summary>
    [JsonConstructor]
    public PartnerOutcome(PartnerData partner, IReadOnlyList<NegotiationWarning> warnings)
    {
        Partner = partner;
        Warnings = warnings;
    }

    /// <summary>The partner as the library returned it.</summary>
    public PartnerData Partner { get; }

    /// <summary>Warnings about the partner's negotiation settings; empty if none.</summary>
    public IReadOnlyList<NegotiationWarning> Warnings { get; }
}

/// <summary>The folders a store uses.</summary>
/// <param name="Central">The central store folder.</param>
/// <param name="Replica">This machine's replica folder.</param>
public sealed record StorePaths(string Central, string Replica);

/// <summary>
/// This machine's local replica against the central store (Get-CsXmppAllowedPartnerReplicationStatus),
/// as the library reports it.
/// </summary>
public sealed class ReplicationStatus
{
    /// <summary>The central store folder in use.</summary>
    public string CentralStore { get; set; } = string.Empty;

    /// <summary>This machine's replica folder.</summary>
    public string Replica { get; set; } = string.Empty;

    /// <summary>The store's identity (32 hex digits), once it has one.</summary>
    public string? StoreId { get; set; }

    /// <summary>The last commit in the central store; null if it cannot be read (see <see cref="CentralError"/>).</summary>
    public ulong? CentralRevision { get; set; }

    /// <summary>The last commit in the replica; null if there is no replica yet.</summary>
    public ulong? ReplicaRevision { get; set; }

    /// <summary>When the replica was last written (UTC).</summary>
    public DateTime? ReplicaUpdated { get; set; }

    /// <summary>Whether the replica holds exactly what the central store holds now.</summary>
    public bool IsCurrent { get; set; }

    /// <summary>Why the central store cannot be read, if it cannot.</summary>
    public string? CentralError { get; set; }

    /// <summary>Why the replica cannot be read, if it cannot.</summary>
    public string? ReplicaError { get; set; }
}

/// <summary>What Initialize-CsXmppAllowedPartnerStore did, or (previewed) would do.</summary>
public enum StoreInitializeAction
{
    /// <summary>The store was created: a database's schema, or a store folder.</summary>
    Created,

    /// <summary>The store was there and is current: nothing was changed.</summary>
    Current,

    /// <summary>A database of an older schema version was upgraded to the current one (PostgreSQL schema 1 to 2).</summary>
    Upgraded,
}

/// <summary>The central store after Initialize-CsXmppAllowedPartnerStore, as the library reports it.</summary>
public sealed class StoreInitialization
{
    /// <summary>The central store: a folder, or a database (shown without secrets).</summary>
    public string CentralStore { get; set; } = string.Empty;

    /// <summary>The kind of central store: <c>Folder</c> or <c>PostgreSQL</c>.</summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary>What was done (previewed: what would be done).</summary>
    public StoreInitializeAction Action { get; set; }

    /// <summary>The database's schema version, or the folder log's format version, the store has now.</summary>
    public ulong Version { get; set; }

    /// <summary>The library's warnings (e.g. a folder on a network file system); empty if none.</summary>
    public IReadOnlyList<NegotiationWarning> Warnings { get; set; } = Array.Empty<NegotiationWarning>();
}

/// <summary>How a partner covers a remote domain (names as in the library).</summary>
public enum DomainCoverage
{
    /// <summary>The domain is the partner's Identity (primary domain).</summary>
    PrimaryDomain,
    /// <summary>The domain is one of the partner's AdditionalDomains.</summary>
    AdditionalDomain,
    /// <summary>No partner claims the domain: it is not allowed.</summary>
    NotCovered,
}

/// <summary>A way two servers authenticate each other on a server-to-server stream (names as in the library).</summary>
public enum NegotiationMethod
{
    /// <summary>SASL EXTERNAL with certificates, inside TLS.</summary>
    SaslOverTls,
    /// <summary>Server dialback (XEP-0220) on a TLS-protected stream.</summary>
    TlsDialback,
    /// <summary>Server dialback on a plain TCP stream, without TLS.</summary>
    TcpDialback,
}

/// <summary>A near miss, or a note on the form of the name, with a stable id.</summary>
/// <param name="Id">Stable id, e.g. <c>SubdomainOfPartnerDomain</c>.</param>
/// <param name="Message">The library's explanation.</param>
/// <param name="Partner">The partner the hint is about, if any.</param>
/// <param name="Fix">The command that would allow the domain through that partner, if there is one.</param>
public sealed record ExplanationHint(string Id, string Message, string? Partner, string? Fix);

/// <summary>
/// What the allowed-partner list says about one remote domain (Test-CsXmppAllowedPartner), as the
/// library decided it.
/// </summary>
public sealed class DomainExplanation
{
    /// <summary>The domain as given.</summary>
    public string Input { get; set; } = string.Empty;

    /// <summary>The canonical domain (lowercase, Unicode labels), as the list stores domains.</summary>
    public string Domain { get; set; } = string.Empty;

    /// <summary>The same domain in A-label (ASCII) form.</summary>
    public string AsciiDomain { get; set; } = string.Empty;

    /// <summary>Whether a partner claims the domain.</summary>
    public bool Allowed { get; set; }

    /// <summary>The Identity of the partner that covers the domain; null if none does.</summary>
    public string? Partner { get; set; }

    /// <summary>How the partner covers the domain.</summary>
    public DomainCoverage CoveredAs { get; set; }

    /// <summary>The partner's trust level; null if the domain is not allowed.</summary>
    public PartnerType? PartnerType { get; set; }

    /// <summary>The partner's TLS negotiation; null if the domain is not allowed.</summary>
    public TlsNegotiation? TlsNegotiation { get; set; }

    /// <summary>The partner's SASL negotiation; null if the domain is not allowed.</summary>
    public SaslNegotiation? SaslNegotiation { get; set; }

    /// <summary>Whether the partner supports dialback; null if the domain is not allowed.</summary>
    public bool? SupportDialbackNegotiation { get; set; }

    /// <summary>The methods a stream with the domain tries, in order; empty if none can succeed.</summary>
    public List<NegotiationMethod> Methods { get; set; } = new();

    /// <summary>Why no method can succeed, when <see cref="Methods"/> is empty.</summary>
    public string? NoMethodReason { get; set; }

    /// <summary>The warnings of the partner's negotiation combination.</summary>
    public List<NegotiationWarning> Warnings { get; set; } = new();

    /// <summary>Near misses and notes on the form of the name.</summary>
    public List<ExplanationHint> Hints { get; set; } = new();

    /// <summary>One sentence saying all of the above.</summary>
    public string Summary { get; set; } = string.Empty;

    /// <summary>The store revision the answer was read at.</summary>
    public ulong StoreRevision { get; set; }

    /// <summary>The canonical domain.</summary>
    public override string ToString() => Domain;
}

/// <summary>How the whole list is written as text (Export- and Import-CsXmppAllowedPartner).</summary>
public enum TransferFormat
{
    /// <summary>A JSON array of partner objects, one per line, properties in Get's order, without Revision.</summary>
    Json,
    /// <summary>A header row, then one row per partner; AdditionalDomains as <c>a.com;b.com</c>.</summary>
    Csv,
}

/// <summary>What made a commit (names as in the library).</summary>
public enum HistoryOperation
{
    /// <summary>New-CsXmppAllowedPartner (or Set -Instance of an object never stored).</summary>
    Create,
    /// <summary>Set-CsXmppAllowedPartner.</summary>
    Set,
    /// <summary>Remove-CsXmppAllowedPartner.</summary>
    Remove,
    /// <summary>Import-CsXmppAllowedPartner: one commit holding every change of the import.</summary>
    Import,
}

/// <summary>One property that a change altered, as the library wrote it (lists joined with <c>, </c>).</summary>
public sealed class PropertyChange
{
    /// <summary>The property's name, e.g. <c>ConnectionLimit</c>.</summary>
    public string Property { get; set; } = string.Empty;

    /// <summary>The value before the change; null if the partner did not exist (it was created).</summary>
    public string? Old { get; set; }

    /// <summary>The value after the change; null if the partner no longer exists (it was removed).</summary>
    public string? New { get; set; }

    /// <summary>
    /// <c>Property: old → new</c>, e.g. <c>ConnectionLimit: 20 → 40</c>: a Description (free text)
    /// and an empty value in single quotes, a side that did not exist as <c>(none)</c>.
    /// </summary>
    public override string ToString() => $"{Property}: {Show(Old)} \u2192 {Show(New)}";

    private string Show(string? value) =>
        value is null ? "(none)"
        : Property == nameof(PartnerData.Description) || value.Length == 0 ? "'" + value + "'"
        : value;
}

/// <summary>One partner's change in one commit (Get-CsXmppAllowedPartnerHistory), as the library keeps it.</summary>
public sealed class HistoryEntry
{
    /// <summary>The commit's number: the partner's Revision after the change.</summary>
    public ulong Revision { get; set; }

    /// <summary>When the change was committed (UTC, to the second).</summary>
    public DateTime At { get; set; }

    /// <summary>The operating-system account that made the change.</summary>
    public string User { get; set; } = string.Empty;

    /// <summary>The machine the change was made on.</summary>
    public string Machine { get; set; } = string.Empty;

    /// <summary>What made the change.</summary>
    public HistoryOperation Operation { get; set; }

    /// <summary>The identity of the partner changed.</summary>
    public string Identity { get; set; } = string.Empty;

    /// <summary>The partner before the change; null if it did not exist (created).</summary>
    public PartnerData? Before { get; set; }

    /// <summary>The partner after the change; null if it was removed.</summary>
    public PartnerData? After { get; set; }

    /// <summary>The properties that differ between <see cref="Before"/> and <see cref="After"/> (every property on a creation or removal).</summary>
    public List<PropertyChange> Changes { get; set; } = new();

    /// <summary>E.g. <c>12 Set contoso.com</c>.</summary>
    public override string ToString() => $"{Revision} {Operation} {Identity}";
}

/// <summary>A partner whose properties an import changes.</summary>
public sealed class ChangedPartner
{
    /// <summary>The partner's identity.</summary>
    public string Identity { get; set; } = string.Empty;

    /// <summary>The partner as it is in the store.</summary>
    public PartnerData Before { get; set; } = new();

    /// <summary>The partner as the import writes it.</summary>
    public PartnerData After { get; set; } = new();

    /// <summary>The properties that differ.</summary>
    public List<PropertyChange> Changes { get; set; } = new();

    /// <summary>E.g. <c>contoso.com (ConnectionLimit: 20 → 40)</c>.</summary>
    public override string ToString() => $"{Identity} ({string.Join("; ", Changes)})";
}

/// <summary>An import's input item that cannot be imported, and why.</summary>
public sealed class ImportRejection
{
    /// <summary>The item's number in a JSON array or in the pipeline (from 1), or its line in a CSV file.</summary>
    public ulong Position { get; set; }

    /// <summary>The identity the item names, as written; null if it names none.</summary>
    public string? Identity { get; set; }

    /// <summary>
    /// The error id a New of this item would fail with (a result name such as <c>InvalidDomain</c>
    /// or <c>DomainConflict</c>), or <c>DuplicateIdentity</c> for a partner given twice.
    /// </summary>
    public string ErrorId { get; set; } = string.Empty;

    /// <summary>The library's explanation.</summary>
    public string Reason { get; set; } = string.Empty;

    /// <summary>
    /// The exception a New of the item would have thrown: the type and result code of
    /// <see cref="ErrorId"/> when it names a result code, else (<c>DuplicateIdentity</c>) an
    /// <see cref="InvalidPartnerException"/> with InvalidValue as its code and this id.
    /// </summary>
    public XmppFedException ToException(string message)
    {
        XmppFedResult result = Enum.TryParse(ErrorId, out XmppFedResult known) && Enum.IsDefined(typeof(XmppFedResult), known)
            ? known
            : XmppFedResult.InvalidValue;
        return Ensure.ExceptionFor(result, ErrorId, message, Identity);
    }

    /// <summary>E.g. <c>3 (bad one): InvalidDomain</c>.</summary>
    public override string ToString() => $"{Position} ({Identity}): {ErrorId}";
}

/// <summary>
/// Import-CsXmppAllowedPartner: the difference between the input and the central store, as the
/// library computed it, and whether it was applied (<see cref="CommittedRevision"/>).
/// </summary>
public sealed class ImportResult
{
    /// <summary>The store revision the difference was computed against: pass it as <see cref="ImportOptions.ExpectedRevision"/> to apply exactly this difference.</summary>
    public ulong BaseRevision { get; set; }

    /// <summary>The partners the import creates.</summary>
    public List<PartnerData> Added { get; set; } = new();

    /// <summary>The partners whose properties the import changes.</summary>
    public List<ChangedPartner> Changed { get; set; } = new();

    /// <summary>The partners the import removes (only with <see cref="ImportOptions.RemoveMissing"/>).</summary>
    public List<PartnerData> Removed { get; set; } = new();

    /// <summary>The identities the input names exactly as the store holds them.</summary>
    public List<string> Unchanged { get; set; } = new();

    /// <summary>The input items that cannot be imported; any of them refuses the whole import.</summary>
    public List<ImportRejection> Rejected { get; set; } = new();

    /// <summary>Whether partners the input does not name are removed.</summary>
    public bool RemoveMissing { get; set; }

    /// <summary>The commit that applied the difference; null if previewed or if there was nothing to change.</summary>
    public ulong? CommittedRevision { get; set; }

    /// <summary>The library's warnings: ignored properties, negotiation warnings of imported partners, what followed the commit.</summary>
    public List<NegotiationWarning> Warnings { get; set; } = new();

    /// <summary>How many partners the import creates, changes or removes.</summary>
    [JsonIgnore]
    public int ChangeCount => Added.Count + Changed.Count + Removed.Count;
}

/// <summary>How to import (<see cref="PartnerStore.Import(string, ImportOptions?)"/>).</summary>
public sealed class ImportOptions
{
    /// <summary>How the input text is written.</summary>
    public TransferFormat Format { get; set; }

    /// <summary>Remove the partners the input does not name: make the store equal to the input.</summary>
    public bool RemoveMissing { get; set; }

    /// <summary>Apply only if the store is still at this revision (a shown difference's <see cref="ImportResult.BaseRevision"/>); otherwise StoreChanged.</summary>
    public ulong? ExpectedRevision { get; set; }
}

/// <summary>Which changes to list (<see cref="PartnerStore.History"/>); every member is optional.</summary>
public sealed class HistoryQuery
{
    /// <summary>A PowerShell wildcard pattern matched against the changed partner's Identity.</summary>
    public string? Identity { get; set; }

    /// <summary>Only changes at or after this time (to the second; Unspecified counts as local time).</summary>
    public DateTime? After { get; set; }

    /// <summary>Only changes at or before this time (to the second; Unspecified counts as local time).</summary>
    public DateTime? Before { get; set; }

    /// <summary>At most this many entries, the newest.</summary>
    public ulong? First { get; set; }
}

/// <summary>Source-generated (reflection-free) JSON metadata for the library's wire format.</summary>
// Nulls are written as given (e.g. AdditionalDomains = null in SetInstance): the library judges them.
[JsonSourceGenerationOptions(UseStringEnumConverter = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(PartnerData))]
[JsonSerializable(typeof(PartnerOutcome))]
[JsonSerializable(typeof(StorePaths))]
[JsonSerializable(typeof(ReplicationStatus))]
[JsonSerializable(typeof(StoreInitialization))]
[JsonSerializable(typeof(DomainExplanation))]
[JsonSerializable(typeof(List<HistoryEntry>))]
[JsonSerializable(typeof(ImportResult))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class WireJsonContext : JsonSerializerContext
{
}
