using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace XmppFederation.Native;

/// <summary>
/// Writes a caller's property dictionary as the JSON object the library reads. It only translates
/// .NET values to JSON values: keys, casing, list-modifier keys and every value are passed through
/// as given, and the library decides what they mean and what is wrong with them.
/// </summary>
internal static class JsonInput
{
    // Deeper than anything valid (a list modifier is depth 3) yet far from a stack overflow on a
    // self-referencing collection; the library itself refuses nesting deeper than 128.
    private const int MaxDepth = 32;

    internal static string Serialize(IReadOnlyDictionary<string, object?> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteObject(writer, properties, string.Empty, depth: 0);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>A JSON array of objects, one per dictionary (an import's items, in their order).</summary>
    internal static string SerializeArray(IEnumerable<IReadOnlyDictionary<string, object?>> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            int index = 0;
            foreach (IReadOnlyDictionary<string, object?> item in items)
            {
                index++;
                if (item is null)
                {
                    throw new ArgumentException($"Item {index} is null, not a set of properties.", nameof(items));
                }

                WriteObject(writer, item, $"[{index}]", depth: 0);
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value, string path, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ArgumentException($"The value of '{path}' is nested more than {MaxDepth} levels deep.", nameof(value));
        }

        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case char c:
                writer.WriteStringValue(c.ToString());
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case Enum e:
                writer.WriteStringValue(e.ToString());
                break;
            case byte or sbyte or short or ushort or int or uint or long:
                writer.WriteNumberValue(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case ulong u:
                writer.WriteNumberValue(u);
                break;
            case float or double:
                writer.WriteNumberValue(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case decimal m:
                writer.WriteNumberValue(m);
                break;
            case IReadOnlyDictionary<string, object?> map:
                WriteObject(writer, map, path, depth);
                break;
            case IDictionary<string, object?> map:
                WriteObject(writer, map, path, depth);
                break;
            case IDictionary map:
                // e.g. a PowerShell hashtable: @{ Add = 'a.com' }
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in map)
                {
                    string key = Convert.ToString(entry.Key, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
                    writer.WritePropertyName(key);
                    WriteValue(writer, entry.Value, $"{path}.{key}", depth + 1);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable items:
                writer.WriteStartArray();
                int index = 0;
                foreach (object? item in items)
                {
                    WriteValue(writer, item, $"{path}[{index++}]", depth + 1);
                }

                writer.WriteEndArray();
                break;
            default:
                throw new ArgumentException(
                    $"The value of '{path}' is a {value.GetType().FullName}, which has no JSON form here; "
                    + "give a string, a boolean, a number, an enum value, a list, a dictionary or null.",
                    nameof(value));
        }
    }

    private static void WriteObject(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, object?>> map, string path, int depth)
    {
        writer.WriteStartObject();
        foreach (KeyValuePair<string, object?> entry in map)
        {
            writer.WritePropertyName(entry.Key);
            WriteValue(writer, entry.Value, path.Length == 0 ? entry.Key : $"{path}.{entry.Key}", depth + 1);
        }

        writer.WriteEndObject();
    }
}
