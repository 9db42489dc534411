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
    /// <summary>Parameter names that are partner properties (the library's JSON names).</summary>
    private static readonly string[] PropertyNames =
    {
        "Identity", "Domain", "AdditionalDomains", "Description", "ProxyFqdn", "PartnerType",
        "TlsNegotiation", "SaslNegotiation", "SupportDialbackNegotiation", "EnableKeepAlive", "ConnectionLimit",
    };

    public static Dictionary<string, object?> FromBound(IDictionary<string, object> bound)
    {
        var properties = new Dictionary<string, object?>();
        foreach (var name in PropertyNames)
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

    private static List<string> Strings(object? value)
    {
        value = Unwrap(value);
        return value switch
        {
            null => new List<string>(),
            string s => new List<string> { s },
            IEnumerable items => items.Cast<object?>().Select(i => Unwrap(i)?.ToString() ?? string.Empty).ToList(),
            _ => new List<string> { value.ToString() ?? string.Empty },
        };
    }

    private static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;
}
