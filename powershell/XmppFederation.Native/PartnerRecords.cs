using System;
using System.Text;

namespace XmppFederation.Native;

/// <summary>
/// Reads the library's binary partner records (the layout of <c>xmppfed_partner_list_pages</c>
/// in the header): a get's buffer and each page of a list are records of their own (the format,
/// a count, the records). Every length is checked against the buffer, and records this assembly
/// cannot read are an assembly/library mismatch (<see cref="ErrorIds.NativeLibraryAbiMismatch"/>),
/// never a partner read wrong.
/// </summary>
/// <remarks>
/// Records, not JSON: decoding a JSON array cost more per partner than writing the object to
/// PowerShell's pipeline.
/// </remarks>
internal static class PartnerRecords
{
    /// <summary>The records' first field: the layout this class reads (the header's XMPPFED_RECORDS_FORMAT).</summary>
    internal const uint Format = 1;

    /// <summary>The format and the count.</summary>
    internal const int HeaderBytes = 8;

    /// <summary>The smallest record: Revision, ConnectionLimit, three codes and the flags, four empty texts and no additional domains.</summary>
    private const int MinRecordBytes = 8 + 4 + 4 + 4 * 4 + 4;

    /// <summary>The count of <paramref name="records"/>, after checking the format and that the records can hold that many.</summary>
    internal static int Count(ReadOnlySpan<byte> records)
    {
        try
        {
            var reader = new RecordReader(records, 0);
            uint format = reader.U32();
            if (format != Format)
            {
                throw new FormatException($"records of format {format}, not {Format}");
            }
            uint count = reader.U32();
            if (count > (uint)(records.Length - HeaderBytes) / MinRecordBytes)
            {
                throw new FormatException($"a count of {count} in {records.Length} bytes");
            }
            return (int)count;
        }
        catch (FormatException e)
        {
            throw Unreadable(e);
        }
    }

    /// <summary>The partner at <paramref name="offset"/> of <paramref name="records"/> (the <paramref name="index"/>th, for the message), and the offset after it.</summary>
    internal static PartnerData Read(ReadOnlySpan<byte> records, ref int offset, int index)
    {
        var reader = new RecordReader(records, offset);
        try
        {
            PartnerData partner = reader.Partner();
            offset = reader.Offset;
            return partner;
        }
        catch (FormatException e)
        {
            throw Unreadable(new FormatException($"record {index + 1}: {e.Message}", e));
        }
    }

    /// <summary>The one partner of a get's records; another count, or bytes after it, is a mismatch.</summary>
    internal static PartnerData ReadOne(ReadOnlySpan<byte> records)
    {
        int count = Count(records);
        if (count != 1)
        {
            throw Unreadable(new FormatException($"{count} records where one partner was read"));
        }
        int offset = HeaderBytes;
        PartnerData partner = Read(records, ref offset, 0);
        CheckEnd(records, offset, count);
        return partner;
    }

    /// <summary>Nothing may follow the last of <paramref name="count"/> records.</summary>
    internal static void CheckEnd(ReadOnlySpan<byte> records, int offset, int count)
    {
        if (offset != records.Length)
        {
            throw Unreadable(new FormatException($"{records.Length - offset} bytes after the last of {count} records"));
        }
    }

    internal static NativeLibraryException Unreadable(FormatException e) =>
        Ensure.Unreadable("partner records this assembly cannot read", e);

    /// <summary>Reads the layout's fields in order, each checked against the end of the buffer.</summary>
    private ref struct RecordReader
    {
        /// <summary>Strict: the library writes valid UTF-8, so anything else is a mismatch, not text to repair.</summary>
        private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        private readonly ReadOnlySpan<byte> bytes;

        internal RecordReader(ReadOnlySpan<byte> bytes, int offset)
        {
            this.bytes = bytes;
            Offset = offset;
        }

        internal int Offset { get; private set; }

        internal PartnerData Partner()
        {
            ulong revision = U64();
            uint connectionLimit = U32();
            var partnerType = (PartnerType)Code(nameof(PartnerData.PartnerType));
            var tls = (TlsNegotiation)Code(nameof(PartnerData.TlsNegotiation));
            var sasl = (SaslNegotiation)Code(nameof(PartnerData.SaslNegotiation));
            byte flags = Take(1)[0];
            if ((flags & ~3) != 0)
            {
                throw new FormatException($"unknown flags {flags:x2}");
            }
            ReadOnlySpan<byte> identityBytes = TextBytes();
            string identity = Decode(identityBytes);
            // Domain is the identity's value (the model says so): one string for both.
            ReadOnlySpan<byte> domainBytes = TextBytes();
            string domain = domainBytes.SequenceEqual(identityBytes) ? identity : Decode(domainBytes);
            string description = Text();
            string proxyFqdn = Text();
            uint additional = U32();
            // Each additional domain takes at least its 4-byte length.
            if (additional > (uint)(bytes.Length - Offset) / 4)
            {
                throw new FormatException($"{additional} additional domains in {bytes.Length - Offset} bytes");
            }
            var domains = new DomainList();
            domains.Capacity = (int)additional;
            for (uint i = 0; i < additional; i++)
            {
                domains.Add(Text());
            }
            return new PartnerData
            {
                Identity = identity,
                Domain = domain,
                AdditionalDomains = domains,
                Description = description,
                ProxyFqdn = proxyFqdn,
                PartnerType = partnerType,
                TlsNegotiation = tls,
                SaslNegotiation = sasl,
                SupportDialbackNegotiation = (flags & 1) != 0,
                EnableKeepAlive = (flags & 2) != 0,
                ConnectionLimit = connectionLimit,
                Revision = revision,
            };
        }

        internal uint U32()
        {
            ReadOnlySpan<byte> b = Take(4);
            return b[0] | (uint)b[1] << 8 | (uint)b[2] << 16 | (uint)b[3] << 24;
        }

        private ulong U64() => U32() | (ulong)U32() << 32;

        /// <summary>An enum's code: 0, 1 or 2 (its position among the names the library declares).</summary>
        private byte Code(string property)
        {
            byte code = Take(1)[0];
            if (code > 2)
            {
                throw new FormatException($"{property} code {code}");
            }
            return code;
        }

        private string Text() => Decode(TextBytes());

        private ReadOnlySpan<byte> TextBytes()
        {
            uint length = U32();
            if (length > (uint)(bytes.Length - Offset))
            {
                throw new FormatException($"a text of {length} bytes with {bytes.Length - Offset} left");
            }
            return Take((int)length);
        }

        private static unsafe string Decode(ReadOnlySpan<byte> utf8)
        {
            if (utf8.IsEmpty)
            {
                return string.Empty;
            }
            try
            {
                fixed (byte* p = utf8)
                {
                    return Utf8.GetString(p, utf8.Length);
                }
            }
            catch (DecoderFallbackException e)
            {
                throw new FormatException("a text that is not UTF-8", e);
            }
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > bytes.Length - Offset)
            {
                throw new FormatException($"{count} bytes wanted at offset {Offset} of {bytes.Length}");
            }
            ReadOnlySpan<byte> taken = bytes.Slice(Offset, count);
            Offset += count;
            return taken;
        }
    }
}

/// <summary>
/// A library-allocated buffer of known length, read in place and released only with
/// <c>xmppfed_bytes_free</c>, once (also by the finalizer if never disposed).
/// </summary>
internal sealed class NativeBytes : IDisposable
{
    private IntPtr pointer;
    private readonly nuint length;

    /// <summary>Take ownership of <paramref name="owned"/>; NULL (a library bug after success) is refused.</summary>
    internal NativeBytes(IntPtr owned, nuint length)
    {
        Ensure.Output(owned);
        pointer = owned;
        this.length = length;
        if (length > int.MaxValue)
        {
            Free();
            throw new NativeLibraryException(XmppFedResult.Panic, ErrorIds.NativeLibraryAbiMismatch,
                $"libxmppfed returned {length} bytes of records; at most {int.MaxValue} can be read.", target: null);
        }
    }

    ~NativeBytes() => Free();

    /// <summary>Whether the buffer was released.</summary>
    internal bool IsDisposed => pointer == IntPtr.Zero;

    /// <summary>The bytes; valid until <see cref="Dispose"/>.</summary>
    internal unsafe ReadOnlySpan<byte> Span
    {
        get
        {
            if (IsDisposed)
            {
                throw new ObjectDisposedException(nameof(NativeBytes));
            }
            return new ReadOnlySpan<byte>((void*)pointer, (int)length);
        }
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        IntPtr owned = System.Threading.Interlocked.Exchange(ref pointer, IntPtr.Zero);
        if (owned != IntPtr.Zero)
        {
            NativeMethods.xmppfed_bytes_free(owned, length);
        }
    }
}
