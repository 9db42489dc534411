using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;
using static XmppFederation.Native.Tests.TempStore;

namespace XmppFederation.Native.Tests;

public sealed class PartnerStoreTests : IDisposable
{
    private readonly TempStore temp = new();

    private PartnerStore Store => temp.Store;

    public void Dispose() => temp.Dispose();

    [Fact]
    public void NewAppliesTheLibraryDefaults()
    {
        PartnerOutcome outcome = Store.New(Props(("Identity", "Contoso.COM.")));

        PartnerData p = outcome.Partner;
        Assert.Equal("contoso.com", p.Identity);
        Assert.Equal("contoso.com", p.Domain);
        Assert.Empty(p.AdditionalDomains);
        Assert.Equal(string.Empty, p.Description);
        Assert.Equal(string.Empty, p.ProxyFqdn);
        Assert.Equal(PartnerType.PublicUnverified, p.PartnerType);
        Assert.Equal(TlsNegotiation.Required, p.TlsNegotiation);
        Assert.Equal(SaslNegotiation.Required, p.SaslNegotiation);
        Assert.True(p.SupportDialbackNegotiation);
        Assert.True(p.EnableKeepAlive);
        Assert.Equal(20u, p.ConnectionLimit);
        Assert.True(p.Revision > 0);

        // TLS Required + SASL Required + dialback on: dialback will never be used. The defaults
        // are that combination, but a request that chose none of the three gets no warning.
        Assert.Empty(outcome.Warnings);
    }

    [Fact]
    public void NewWarnsWhenTheRequestChoosesTheDialbackNotUsedCombination()
    {
        PartnerOutcome outcome = Store.New(Props(("Identity", "contoso.com"), ("SupportDialbackNegotiation", true)));
        NegotiationWarning warning = Assert.Single(outcome.Warnings);
        Assert.Equal("DialbackNotUsed", warning.Id);
        Assert.Contains("contoso.com", warning.Message);
    }

    [Fact]
    public void NewAcceptsTypedValuesAndReturnsTypedEnums()
    {
        PartnerOutcome outcome = Store.New(Props(
            ("Domain", "fabrikam.com"),
            ("AdditionalDomains", new[] { "EU.Fabrikam.com", "na.fabrikam.com" }),
            ("Description", "Contact: Ken Myer, ✆ 555-1219"),
            ("ProxyFqdn", "Proxy.Fabrikam.com"),
            ("PartnerType", PartnerType.Federated),
            ("TlsNegotiation", "optional"),
            ("SaslNegotiation", SaslNegotiation.Optional),
            ("SupportDialbackNegotiation", true),
            ("EnableKeepAlive", false),
            ("ConnectionLimit", 5u)));

        PartnerData p = outcome.Partner;
        Assert.Equal("fabrikam.com", p.Identity);
        Assert.Equal(new[] { "eu.fabrikam.com", "na.fabrikam.com" }, p.AdditionalDomains);
        Assert.Equal("Contact: Ken Myer, ✆ 555-1219", p.Description);
        Assert.Equal("proxy.fabrikam.com", p.ProxyFqdn);
        Assert.Equal(PartnerType.Federated, p.PartnerType);
        Assert.Equal(TlsNegotiation.Optional, p.TlsNegotiation);
        Assert.Equal(SaslNegotiation.Optional, p.SaslNegotiation);
        Assert.False(p.EnableKeepAlive);
        Assert.Equal(5u, p.ConnectionLimit);
        Assert.Equal("SaslWithoutRequiredTls", Assert.Single(outcome.Warnings).Id);

        PartnerData read = Store.Get("FABRIKAM.com");
        Assert.Equal(p.Revision, read.Revision);
        Assert.Equal(p.AdditionalDomains, read.AdditionalDomains);
        Assert.Equal(PartnerType.Federated, read.PartnerType);
    }

    [Fact]
    public void PathsAreTheFoldersGiven()
    {
        Assert.Equal(Path.GetFullPath(temp.CentralDir), Path.GetFullPath(Store.Paths.Central));
        Assert.Equal(Path.GetFullPath(temp.ReplicaDir), Path.GetFullPath(Store.Paths.Replica));
    }

    [Fact]
    public void CreatingAnExistingIdentityThrowsPartnerExists()
    {
        Store.New(Props(("Identity", "contoso.com")));

        var e = Assert.Throws<PartnerExistsException>(() => Store.New(Props(("Identity", "Contoso.com"))));
        Assert.Equal(XmppFedResult.AlreadyExists, e.Result);
        Assert.Equal("AlreadyExists", e.ErrorId);
        Assert.Equal("Contoso.com", e.Target);
        Assert.Contains("contoso.com", e.Message);
    }

    [Fact]
    public void GettingAMissingIdentityThrowsPartnerNotFound()
    {
        var e = Assert.Throws<PartnerNotFoundException>(() => Store.Get("nobody.example.com"));
        Assert.Equal(XmppFedResult.NotFound, e.Result);
        Assert.Equal("NotFound", e.ErrorId);
        Assert.Equal("nobody.example.com", e.Target);
        Assert.Contains("nobody.example.com", e.Message);
    }

    [Fact]
    public void AClaimedDomainThrowsPartnerConflict()
    {
        Store.New(Props(("Identity", "contoso.com"), ("AdditionalDomains", new[] { "contoso.net" })));

        var e = Assert.Throws<PartnerConflictException>(() => Store.New(Props(("Identity", "contoso.net"))));
        Assert.Equal(XmppFedResult.DomainConflict, e.Result);
        Assert.Equal("DomainConflict", e.ErrorId);
        Assert.Equal("contoso.net", e.Target);
        Assert.Contains("contoso.com", e.Message);
        Assert.Throws<PartnerNotFoundException>(() => Store.Get("contoso.net"));
    }

    [Fact]
    public void AnInvalidDomainThrowsInvalidPartner()
    {
        var e = Assert.Throws<InvalidPartnerException>(() => Store.New(Props(("Identity", "not a domain"))));
        Assert.Equal(XmppFedResult.InvalidDomain, e.Result);
        Assert.Equal("InvalidDomain", e.ErrorId);
        Assert.Equal("not a domain", e.Target);
    }

    [Fact]
    public void ARejectedNegotiationThrowsInvalidPartner()
    {
        var e = Assert.Throws<InvalidPartnerException>(() => Store.New(Props(
            ("Identity", "contoso.com"),
            ("TlsNegotiation", TlsNegotiation.NotSupported),
            ("SupportDialbackNegotiation", false))));
        Assert.Equal(XmppFedResult.InvalidNegotiation, e.Result);
        Assert.Equal("InvalidNegotiation", e.ErrorId);
        Assert.Equal("contoso.com", e.Target);
        Assert.Contains("TLS", e.Message);
        Assert.Empty(Store.List());
    }

    [Fact]
    public void AnInvalidValueThrowsInvalidPartner()
    {
        var e = Assert.Throws<InvalidPartnerException>(() => Store.New(Props(("Identity", "contoso.com"), ("ConnectionLimit", 0u))));
        Assert.Equal(XmppFedResult.InvalidValue, e.Result);
        Assert.Equal("InvalidValue", e.ErrorId);
        Assert.Contains("ConnectionLimit", e.Message);
    }

    [Fact]
    public void AnUnknownPropertyOrWrongTypeThrowsJsonShape()
    {
        var unknown = Assert.Throws<InvalidPartnerException>(() => Store.New(Props(("Identity", "contoso.com"), ("Colour", "blue"))));
        Assert.Equal(XmppFedResult.JsonShape, unknown.Result);
        Assert.Equal("JsonShape", unknown.ErrorId);

        var wrongType = Assert.Throws<InvalidPartnerException>(() => Store.New(Props(("Identity", "contoso.com"), ("EnableKeepAlive", "yes"))));
        Assert.Equal(XmppFedResult.JsonShape, wrongType.Result);
    }

    [Fact]
    public void AnInvalidFilterThrowsInvalidPartner()
    {
        var e = Assert.Throws<InvalidPartnerException>(() => Store.List("[abc"));
        Assert.Equal(XmppFedResult.InvalidFilter, e.Result);
        Assert.Equal("InvalidFilter", e.ErrorId);
        Assert.Equal("[abc", e.Target);
    }

    [Fact]
    public void ListIsSortedAndFilteredWithWildcards()
    {
        foreach (string id in new[] { "zeta.example.org", "contoso.com", "alpha.example.org", "fabrikam.com" })
        {
            Store.New(Props(("Identity", id)));
        }

        Assert.Equal(
            new[] { "alpha.example.org", "contoso.com", "fabrikam.com", "zeta.example.org" },
            Store.List().Select(p => p.Identity));
        Assert.Equal(new[] { "alpha.example.org", "zeta.example.org" }, Store.List("*.EXAMPLE.org").Select(p => p.Identity));
        Assert.Equal(new[] { "contoso.com", "fabrikam.com" }, Store.List("[cf]*").Select(p => p.Identity));
        Assert.Empty(Store.List("nomatch*"));
    }

    [Fact]
    public void ListStreamedGivesWhatListGivesOnePartnerAtATime()
    {
        foreach (string id in new[] { "zeta.example.org", "contoso.com", "alpha.example.org" })
        {
            Store.New(Props(("Identity", id), ("AdditionalDomains", new[] { "chat." + id }), ("Description", "é ✆ \"quoted\"")));
        }

        using PartnerSequence streamed = Store.ListStreamed();
        IReadOnlyList<PartnerData> listed = Store.List();
        Assert.Equal(3, streamed.Count);
        Assert.Equal(
            listed.Select(p => (p.Identity, p.Description, string.Join(";", p.AdditionalDomains), p.Revision)),
            streamed.Select(p => (p.Identity, p.Description, string.Join(";", p.AdditionalDomains), p.Revision)));
        Assert.Equal("é ✆ \"quoted\"", listed[0].Description);

        // Read once, like a data reader: the library released each page's partners as it went.
        Assert.Throws<InvalidOperationException>(() => streamed.First());
        Assert.Equal(new[] { "alpha.example.org", "zeta.example.org" }, Store.ListStreamed("*.example.org").Select(p => p.Identity));
        using PartnerSequence none = Store.ListStreamed("nomatch*");
        Assert.Equal(0, none.Count);
        Assert.Empty(none);
    }

    [Fact]
    public void ListStreamedFailsAtTheCallNotDuringEnumeration()
    {
        var e = Assert.Throws<InvalidPartnerException>(() => Store.ListStreamed("[abc"));
        Assert.Equal(XmppFedResult.InvalidFilter, e.Result);
        Assert.Equal("[abc", e.Target);
        var nul = Assert.Throws<InvalidPartnerException>(() => Store.ListStreamed("a\0b"));
        Assert.Equal(XmppFedResult.InvalidValue, nul.Result);
    }

    [Fact]
    public void RecordsCarryEveryPropertyAsTheJsonOfTheWritersDoes()
    {
        // Every enum value, both flags both ways, empty and non-ASCII texts, a proxy, several
        // additional domains: List and Get (records) must agree on all with the partners New and
        // Set returned (JSON).
        var written = new Dictionary<string, PartnerData>
        {
            ["a.example.org"] = Store.New(Props(("Identity", "a.example.org"), ("PartnerType", "Federated"), ("TlsNegotiation", "Optional"),
                ("SaslNegotiation", "NotSupported"), ("EnableKeepAlive", false), ("ConnectionLimit", 1),
                ("Description", "é ✆ \"quoted\""), ("ProxyFqdn", "proxy.a.example.org"),
                ("AdditionalDomains", new[] { "chat.a.example.org", "bücher.example", "x.a.example.org" }))).Partner,
            ["bücher-b.example"] = Store.New(Props(("Identity", "bücher-b.example"), ("PartnerType", "PublicVerified"), ("TlsNegotiation", "NotSupported"),
                ("SaslNegotiation", "Optional"), ("ConnectionLimit", 4000000000u))).Partner,
        };
        Store.New(Props(("Identity", "c.example.org"), ("SupportDialbackNegotiation", false)));
        written["c.example.org"] = Store.Set("c.example.org", Props(("Description", "changed"))).Partner;

        IReadOnlyList<PartnerData> listed = Store.List();
        Assert.Equal(new[] { "a.example.org", "bücher-b.example", "c.example.org" }, listed.Select(p => p.Identity));
        foreach (PartnerData fromList in listed)
        {
            AssertSameProperties(written[fromList.Identity], fromList);
            AssertSameProperties(written[fromList.Identity], Store.Get(fromList.Identity));
        }
        Assert.Equal(new[] { PartnerType.Federated, PartnerType.PublicVerified, PartnerType.PublicUnverified }, listed.Select(p => p.PartnerType));
        Assert.Equal(new[] { TlsNegotiation.Optional, TlsNegotiation.NotSupported, TlsNegotiation.Required }, listed.Select(p => p.TlsNegotiation));
        Assert.Equal(new[] { SaslNegotiation.NotSupported, SaslNegotiation.Optional, SaslNegotiation.Required }, listed.Select(p => p.SaslNegotiation));
        Assert.Equal(new[] { false, true, true }, listed.Select(p => p.EnableKeepAlive));
        Assert.Equal(new[] { true, true, false }, listed.Select(p => p.SupportDialbackNegotiation));
        Assert.Same(listed[0].Identity, listed[0].Domain);
    }

    private static void AssertSameProperties(PartnerData expected, PartnerData actual)
    {
        foreach (var property in typeof(PartnerData).GetProperties())
        {
            object? want = property.GetValue(expected), got = property.GetValue(actual);
            if (want is DomainList domains)
            {
                Assert.Equal(domains, (DomainList)got!);
            }
            else
            {
                Assert.True(Equals(want, got), $"{expected.Identity}.{property.Name}: {got}, expected {want}");
            }
        }
    }

    [Fact]
    public void ListStreamedTakesThePagesInOrderAndListsTheStoreAsItWasAtTheCall()
    {
        // 1,500 partners with long descriptions: about 20 pages of 64 KiB.
        const int count = 1500;
        string Description(int i) => $"partner {i} " + new string('d', 800);
        Store.Import(Enumerable.Range(0, count).Select(i => Props(
            ("Identity", $"p{i:D4}.example.org"), ("Description", Description(i)), ("AdditionalDomains", new[] { $"chat.p{i:D4}.example.org" }))));

        using PartnerSequence streamed = Store.ListStreamed();
        // Changes after the call are not in it: the pages are a snapshot.
        Store.Remove("p0000.example.org");
        Store.Set("p1499.example.org", Props(("Description", "changed")));
        Store.New(Props(("Identity", "p9999.example.org")));

        Assert.Equal(count, streamed.Count);
        int i = 0;
        foreach (PartnerData p in streamed)
        {
            Assert.Equal($"p{i:D4}.example.org", p.Identity);
            Assert.Equal(Description(i), p.Description);
            Assert.Equal(new[] { $"chat.p{i:D4}.example.org" }, p.AdditionalDomains);
            i++;
        }
        Assert.Equal(count, i);
        Assert.Equal(count, Store.List().Count);
        Assert.Equal("changed", Store.List("p1499*").Single().Description);
    }

    /// <summary>
    /// Records this assembly cannot read are a library/assembly mismatch, never partners read
    /// wrong: the library's real records for one partner (a get's buffer, the caller's until
    /// freed), with one field broken in place. Offsets: 0 format, 4 count, 8 the record (20
    /// PartnerType, 23 flags, 24 Identity's length, 28 its first byte).
    /// </summary>
    [Theory]
    [InlineData("format", 0, 2)]
    [InlineData("count above the records", 4, 2)]
    [InlineData("count below the records", 4, 0)]
    [InlineData("count beyond the buffer", 7, 1)]
    [InlineData("PartnerType code", 20, 3)]
    [InlineData("flags", 23, 4)]
    [InlineData("Identity length", 27, 0x7f)]
    [InlineData("Identity not UTF-8", 28, 0xff)]
    public unsafe void RecordsThisAssemblyCannotReadAreAnAbiMismatch(string what, int offset, byte value)
    {
        Store.New(Props(("Identity", "a.example.org"), ("AdditionalDomains", new[] { "b.example.org" })));
        Assert.Equal(XmppFedResult.Ok, NativeMethods.xmppfed_partner_get_records(RawHandle(), "a.example.org", false, out IntPtr records, out nuint length));
        using var bytes = new NativeBytes(records, length);
        Assert.Equal("a.example.org", PartnerRecords.ReadOne(bytes.Span).Identity);
        ((byte*)records)[offset] = value;

        var e = Assert.Throws<NativeLibraryException>(() => PartnerRecords.ReadOne(bytes.Span));
        Assert.Equal(ErrorIds.NativeLibraryAbiMismatch, e.ErrorId);
        Assert.Contains("partner records", e.Message);
        Assert.True(e.Message.Length > 60, $"{what}: {e.Message}");
    }

    [Fact]
    public unsafe void OneReadGivingOtherThanOneRecordIsAnAbiMismatch()
    {
        Store.New(Props(("Identity", "a.example.org")));
        Store.New(Props(("Identity", "b.example.org")));
        Assert.Equal(XmppFedResult.Ok, NativeMethods.xmppfed_partner_list_pages(RawHandle(), null, false, out PartnerPagesSafeHandle pages, out nuint count));
        using (pages)
        {
            Assert.Equal(2u, (uint)count);
            Assert.Equal(XmppFedResult.Ok, NativeMethods.xmppfed_partner_pages_next(pages, out IntPtr page, out nuint length));
            var e = Assert.Throws<NativeLibraryException>(() => PartnerRecords.ReadOne(new ReadOnlySpan<byte>((void*)page, (int)length)));
            Assert.Equal(ErrorIds.NativeLibraryAbiMismatch, e.ErrorId);
            Assert.Contains("2 records where one partner was read", e.Message);
        }
    }

    /// <summary>Pages that hold other than the count the list gave are a mismatch, found when the pages say so, and the sequence ends there.</summary>
    [Theory]
    [InlineData(3, "the pages held 2 partners of the 3 listed")]
    [InlineData(1, "a page of 2 partners after 0 of the 1 listed")]
    public void PagesHoldingOtherThanTheListedCountAreAnAbiMismatch(int listed, string message)
    {
        Store.New(Props(("Identity", "a.example.org")));
        Store.New(Props(("Identity", "b.example.org")));
        Assert.Equal(XmppFedResult.Ok, NativeMethods.xmppfed_partner_list_pages(RawHandle(), null, false, out PartnerPagesSafeHandle pages, out nuint count));
        Assert.Equal(2u, (uint)count);
        using var sequence = new PartnerSequence(pages, (nuint)listed);
        using IEnumerator<PartnerData> partners = sequence.GetEnumerator();
        var e = Assert.Throws<NativeLibraryException>(() => { while (partners.MoveNext()) { } });
        Assert.Equal(ErrorIds.NativeLibraryAbiMismatch, e.ErrorId);
        Assert.Contains(message, e.Message);
        Assert.False(partners.MoveNext());
    }

    /// <summary>The library handle of <see cref="Store"/>, for raw calls.</summary>
    private StoreSafeHandle RawHandle() => (StoreSafeHandle)typeof(PartnerStore)
        .GetField("handle", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
        .GetValue(Store)!;

    [Fact]
    public void ListStreamedStopsWhenDisposedInTheMiddle()
    {
        Store.New(Props(("Identity", "a.example.org")));
        Store.New(Props(("Identity", "b.example.org")));
        PartnerSequence streamed = Store.ListStreamed();
        using IEnumerator<PartnerData> partners = streamed.GetEnumerator();
        Assert.True(partners.MoveNext());
        Assert.Equal("a.example.org", partners.Current.Identity);

        streamed.Dispose();
        streamed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => partners.MoveNext());
        Assert.Throws<ObjectDisposedException>(() => streamed.First());
        Assert.Throws<ObjectDisposedException>(() => streamed.Count);
    }

    [Fact]
    public void CompleteGivesTheIdentitiesWithAPrefixSortedAndCapped()
    {
        foreach (string id in new[] { "contoso.net", "contoso.com", "cantoso.com", "fabrikam.com" })
        {
            Store.New(Props(("Identity", id)));
        }

        Assert.Equal(new[] { "contoso.com", "contoso.net" }, Store.Complete("CON", 10));
        Assert.Equal(new[] { "cantoso.com" }, Store.Complete("c", 1));
        Assert.Equal(new[] { "contoso.com", "contoso.net" }, Store.Complete("con", 10, localStore: true));
        Assert.Empty(Store.Complete("c*", 10));
        Assert.Empty(Store.Complete("con", 0));
        var e = Assert.Throws<InvalidPartnerException>(() => Store.Complete(new string('a', 2000), 10));
        Assert.Equal("InvalidValue", e.ErrorId);
        Assert.Throws<ArgumentOutOfRangeException>(() => Store.Complete("c", -1));
    }

    [Fact]
    public void SetChangesOnlyTheGivenProperties()
    {
        PartnerData before = Store.New(Props(("Identity", "contoso.com"), ("Description", "old"))).Partner;

        PartnerOutcome outcome = Store.Set("Contoso.com", Props(("SaslNegotiation", SaslNegotiation.NotSupported), ("ConnectionLimit", 7)));

        Assert.Equal(SaslNegotiation.NotSupported, outcome.Partner.SaslNegotiation);
        Assert.Equal(7u, outcome.Partner.ConnectionLimit);
        Assert.Equal("old", outcome.Partner.Description);
        Assert.True(outcome.Partner.Revision > before.Revision);
        Assert.Empty(outcome.Warnings);
        Assert.Equal(SaslNegotiation.NotSupported, Store.Get("contoso.com").SaslNegotiation);
    }

    [Fact]
    public void SetOfAMissingIdentityThrowsPartnerNotFound()
    {
        var e = Assert.Throws<PartnerNotFoundException>(() => Store.Set("nobody.example.com", Props(("Description", "x"))));
        Assert.Equal("NotFound", e.ErrorId);
        Assert.Equal("nobody.example.com", e.Target);
    }

    [Fact]
    public void SetAppliesListModifiers()
    {
        Store.New(Props(("Identity", "contoso2.com"), ("AdditionalDomains", new[] { "europe.contoso2.com", "asia.contoso2.com" })));

        // PowerShell's @{Add=...}: a Hashtable, any key casing.
        PartnerData p = Store.Set("contoso2.com", Props(("AdditionalDomains", new Hashtable { ["add"] = "na.contoso2.com" }))).Partner;
        Assert.Equal(new[] { "europe.contoso2.com", "asia.contoso2.com", "na.contoso2.com" }, p.AdditionalDomains);

        p = Store.Set("contoso2.com", Props(("AdditionalDomains", new Dictionary<string, object?> { ["Remove"] = new List<string> { "europe.contoso2.com", "not.there.com" } }))).Partner;
        Assert.Equal(new[] { "asia.contoso2.com", "na.contoso2.com" }, p.AdditionalDomains);

        p = Store.Set("contoso2.com", Props(("AdditionalDomains", new Dictionary<string, object?> { ["Add"] = "eu.contoso2.com", ["Remove"] = "asia.contoso2.com" }))).Partner;
        Assert.Equal(new[] { "na.contoso2.com", "eu.contoso2.com" }, p.AdditionalDomains);

        p = Store.Set("contoso2.com", Props(("AdditionalDomains", new Dictionary<string, object?> { ["REPLACE"] = new[] { "only.contoso2.com" }, ["Add"] = "ignored.contoso2.com" }))).Partner;
        Assert.Equal(new[] { "only.contoso2.com" }, p.AdditionalDomains);

        p = Store.Set("contoso2.com", Props(("AdditionalDomains", new[] { "a.contoso2.com", "b.contoso2.com" }))).Partner;
        Assert.Equal(new[] { "a.contoso2.com", "b.contoso2.com" }, p.AdditionalDomains);

        p = Store.Set("contoso2.com", Props(("AdditionalDomains", null))).Partner;
        Assert.Empty(p.AdditionalDomains);
        Assert.Empty(Store.Get("contoso2.com").AdditionalDomains);
    }

    [Fact]
    public void AnUnknownListModifierKeyIsAnInvalidValueOfAdditionalDomains()
    {
        Store.New(Props(("Identity", "contoso.com")));

        var e = Assert.Throws<InvalidPartnerException>(() =>
            Store.Set("contoso.com", Props(("AdditionalDomains", new Dictionary<string, object?> { ["Append"] = "x.contoso.com" }))));
        Assert.Equal(XmppFedResult.InvalidValue, e.Result);
        Assert.Equal("InvalidValue", e.ErrorId);
        Assert.Equal("contoso.com", e.Target);
        Assert.StartsWith("AdditionalDomains: 'Append' is not a list modifier key", e.Message);
        Assert.DoesNotContain("line", e.Message);
    }

    [Fact]
    public void PreviewsDecideLikeTheWritersAndWriteNothing()
    {
        Store.New(Props(("Identity", "contoso.com")));
        string log = Path.Combine(temp.CentralDir, "partners.1.log");
        byte[] before = File.ReadAllBytes(log);

        Assert.Equal("fabrikam.com", Store.PreviewNew(Props(("Identity", "Fabrikam.com"))).Partner.Identity);
        Assert.Equal("AlreadyExists", Assert.Throws<PartnerExistsException>(() => Store.PreviewNew(Props(("Identity", "contoso.com")))).ErrorId);
        Assert.Equal("InvalidDomain", Assert.Throws<InvalidPartnerException>(() => Store.PreviewNew(Props(("Identity", "bad..com")))).ErrorId);
        Assert.Equal("x", Store.PreviewSet("contoso.com", Props(("Description", "x"))).Partner.Description);
        Assert.Throws<PartnerNotFoundException>(() => Store.PreviewSet("nothere.com", Props(("Description", "x"))));
        PartnerData read = Store.Get("contoso.com");
        Assert.False(Store.PreviewSetInstance(read, false, Props(("EnableKeepAlive", false))).Partner.EnableKeepAlive);
        Assert.Equal("contoso.com", Store.PreviewRemove("contoso.com").Partner.Identity);
        Assert.Throws<PartnerNotFoundException>(() => Store.PreviewRemove("nothere.com"));

        Assert.Equal(before, File.ReadAllBytes(log));
        Assert.True(Store.Get("contoso.com").EnableKeepAlive);
    }

    [Fact]
    public void SetInstanceAppliesChangesToTheInstance()
    {
        Store.New(Props(("Identity", "contoso.com")));
        PartnerData read = Store.Get("contoso.com");
        read.Description = "edited";
        PartnerData written = Store.SetInstance(read, false, Props(("ConnectionLimit", 5u))).Partner;
        Assert.Equal(("edited", 5u), (written.Description, written.ConnectionLimit));
        Assert.Equal("contoso.com", written.ToString());
    }

    [Fact]
    public void AnEnvironmentSnapshotChoosesTheFoldersInsteadOfTheProcessEnvironment()
    {
        var environment = new Dictionary<string, string>
        {
            ["XMPPFED_STORE"] = temp.CentralDir,
            ["XMPPFED_REPLICA"] = Path.Combine(temp.Root, "snapshot-replica"),
        };
        using PartnerStore s = PartnerStore.Open(null, null, environment);
        Assert.Equal(temp.CentralDir, s.Paths.Central);
        s.New(Props(("Identity", "contoso.com")));
        Assert.Equal("contoso.com", Store.Get("contoso.com").Identity);

        environment["XMPPFED_STORE"] = Path.Combine(temp.Root, "not-there");
        using PartnerStore missing = PartnerStore.Open(null, null, environment);
        var e = Assert.Throws<StoreException>(() => missing.New(Props(("Identity", "x.com"))));
        Assert.Equal("StoreIo", e.ErrorId);
        Assert.Contains("not-there", e.Message);
        Assert.DoesNotContain("partners.lock", e.Message);
    }

    [Fact]
    public void SetInstanceRoundTripsAndRefusesStaleInstancesUnlessForced()
    {
        Store.New(Props(("Identity", "contoso.com")));
        PartnerData first = Store.Get("contoso.com");

        first.Description = "edited through the instance";
        first.PartnerType = PartnerType.PublicVerified;
        first.AdditionalDomains.Add("Contoso.NET");
        PartnerOutcome written = Store.SetInstance(first, force: false);
        Assert.Equal("edited through the instance", written.Partner.Description);
        Assert.Equal(new[] { "contoso.net" }, written.Partner.AdditionalDomains);
        Assert.True(written.Partner.Revision > first.Revision);
        PartnerData reread = Store.Get("contoso.com");
        Assert.Equal(PartnerType.PublicVerified, reread.PartnerType);
        Assert.Equal(written.Partner.Revision, reread.Revision);

        // `first` still carries the revision it was read at: the store has changed it since.
        first.Description = "lost update?";
        var e = Assert.Throws<PartnerConflictException>(() => Store.SetInstance(first, force: false));
        Assert.Equal(XmppFedResult.StaleInstance, e.Result);
        Assert.Equal("StaleInstance", e.ErrorId);
        Assert.Equal("contoso.com", e.Target);
        Assert.Equal("edited through the instance", Store.Get("contoso.com").Description);

        PartnerOutcome forced = Store.SetInstance(first, force: true);
        Assert.Equal("lost update?", forced.Partner.Description);
        Assert.Equal("lost update?", Store.Get("contoso.com").Description);
    }

    [Fact]
    public void NewInMemoryStoresNothingAndSetInstanceCreatesIt()
    {
        PartnerOutcome built = PartnerStore.NewInMemory(Props(("Identity", "Gmail.com"), ("TlsNegotiation", TlsNegotiation.Optional)));
        Assert.Equal("gmail.com", built.Partner.Identity);
        Assert.Equal(0ul, built.Partner.Revision);
        Assert.Equal(PartnerType.PublicUnverified, built.Partner.PartnerType);
        Assert.Equal("SaslWithoutRequiredTls", Assert.Single(built.Warnings).Id);
        Assert.Throws<PartnerNotFoundException>(() => Store.Get("gmail.com"));

        built.Partner.Description = "edited in memory";
        PartnerOutcome created = Store.SetInstance(built.Partner, force: false);
        Assert.True(created.Partner.Revision > 0);
        Assert.Equal("edited in memory", Store.Get("gmail.com").Description);

        // The same never-stored object again: the identity exists now.
        var e = Assert.Throws<PartnerExistsException>(() => Store.SetInstance(built.Partner, force: false));
        Assert.Equal("AlreadyExists", e.ErrorId);
    }

    [Fact]
    public void NewInMemoryValidatesLikeNew()
    {
        var e = Assert.Throws<InvalidPartnerException>(() => PartnerStore.NewInMemory(Props(("Identity", "*.contoso.com"))));
        Assert.Equal(XmppFedResult.InvalidDomain, e.Result);
        Assert.Equal("*.contoso.com", e.Target);
    }

    [Fact]
    public void SetInstanceLeavesJudgingAnIncompleteInstanceToTheLibrary()
    {
        PartnerData p = PartnerStore.NewInMemory(Props(("Identity", "contoso.com"))).Partner;
        p.AdditionalDomains = null!;

        var e = Assert.Throws<InvalidPartnerException>(() => Store.SetInstance(p, force: false));
        Assert.Equal(XmppFedResult.JsonShape, e.Result);
        Assert.Equal("contoso.com", e.Target);

        var blank = Assert.Throws<InvalidPartnerException>(() => Store.SetInstance(new PartnerData(), force: false));
        Assert.Equal(XmppFedResult.InvalidDomain, blank.Result);
        Assert.Empty(Store.List());
    }

    [Fact]
    public void RemoveReturnsThePartnerAsItWas()
    {
        Store.New(Props(("Identity", "contoso.com"), ("Description", "bye")));

        PartnerOutcome removed = Store.Remove("CONTOSO.com");
        Assert.Equal("contoso.com", removed.Partner.Identity);
        Assert.Equal("bye", removed.Partner.Description);
        Assert.Empty(removed.Warnings);
        Assert.Throws<PartnerNotFoundException>(() => Store.Get("contoso.com"));

        var e = Assert.Throws<PartnerNotFoundException>(() => Store.Remove("contoso.com"));
        Assert.Equal("contoso.com", e.Target);
    }

    [Fact]
    public void LocalReadsComeFromTheReplica()
    {
        Store.New(Props(("Identity", "contoso.com")));
        Assert.Equal("contoso.com", Store.Get("contoso.com", localStore: true).Identity);

        // A second machine: same central store, its own replica, refreshed only when it replicates
        // or commits.
        string otherReplica = Path.Combine(temp.Root, "other-replica");
        Directory.CreateDirectory(otherReplica);
        using PartnerStore other = PartnerStore.Open(temp.CentralDir, otherReplica);
        Assert.Single(other.List());
        // No copy yet: said so (naming the refresh cmdlet), never shown as an empty list.
        var none = Assert.Throws<StoreException>(() => other.List(localStore: true));
        Assert.Equal(XmppFedResult.StoreIo, none.Result);
        Assert.Contains("Invoke-CsXmppAllowedPartnerReplication", none.Message);
        Assert.Throws<StoreException>(() => other.Get("contoso.com", localStore: true));

        other.Replicate();
        Assert.Equal("contoso.com", other.Get("contoso.com", localStore: true).Identity);
        Assert.Single(other.List("contoso.*", localStore: true));

        // The replica is still readable when the central store is gone. On Windows an open file
        // cannot leave its folder (Wine keeps it "delete pending", and readable, until the last
        // handle closes), so there both handles let go of the store first and a new one reads.
        Store.New(Props(("Identity", "fabrikam.com")));
        other.Replicate();
        PartnerStore reader = other;
        if (OperatingSystem.IsWindows())
        {
            other.Dispose();
            Store.Dispose();
        }
        Directory.Delete(temp.CentralDir, recursive: true);
        if (OperatingSystem.IsWindows())
        {
            reader = PartnerStore.Open(temp.CentralDir, otherReplica);
        }
        using (reader)
        {
            Assert.Equal(2, reader.List(localStore: true).Count);
            var e = Assert.Throws<StoreException>(() => reader.List());
            Assert.True(e.Result is XmppFedResult.StoreIo or XmppFedResult.StoreCorrupt, e.Result.ToString());
        }
    }

    [Fact]
    public void ADamagedStoreOpensAndThrowsStoreExceptionWhenUsed()
    {
        string central = Path.Combine(temp.Root, "damaged");
        Directory.CreateDirectory(central);
        File.WriteAllText(Path.Combine(central, "partners.1.log"), "this is not a partner log\n");

        // Opening works, so that the local replica can still answer; the central store reports the damage.
        using PartnerStore damaged = PartnerStore.Open(central, Path.Combine(temp.Root, "r2"));
        var e = Assert.Throws<StoreException>(() => damaged.List());
        Assert.Equal(XmppFedResult.StoreCorrupt, e.Result);
        Assert.Equal(e.Result.ToString(), e.ErrorId);
        Assert.Contains("partners.1.log", e.Message);
    }

    [Fact]
    public void ANulCharacterCannotCrossTheCAbi()
    {
        Store.New(Props(("Identity", "contoso.com")));

        // Without the check the library would see "contoso.com" and remove it.
        var e = Assert.Throws<InvalidPartnerException>(() => Store.Remove("contoso.com\0.evil.com"));
        Assert.Equal(XmppFedResult.InvalidValue, e.Result);
        Assert.Single(Store.List());

        // Inside JSON a NUL is escaped, so the library sees it and judges it.
        var inJson = Assert.Throws<InvalidPartnerException>(() => Store.Set("contoso.com", Props(("Description", "a\0b"))));
        Assert.Equal(XmppFedResult.InvalidValue, inJson.Result);
    }

    [Fact]
    public void AValueWithNoJsonFormIsAnArgumentError()
    {
        Assert.Throws<ArgumentException>(() => Store.New(Props(("Identity", "contoso.com"), ("Description", new object()))));
    }

    [Fact]
    public void ADisposedStoreRefusesCalls()
    {
        var store = PartnerStore.Open(temp.CentralDir, temp.ReplicaDir);
        store.Dispose();
        store.Dispose();
        Assert.Throws<ObjectDisposedException>(() => store.List());
    }

    [Fact]
    public void SeveralThreadsCanShareOneStore()
    {
        const int threads = 8;
        const int perThread = 10;
        var errors = new List<Exception>();
        var workers = Enumerable.Range(0, threads).Select(t => new System.Threading.Thread(() =>
        {
            try
            {
                for (int i = 0; i < perThread; i++)
                {
                    string id = $"p{i}.t{t}.example.org";
                    Assert.Equal(id, Store.New(Props(("Identity", id))).Partner.Identity);
                    Assert.Equal(id, Store.Get(id).Identity);
                    // An error on this thread must report this thread's failure, not another's.
                    var e = Assert.Throws<PartnerExistsException>(() => Store.New(Props(("Identity", id))));
                    Assert.Contains(id, e.Message);
                }
            }
            catch (Exception e)
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            }
        })).ToList();

        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.Empty(errors);
        IReadOnlyList<PartnerData> all = Store.List();
        Assert.Equal(threads * perThread, all.Count);
        Assert.Equal(all.Count, all.Select(p => p.Revision).Distinct().Count());
    }

    [Fact]
    public void ExplainSaysWhichPartnerCoversADomainAndHow()
    {
        Store.New(Props(
            ("Identity", "fabrikam.com"),
            ("AdditionalDomains", new[] { "research.fabrikam2.com" }),
            ("TlsNegotiation", TlsNegotiation.Optional),
            ("SaslNegotiation", SaslNegotiation.Optional)));

        DomainExplanation e = Store.Explain("Research.Fabrikam2.COM.");
        Assert.Equal("Research.Fabrikam2.COM.", e.Input);
        Assert.Equal("research.fabrikam2.com", e.Domain);
        Assert.True(e.Allowed);
        Assert.Equal("fabrikam.com", e.Partner);
        Assert.Equal(DomainCoverage.AdditionalDomain, e.CoveredAs);
        Assert.Equal(TlsNegotiation.Optional, e.TlsNegotiation);
        Assert.Equal(SaslNegotiation.Optional, e.SaslNegotiation);
        Assert.True(e.SupportDialbackNegotiation);
        Assert.Equal(PartnerType.PublicUnverified, e.PartnerType);
        Assert.Equal(new[] { NegotiationMethod.SaslOverTls, NegotiationMethod.TlsDialback, NegotiationMethod.TcpDialback }, e.Methods);
        Assert.Null(e.NoMethodReason);
        Assert.Equal("SaslWithoutRequiredTls", Assert.Single(e.Warnings).Id);
        Assert.Empty(e.Hints);
        Assert.Equal(e.Domain, e.ToString());
        Assert.True(e.StoreRevision > 0);
    }

    [Fact]
    public void ExplainGivesNearMissesForADomainThatIsNotAllowed()
    {
        Store.New(Props(("Identity", "contoso.com")));

        DomainExplanation e = Store.Explain("chat.contoso.com");
        Assert.False(e.Allowed);
        Assert.Null(e.Partner);
        Assert.Equal(DomainCoverage.NotCovered, e.CoveredAs);
        Assert.Null(e.TlsNegotiation);
        Assert.Null(e.SupportDialbackNegotiation);
        Assert.Empty(e.Methods);
        Assert.Contains("not on the allowed-partner list", e.NoMethodReason);
        ExplanationHint hint = Assert.Single(e.Hints);
        Assert.Equal("SubdomainOfPartnerDomain", hint.Id);
        Assert.Equal("contoso.com", hint.Partner);
        Assert.Equal("Set-CsXmppAllowedPartner -Identity contoso.com -AdditionalDomains @{Add='chat.contoso.com'}", hint.Fix);
    }

    [Fact]
    public void ExplainRefusesAnInvalidDomainAsNewDoes()
    {
        var e = Assert.Throws<InvalidPartnerException>(() => Store.Explain("not a domain"));
        Assert.Equal(XmppFedResult.InvalidDomain, e.Result);
        Assert.Equal("InvalidDomain", e.ErrorId);
        Assert.Equal("not a domain", e.Target);
        var fromNew = Assert.Throws<InvalidPartnerException>(() => Store.New(Props(("Domain", "not a domain"))));
        Assert.Equal(fromNew.Message, e.Message);
    }

    [Fact]
    public void ExplainReadsTheLocalReplicaWhenAsked()
    {
        Store.New(Props(("Identity", "contoso.com")));
        string otherReplica = Path.Combine(temp.Root, "other-replica");
        Directory.CreateDirectory(otherReplica);
        using PartnerStore other = PartnerStore.Open(temp.CentralDir, otherReplica);

        Assert.True(other.Explain("contoso.com").Allowed);
        var none = Assert.Throws<StoreException>(() => other.Explain("contoso.com", localStore: true));
        Assert.Contains("Invoke-CsXmppAllowedPartnerReplication", none.Message);
        other.Replicate();
        Assert.Equal("contoso.com", other.Explain("contoso.com", localStore: true).Partner);
    }

    [Fact]
    public void EnvironmentVariableNamesComeFromTheLibrary()
    {
        Assert.Equal(new[] { "XMPPFED_STORE", "XMPPFED_REPLICA", "XMPPFED_LOCK_TIMEOUT_MS" }, PartnerStore.EnvironmentVariableNames);
        Assert.Same(PartnerStore.EnvironmentVariableNames, PartnerStore.EnvironmentVariableNames);
    }

    [Fact]
    public void VersionsComeFromTheLibrary()
    {
        Assert.Equal(PartnerStore.ExpectedAbiVersion, PartnerStore.AbiVersion);
        Assert.Matches(@"^\d+\.\d+\.\d+", PartnerStore.LibraryVersion);
    }
}
