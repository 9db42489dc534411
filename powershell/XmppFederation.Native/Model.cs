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

/// <summary>Source-generated (reflection-free) JSON metadata for the library's wire format.</summary>
// Nulls are written as given (e.g. AdditionalDomains = null in SetInstance): the library judges them.
[JsonSourceGenerationOptions(UseStringEnumConverter = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(PartnerData))]
[JsonSerializable(typeof(PartnerOutcome))]
[JsonSerializable(typeof(StorePaths))]
[JsonSerializable(typeof(ReplicationStatus))]
[JsonSerializable(typeof(StoreInitialization))]
[JsonSerializable(typeof(DomainExplanation))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class WireJsonContext : JsonSerializerContext
{
}
