using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace XmppFederation.Commands;

/// <summary>
/// Turns the parameters an admin actually bound into the property object the library takes.
/// Only translation: unbound parameters are left out (the library applies defaults or keeps the
/// current value), and PowerShell list shapes become the library's list-modifier shapes. Which
/// keys are valid and what they mean is decided by the library.
/// </summary>
internal static class PropertyBag
{
    /// <summary>The partner's key parameters (New only: Set names the partner by -Identity or -Instance).</summary>
    private static readonly string[] KeyNames = { "Identity", "Domain" };

    /// <summary>Parameter names that are partner properties other than the key (the library's JSON names).</summary>
    private static readonly string[] PropertyNames =
    {
        "AdditionalDomains", "Description", "ProxyFqdn", "PartnerType", "TlsNegotiation", "SaslNegotiation",
        "SupportDialbackNegotiation", "EnableKeepAlive", "ConnectionLimit",
    };

    /// <summary>New's request: the key and every bound property.</summary>
    public static Dictionary<string, object?> ForNew(IDictionary<string, object> bound) => From(bound, KeyNames.Concat(PropertyNames));

    /// <summary>Set's change set: the bound properties only.</summary>
    public static Dictionary<string, object?> ForSet(IDictionary<string, object> bound) => From(bound, PropertyNames);

    private static Dictionary<string, object?> From(IDictionary<string, object> bound, IEnumerable<string> names)
    {
        var properties = new Dictionary<string, object?>();
        foreach (var name in names)
        {
            if (bound.TryGetValue(name, out var value))
            {
                properties[name] = name == "AdditionalDomains" ? ListShape(value) : Unwrap(value);
            }
        }
        return properties;
    }

    /// <summary>A list value: null (clear), a modifier (Add/Remove/Replace), or a plain list (replace).</summary>
    private static object? ListShape(object? value)
    {
        value = Unwrap(value);
        switch (value)
        {
            case null:
                return null;
            case PSListModifier modifier:
                return new Dictionary<string, object?>
                {
                    ["Add"] = Strings(modifier.Add),
                    ["Remove"] = Strings(modifier.Remove),
                    ["Replace"] = Strings(modifier.Replace),
                };
            case IDictionary table:
                // Keys passed through as typed: the library matches them and rejects unknown ones.
                return table.Keys.Cast<object>().ToDictionary(k => k.ToString() ?? string.Empty, k => (object?)Strings(table[k]));
            default:
                return Strings(value);
        }
    }

    /// <summary>
    /// Domain names as given. Only strings are domain names: any other object (a script block,
    /// a number, a partner) would otherwise reach the library as its ToString() text.
    /// </summary>
    private static List<string> Strings(object? value)
    {
        value = Unwrap(value);
        return value switch
        {
            null => new List<string>(),
            string s => new List<string> { s },
            IEnumerable items => items.Cast<object?>().Select(DomainName).ToList(),
            _ => new List<string> { DomainName(value) },
        };
    }

    private static string DomainName(object? item) => Unwrap(item) switch
    {
        string s => s,
        var other => throw new ArgumentException(
            $"AdditionalDomains takes domain names (strings), a list of them, $null, or a list modifier such as @{{Add='a.example.com'}}; "
            + $"a {other?.GetType().Name ?? "null"} is not a domain name."),
    };

    private static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;
}
