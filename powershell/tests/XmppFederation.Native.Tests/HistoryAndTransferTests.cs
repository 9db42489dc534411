using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;
using static XmppFederation.Native.Tests.TempStore;

namespace XmppFederation.Native.Tests;

/// <summary>PartnerStore.History, Export, Import and PreviewImport against the real library.</summary>
public sealed class HistoryAndTransferTests : IDisposable
{
    private readonly TempStore temp = new();

    private PartnerStore Store => temp.Store;

    public void Dispose() => temp.Dispose();

    [Fact]
    public void HistoryListsEachChangeNewestFirstWithWhoWhenAndWhat()
    {
        DateTime started = DateTime.UtcNow.AddSeconds(-1);
        Store.New(Props(("Identity", "contoso.com")));
        Store.Set("contoso.com", Props(("ConnectionLimit", 40)));
        Store.Remove("contoso.com");

        IReadOnlyList<HistoryEntry> entries = Store.History();

        Assert.Equal(new ulong[] { 3, 2, 1 }, entries.Select(e => e.Revision));
        Assert.Equal(new[] { HistoryOperation.Remove, HistoryOperation.Set, HistoryOperation.Create }, entries.Select(e => e.Operation));
        Assert.All(entries, e =>
        {
            Assert.Equal("contoso.com", e.Identity);
            Assert.Equal(Environment.UserName, e.User);
            Assert.False(string.IsNullOrEmpty(e.Machine));
            Assert.Equal(DateTimeKind.Utc, e.At.Kind);
            Assert.InRange(e.At, started.AddSeconds(-1), DateTime.UtcNow.AddSeconds(1));
        });
        HistoryEntry set = entries[1];
        Assert.Equal(20u, set.Before!.ConnectionLimit);
        Assert.Equal(40u, set.After!.ConnectionLimit);
        PropertyChange change = Assert.Single(set.Changes);
        Assert.Equal(("ConnectionLimit", "20", "40"), (change.Property, change.Old, change.New));
        Assert.Equal("ConnectionLimit: 20 \u2192 40", change.ToString());
        Assert.Null(entries[0].After);
        Assert.Null(entries[2].Before);
        Assert.All(entries[2].Changes, c => Assert.Null(c.Old));
    }

    [Fact]
    public void HistoryQueryFiltersByWildcardTimeAndCount()
    {
        Store.New(Props(("Identity", "contoso.com")));
        Store.New(Props(("Identity", "fabrikam.com")));
        Store.New(Props(("Identity", "jabber.org")));
        var all = Store.History();
        // The three commits may straddle a second (slow disks, Wine): the window is taken from the
        // oldest and the newest entry, not from one of them.
        DateTime oldest = all[^1].At, newest = all[0].At;

        Assert.Equal(new[] { "jabber.org" }, Store.History(new HistoryQuery { Identity = "*.ORG" }).Select(e => e.Identity));
        Assert.Equal(new ulong[] { 3, 2 }, Store.History(new HistoryQuery { First = 2 }).Select(e => e.Revision));
        // The same instants in every kind; Unspecified is local time.
        static DateTime[] InEveryKind(DateTime utc) =>
            new[] { utc, utc.ToLocalTime(), DateTime.SpecifyKind(utc.ToLocalTime(), DateTimeKind.Unspecified) };
        foreach (var (from, to) in InEveryKind(oldest).Zip(InEveryKind(newest)))
        {
            Assert.Equal(3, Store.History(new HistoryQuery { After = from }).Count);
            Assert.Equal(3, Store.History(new HistoryQuery { Before = to }).Count);
            Assert.Empty(Store.History(new HistoryQuery { After = to.AddSeconds(1) }));
            Assert.Empty(Store.History(new HistoryQuery { Before = from.AddSeconds(-1) }));
        }

        var e = Assert.Throws<InvalidPartnerException>(() => Store.History(new HistoryQuery { Identity = "[abc" }));
        Assert.Equal(XmppFedResult.InvalidFilter, e.Result);
        Assert.Equal("[abc", e.Target);
    }

    [Fact]
    public void TimesCrossAsUtcRfc3339ToTheSecond()
    {
        Assert.Equal("2026-11-30T15:04:05Z", PartnerStore.Rfc3339(new DateTime(2026, 11, 30, 15, 4, 5, 700, DateTimeKind.Utc)));
        var local = new DateTime(2026, 11, 30, 15, 4, 5, DateTimeKind.Local);
        string expected = local.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + "Z";
        Assert.Equal(expected, PartnerStore.Rfc3339(local));
        Assert.Equal(expected, PartnerStore.Rfc3339(DateTime.SpecifyKind(local, DateTimeKind.Unspecified)));
    }

    [Fact]
    public void ExportWritesJsonAndCsvThatImportReadsBackUnchanged()
    {
        Store.New(Props(("Identity", "fabrikam.com"), ("AdditionalDomains", new[] { "a.fabrikam.com", "b.fabrikam.com" }), ("Description", "x, \"y\"")));
        Store.New(Props(("Identity", "contoso.com")));
        string log = Path.Combine(temp.CentralDir, "partners.1.log");
        byte[] before = File.ReadAllBytes(log);

        string json = Store.Export(TransferFormat.Json);
        Assert.StartsWith("[\n  {\"Identity\":\"contoso.com\",", json);
        Assert.DoesNotContain("Revision", json);
        string csv = Store.Export(TransferFormat.Csv);
        Assert.StartsWith("Identity,Domain,AdditionalDomains,", csv);
        Assert.Contains("a.fabrikam.com;b.fabrikam.com", csv);
        Assert.Equal("[]\n", Store.Export(TransferFormat.Json, filter: "none*"));

        foreach (var (text, format) in new[] { (json, TransferFormat.Json), (csv, TransferFormat.Csv) })
        {
            ImportResult plan = Store.PreviewImport(text, new ImportOptions { Format = format, RemoveMissing = true });
            Assert.Equal(new[] { "contoso.com", "fabrikam.com" }, plan.Unchanged);
            Assert.Equal(0, plan.ChangeCount);
            Assert.Empty(plan.Rejected);
            Assert.Empty(plan.Warnings);
            Assert.Equal(2ul, plan.BaseRevision);
            Assert.Null(plan.CommittedRevision);
        }

        Assert.Equal(before, File.ReadAllBytes(log));
    }

    [Fact]
    public void ImportAppliesTheDifferenceInOneCommitAndPreviewWritesNothing()
    {
        Store.New(Props(("Identity", "contoso.com")));
        Store.New(Props(("Identity", "gone.com")));
        var items = new List<IReadOnlyDictionary<string, object?>>
        {
            Props(("Identity", "contoso.com"), ("ConnectionLimit", "40")),
            Props(("Identity", "new.com"), ("AdditionalDomains", "x.new.com;y.new.com"), ("EnableKeepAlive", false), ("Revision", 9)),
        };
        var options = new ImportOptions { RemoveMissing = true };

        ImportResult preview = Store.PreviewImport(items, options);
        Assert.Equal(new[] { "new.com" }, preview.Added.Select(p => p.Identity));
        ChangedPartner changed = Assert.Single(preview.Changed);
        Assert.Equal("contoso.com (ConnectionLimit: 20 \u2192 40)", changed.ToString());
        Assert.Equal(new[] { "gone.com" }, preview.Removed.Select(p => p.Identity));
        Assert.Equal(2, Store.List().Count);

        options.ExpectedRevision = preview.BaseRevision;
        ImportResult done = Store.Import(items, options);
        Assert.Equal(3ul, done.CommittedRevision);
        Assert.Equal(new[] { "contoso.com", "new.com" }, Store.List().Select(p => p.Identity));
        Assert.Equal(new[] { "x.new.com", "y.new.com" }, Store.Get("new.com").AdditionalDomains);
        Assert.All(Store.History(new HistoryQuery { First = 3 }), e =>
        {
            Assert.Equal(3ul, e.Revision);
            Assert.Equal(HistoryOperation.Import, e.Operation);
        });
    }

    [Fact]
    public void ImportRefusesRejectedItemsAndAStoreThatMovedOn()
    {
        Store.New(Props(("Identity", "contoso.com")));
        const string Input = "[{\"Identity\":\"new.com\"},{\"Identity\":\"not a domain\"}]";

        ImportResult plan = Store.PreviewImport(Input);
        ImportRejection rejection = Assert.Single(plan.Rejected);
        Assert.Equal((2ul, "not a domain", "InvalidDomain"), (rejection.Position, rejection.Identity, rejection.ErrorId));
        XmppFedException asException = rejection.ToException("item 2: " + rejection.Reason);
        Assert.IsType<InvalidPartnerException>(asException);
        Assert.Equal((XmppFedResult.InvalidDomain, "InvalidDomain", "not a domain"), (asException.Result, asException.ErrorId, asException.Target));
        var duplicate = new ImportRejection { ErrorId = "DuplicateIdentity", Identity = "a.com" }.ToException("twice");
        Assert.Equal((XmppFedResult.InvalidValue, "DuplicateIdentity"), (duplicate.Result, duplicate.ErrorId));

        var rejected = Assert.Throws<InvalidPartnerException>(() => Store.Import(Input));
        Assert.Equal(XmppFedResult.ImportRejected, rejected.Result);
        Assert.Equal("ImportRejected", rejected.ErrorId);
        Assert.Contains("at position 2", rejected.Message);

        var changed = Assert.Throws<PartnerConflictException>(() =>
            Store.Import("[{\"Identity\":\"new.com\"}]", new ImportOptions { ExpectedRevision = 0 }));
        Assert.Equal(XmppFedResult.StoreChanged, changed.Result);
        Assert.Equal("StoreChanged", changed.ErrorId);
        Assert.Equal(new[] { "contoso.com" }, Store.List().Select(p => p.Identity));

        var shape = Assert.Throws<InvalidPartnerException>(() => Store.PreviewImport("{}"));
        Assert.Equal(XmppFedResult.JsonShape, shape.Result);
        var csv = Assert.Throws<InvalidPartnerException>(() => Store.PreviewImport("Identity\n\"open\n", new ImportOptions { Format = TransferFormat.Csv }));
        Assert.Equal(XmppFedResult.InvalidValue, csv.Result);
        Assert.Throws<InvalidPartnerException>(() => Store.PreviewImport("[{\"Identity\":\"a\0b.com\"}]"));
    }

    [Fact]
    public void InitializeActionReadsUpgraded()
    {
        StoreInitialization? read = JsonSerializer.Deserialize(
            "{\"CentralStore\":\"postgresql://x@h:5432/db\",\"Kind\":\"PostgreSQL\",\"Action\":\"Upgraded\",\"Version\":2,\"Warnings\":[]}",
            WireJsonContext.Default.StoreInitialization);
        Assert.Equal(StoreInitializeAction.Upgraded, read!.Action);
    }
}
