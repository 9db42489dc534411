using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace XmppFederation.Native.Tests;

/// <summary>The C# mirrors of the header's numbers can never drift from include/xmppfed.h.</summary>
public sealed class HeaderMirrorTests
{
    private static readonly string Header = File.ReadAllText(FindHeader());

    [Fact]
    public void ResultEnumEqualsTheHeaderBothWays()
    {
        Dictionary<string, int> header = Regex
            .Matches(Header, @"^\s*XMPPFED_RESULT_([A-Z0-9_]+)\s*=\s*(-?\d+)\s*,", RegexOptions.Multiline)
            .ToDictionary(m => PascalCase(m.Groups[1].Value), m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        Assert.True(header.Count >= 20, $"only {header.Count} XMPPFED_RESULT_* values parsed from the header");

        Dictionary<string, int> managed = Enum.GetValues<XmppFedResult>().ToDictionary(r => r.ToString(), r => (int)r);

        foreach (var (name, value) in header)
        {
            Assert.True(managed.TryGetValue(name, out int mine), $"XmppFedResult lacks {name} = {value}");
            Assert.True(mine == value, $"XmppFedResult.{name} is {mine}; the header says {value}");
        }

        foreach (var (name, value) in managed)
        {
            Assert.True(header.TryGetValue(name, out int theirs), $"XmppFedResult.{name} = {value} is not in the header");
            Assert.True(theirs == value, $"XmppFedResult.{name} is {value}; the header says {theirs}");
        }
    }

    [Fact]
    public void ResultNamesAreTheLibrarysErrorIds()
    {
        foreach (XmppFedResult r in Enum.GetValues<XmppFedResult>())
        {
            Assert.Equal(r.ToString(), NativeMethods.CopyStaticString(NativeMethods.xmppfed_result_name((int)r)));
        }
    }

    [Fact]
    public void ExpectedAbiVersionEqualsTheHeader()
    {
        Match m = Regex.Match(Header, @"#define\s+XMPPFED_ABI_VERSION\s+(\d+)");
        Assert.True(m.Success, "XMPPFED_ABI_VERSION not found in the header");
        uint header = uint.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(header == PartnerStore.ExpectedAbiVersion, $"the header says ABI {header}; ExpectedAbiVersion is {PartnerStore.ExpectedAbiVersion}");
    }

    [Fact]
    public void RecordsFormatEqualsTheHeader()
    {
        Match m = Regex.Match(Header, @"#define\s+XMPPFED_RECORDS_FORMAT\s+(\d+)");
        Assert.True(m.Success, "XMPPFED_RECORDS_FORMAT not found in the header");
        Assert.Equal(PartnerRecords.Format, uint.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void EveryHeaderFunctionIsImported()
    {
        var declared = Regex.Matches(Header, @"\b(xmppfed_[a-z_]+)\s*\(").Select(m => m.Groups[1].Value).ToHashSet();
        var imported = typeof(NativeMethods)
            .GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)
            .Select(m => m.Name)
            .Where(n => n.StartsWith("xmppfed_", StringComparison.Ordinal))
            .ToHashSet();
        Assert.Equal(declared.OrderBy(n => n), imported.OrderBy(n => n));
    }

    private static string PascalCase(string upperSnake) =>
        string.Concat(upperSnake.Split('_').Select(w => w[0] + w[1..].ToLowerInvariant()));

    private static string FindHeader()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "include", "xmppfed.h");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"include/xmppfed.h not found above {AppContext.BaseDirectory}");
    }
}
