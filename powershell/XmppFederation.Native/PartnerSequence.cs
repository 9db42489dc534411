using System;
using System.Collections;
using System.Collections.Generic;

namespace XmppFederation.Native;

/// <summary>
/// The partners of one list call (<see cref="PartnerStore.ListStreamed"/>): the store's partners
/// at that call, taken from the library a page at a time (<c>xmppfed_partner_pages_next</c>, about
/// 64 KiB of records) and decoded one at a time while they are enumerated. The first partner is
/// available once the first page is encoded, and neither the list nor its records are ever held
/// whole. Owns the library's pages until disposed (dispose it: <c>using</c>).
/// Not thread-safe; enumerated once, like a data reader (list again to read again).
/// </summary>
public sealed class PartnerSequence : IEnumerable<PartnerData>, IDisposable
{
    private readonly PartnerPagesSafeHandle pages;
    private readonly int count;
    private bool enumerated;

    /// <summary>Takes ownership of <paramref name="pages"/>, which the library said hold <paramref name="count"/> partners.</summary>
    internal PartnerSequence(PartnerPagesSafeHandle pages, nuint count)
    {
        this.pages = pages;
        if (count > int.MaxValue)
        {
            pages.Dispose();
            throw PartnerRecords.Unreadable(new FormatException($"a list of {count} partners; at most {int.MaxValue} can be read"));
        }
        this.count = (int)count;
    }

    /// <summary>How many partners the sequence holds (the library says so first).</summary>
    public int Count => pages.IsClosed ? throw new ObjectDisposedException(nameof(PartnerSequence)) : count;

    /// <summary>Release the library's pages; enumerating afterwards throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose() => pages.Dispose();

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The sequence was already enumerated.</exception>
    public IEnumerator<PartnerData> GetEnumerator()
    {
        if (pages.IsClosed)
        {
            throw new ObjectDisposedException(nameof(PartnerSequence));
        }
        // The pages are consumed as they are read (each page's partners are released by the
        // library once handed out), so a second pass would find nothing to read.
        if (enumerated)
        {
            throw new InvalidOperationException("The partners of a list call are read once; list again to read them again.");
        }
        enumerated = true;
        return new Enumerator(this);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private sealed class Enumerator : IEnumerator<PartnerData>
    {
        private readonly PartnerSequence owner;
        private IntPtr page;
        private int pageLength;
        private int pageCount;
        private int offset;
        private int inPage;
        private int read;
        private bool done;
        private PartnerData? current;

        internal Enumerator(PartnerSequence owner) => this.owner = owner;

        public PartnerData Current => current ?? throw new InvalidOperationException("MoveNext has not returned true.");

        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            current = null;
            if (owner.pages.IsClosed)
            {
                throw new ObjectDisposedException(nameof(PartnerSequence));
            }
            if (done)
            {
                return false;
            }
            try
            {
                if (inPage == pageCount && !NextPage())
                {
                    return false;
                }
                current = PartnerRecords.Read(Page, ref offset, read);
            }
            catch (NativeLibraryException)
            {
                // A mismatch ends the sequence: it never reads on past what it could not read.
                done = true;
                throw;
            }
            inPage++;
            read++;
            return true;
        }

        /// <summary>The current page: the library's memory, valid until the next page is asked for or the pages are freed.</summary>
        private unsafe ReadOnlySpan<byte> Page => new((void*)page, pageLength);

        /// <summary>Moves to the next page, false at the end; checks that the pages hold what the list said.</summary>
        private bool NextPage()
        {
            if (page != IntPtr.Zero)
            {
                PartnerRecords.CheckEnd(Page, offset, pageCount);
            }
            XmppFedResult result = NativeMethods.xmppfed_partner_pages_next(owner.pages, out IntPtr records, out nuint length);
            Ensure.Success(result, target: null);
            if (records == IntPtr.Zero)
            {
                done = true;
                if (read != owner.count)
                {
                    throw PartnerRecords.Unreadable(new FormatException($"the pages held {read} partners of the {owner.count} listed"));
                }
                return false;
            }
            if (length > int.MaxValue)
            {
                throw PartnerRecords.Unreadable(new FormatException($"a page of {length} bytes"));
            }
            page = records;
            pageLength = (int)length;
            pageCount = PartnerRecords.Count(Page);
            if (pageCount == 0 || pageCount > owner.count - read)
            {
                throw PartnerRecords.Unreadable(new FormatException($"a page of {pageCount} partners after {read} of the {owner.count} listed"));
            }
            offset = PartnerRecords.HeaderBytes;
            inPage = 0;
            return true;
        }

        public void Reset() => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
