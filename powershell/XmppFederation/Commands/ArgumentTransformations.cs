using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// An -Identity value: a domain name, or a partner object (its Identity). Anything else is
/// refused at binding: PowerShell would otherwise turn any object into a string (a hashtable into
/// "System.Collections.Hashtable", a valid-looking domain) and create a partner by that name.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class PartnerIdentityTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData) =>
        PartnerObjects.DomainName(inputData, "Identity takes a domain name or an allowed-partner object");
}

/// <summary>
/// A -Domain value of Test-CsXmppAllowedPartner: domain names, one or a list, or partner objects
/// (their Identity). Anything else is refused at binding, as for -Identity: PowerShell would
/// otherwise explain "System.Collections.Hashtable" as a domain. An object with a Domain property
/// (a CSV row) is passed on untouched, so that binding by value fails and the pipeline binds it
/// by that property (a refusal here would end binding for the object).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class DomainNamesTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = PartnerObjects.Unwrap(inputData);
        if (value is IEnumerable items and not string and not IDictionary)
        {
            return items.Cast<object?>().Select(One).ToArray();
        }
        if (value is not PartnerData && inputData is not null && PSObject.AsPSObject(inputData).Properties[DomainProperty] is not null)
        {
            return inputData;
        }
        return One(inputData);
    }

    private const string DomainProperty = "Domain";

    private static string? One(object? item) =>
        PartnerObjects.DomainName(item, "Domain takes domain names or allowed-partner objects");
}

/// <summary>
/// A -Instance value: a partner object as the cmdlets write it, or one deserialized from
/// Export-Clixml / a remote session (a property bag with the same names).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class PartnerInstanceTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = PartnerObjects.Unwrap(inputData);
        if (value is null or PartnerData)
        {
            return value;
        }
        if (PartnerObjects.IsDeserializedPartner(inputData))
        {
            return PartnerObjects.FromDeserialized((PSObject)inputData!);
        }
        throw new ArgumentTransformationMetadataException(
            $"Instance takes an allowed-partner object (from Get- or New-CsXmppAllowedPartner), not a {PartnerObjects.Describe(value)}.");
    }
}

/// <summary>Recognising and rebuilding partner objects that crossed PowerShell's serializer.</summary>
internal static class PartnerObjects
{
    private static readonly string DeserializedTypeName = "Deserialized." + typeof(PartnerData).FullName;

    public static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    public static bool IsDeserializedPartner(object? value) =>
        value is PSObject ps && ps.TypeNames.Contains(DeserializedTypeName);

    public static string Describe(object? value) => value?.GetType().Name ?? "null";

    /// <summary>
    /// A domain name given as text or as a partner object (its Identity), for a string parameter;
    /// any other object is refused with <paramref name="rule"/>, naming its type.
    /// </summary>
    public static string? DomainName(object? item, string rule)
    {
        object? value = Unwrap(item);
        switch (value)
        {
            case null:
                return null;
            case string text:
                return text;
            case PartnerData partner:
                return partner.Identity;
        }
        if (IsDeserializedPartner(item) && ((PSObject)item!).Properties["Identity"]?.Value is string identity)
        {
            return identity;
        }
        throw new ArgumentTransformationMetadataException($"{rule}, not a {Describe(value)}.");
    }

    /// <summary>Copies the properties by name, converting with PowerShell's own rules; the library validates the result.</summary>
    public static PartnerData FromDeserialized(PSObject source)
    {
        T Get<T>(string name, T fallback)
        {
            object? raw = source.Properties[name]?.Value;
            return raw is null ? fallback : LanguagePrimitives.ConvertTo<T>(raw);
        }

        object? domains = Unwrap(source.Properties[nameof(PartnerData.AdditionalDomains)]?.Value);
        return new PartnerData
        {
            Identity = Get(nameof(PartnerData.Identity), string.Empty),
            Domain = Get(nameof(PartnerData.Domain), string.Empty),
            AdditionalDomains = domains is IEnumerable items and not string
                ? new DomainList(items.Cast<object?>().Select(d => LanguagePrimitives.ConvertTo<string>(d)))
                : new DomainList(),
            Description = Get(nameof(PartnerData.Description), string.Empty),
            ProxyFqdn = Get(nameof(PartnerData.ProxyFqdn), string.Empty),
            PartnerType = Get(nameof(PartnerData.PartnerType), default(PartnerType)),
            TlsNegotiation = Get(nameof(PartnerData.TlsNegotiation), default(TlsNegotiation)),
            SaslNegotiation = Get(nameof(PartnerData.SaslNegotiation), default(SaslNegotiation)),
            SupportDialbackNegotiation = Get(nameof(PartnerData.SupportDialbackNegotiation), false),
            EnableKeepAlive = Get(nameof(PartnerData.EnableKeepAlive), false),
            ConnectionLimit = Get(nameof(PartnerData.ConnectionLimit), 0u),
            Revision = Get(nameof(PartnerData.Revision), 0ul),
        };
    }
}

/// <summary>
/// A $true/$false parameter that also takes the text True or False (any case), as Export-Csv
/// writes a Boolean and Import-Csv reads it back. PowerShell refuses strings for Boolean
/// parameters because its own conversion makes every non-empty string, "False" too, $true; this
/// reads the text .NET writes for a Boolean instead, and refuses any other text.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class BooleanTextTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        if (PartnerObjects.Unwrap(inputData) is not string text)
        {
            return inputData;
        }
        if (bool.TryParse(text, out bool value))
        {
            return value;
        }
        throw new ArgumentTransformationMetadataException(
            $"'{text}' is not a Boolean value; give $true or $false (or the text True or False, as Export-Csv writes them).");
    }
}
