using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// How PowerShell sees a <see cref="PartnerData"/>: its own public properties, and a type name
/// list with Lync's name first (<see cref="StoreCmdlet.LyncTypeName"/>), then the .NET type's.
/// Registered for the type by the module's XmppFederation.Types.ps1xml.
/// </summary>
/// <remarks>
/// Lync's name is a name of the type here, not of each object. Added to an object
/// (<c>PSObject.TypeNames.Insert</c>), it costs PowerShell an entry in a weak table keyed by that
/// object, kept alive until the object dies: measured, that was about a third of what streaming a
/// partner through <c>Get-CsXmppAllowedPartner | Measure-Object</c> cost. An adapter's names are
/// asked only when something reads them (formatting, Get-Member, serialization).
/// Property values are set as PowerShell sets a .NET property: converted to the property's type
/// (<c>$p.ConnectionLimit = '30'</c>, <c>$p.PartnerType = 'Federated'</c>).
/// </remarks>
public sealed class PartnerDataAdapter : PSPropertyAdapter
{
    private static readonly PropertyInfo[] Properties = typeof(PartnerData)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetIndexParameters().Length == 0)
        .ToArray();

    /// <summary>Lync's name, then the names PowerShell gives the .NET type: its own, then each base type's.</summary>
    private static readonly string[] TypeNames = HierarchyNames();

    /// <inheritdoc/>
    public override Collection<string> GetTypeNameHierarchy(object baseObject) => new(TypeNames.ToList());

    /// <inheritdoc/>
    public override Collection<PSAdaptedProperty> GetProperties(object baseObject) =>
        new(Properties.Select(p => new PSAdaptedProperty(p.Name, p)).ToList());

    /// <inheritdoc/>
    public override PSAdaptedProperty? GetProperty(object baseObject, string propertyName)
    {
        foreach (var property in Properties)
        {
            // Case-insensitive, as PowerShell's own member lookup.
            if (string.Equals(property.Name, propertyName, StringComparison.OrdinalIgnoreCase))
            {
                return new PSAdaptedProperty(property.Name, property);
            }
        }
        return null;
    }

    /// <inheritdoc/>
    public override bool IsGettable(PSAdaptedProperty adaptedProperty) => Of(adaptedProperty).CanRead;

    /// <inheritdoc/>
    public override bool IsSettable(PSAdaptedProperty adaptedProperty) => Of(adaptedProperty).CanWrite;

    /// <inheritdoc/>
    public override object? GetPropertyValue(PSAdaptedProperty adaptedProperty) =>
        Of(adaptedProperty).GetValue(adaptedProperty.BaseObject);

    /// <inheritdoc/>
    public override void SetPropertyValue(PSAdaptedProperty adaptedProperty, object value)
    {
        var property = Of(adaptedProperty);
        object? converted;
        try
        {
            converted = LanguagePrimitives.ConvertTo(value, property.PropertyType, CultureInfo.InvariantCulture);
        }
        catch (PSInvalidCastException e)
        {
            // A SetValueException reaches the user as it is, so it says what PowerShell says for
            // a .NET property; any other exception of an adapter would read "The adapter cannot
            // set the value", without the reason.
            throw new SetValueInvocationException($"Exception setting \"{property.Name}\": \"{e.Message}\"", e);
        }
        property.SetValue(adaptedProperty.BaseObject, converted);
    }

    /// <inheritdoc/>
    public override string GetPropertyTypeName(PSAdaptedProperty adaptedProperty) =>
        Of(adaptedProperty).PropertyType.FullName ?? Of(adaptedProperty).PropertyType.Name;

    private static PropertyInfo Of(PSAdaptedProperty adaptedProperty) => (PropertyInfo)adaptedProperty.Tag;

    private static string[] HierarchyNames()
    {
        var names = new List<string> { StoreCmdlet.LyncTypeName };
        for (Type? type = typeof(PartnerData); type is not null; type = type.BaseType)
        {
            names.Add(type.FullName ?? type.Name);
        }
        return names.ToArray();
    }
}
