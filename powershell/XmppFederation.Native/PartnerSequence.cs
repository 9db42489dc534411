using System;
using System.Collections;
using System.Collections.Generic;
using System.Text.Json;

namespace XmppFederation.Native;

/// <summary>
/// The partners of one list call (<see cref="PartnerStore.ListStreamed"/>), decoded one at a time
/// straight from the library's UTF-8 JSON array while they are enumerated: the first partner is
/// available before the last is decoded, and no UTF-16 copy of the document or list of every
/// partner is made. Owns the library's buffer until disposed (dispose it: <c>using</c>).
/// Not thread-safe; may be enumerated more than once until disposed.
/// </summary>
public sealed class PartnerSequence : IEnumerable<PartnerData>, IDisposable
{
    private readonly NativeUtf8 json;
    private int? count;

    internal PartnerSequence(NativeUtf8 json) => this.json = json;

    /// <summary>
    /// How many partners the sequence holds, counted on first use by skipping over the elements
    /// without decoding them (about a tenth of the cost of decoding them).
    /// </summary>
    public int Count => count ??= CountElements();

    /// <summary>Release the library's buffer; enumerating afterwards throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose() => json.Dispose();

    /// <inheritdoc/>
    public IEnumerator<PartnerData> GetEnumerator() => new Enumerator(this);

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int CountElements()
    {
        var reader = new Utf8JsonReader(json.Span, isFinalBlock: true, state: default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException("expected a JSON array");
            }

            int elements = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                reader.Skip();
                elements++;
            }

            return elements;
        }
        catch (JsonException e)
        {
            throw PartnerStore.Unreadable(nameof(PartnerData), e);
        }
    }

    /// <summary>
    /// Reads the array element by element. Utf8JsonReader is a ref struct and cannot be kept
    /// between MoveNext calls, so its state and position are, and it is made again from them.
    /// </summary>
    private sealed class Enumerator : IEnumerator<PartnerData>
    {
        private readonly PartnerSequence owner;
        private JsonReaderState state;
        private int consumed;
        private bool started;
        private bool finished;
        private PartnerData? current;

        internal Enumerator(PartnerSequence owner) => this.owner = owner;

        public PartnerData Current => current ?? throw new InvalidOperationException("MoveNext has not returned true.");

        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (finished)
            {
                return false;
            }

            ReadOnlySpan<byte> bytes = owner.json.Span;
            var reader = new Utf8JsonReader(bytes.Slice(consumed), isFinalBlock: true, state);
            try
            {
                if (!started)
                {
                    Expect(reader.Read() && reader.TokenType == JsonTokenType.StartArray, "a JSON array");
                    started = true;
                }

                Expect(reader.Read(), "another element or the end of the array");
                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    finished = true;
                    current = null;
                    return false;
                }

                current = JsonSerializer.Deserialize(ref reader, WireJsonContext.Default.PartnerData)
                    ?? throw new JsonException("an element is null");
            }
            catch (JsonException e)
            {
                finished = true;
                throw PartnerStore.Unreadable(nameof(PartnerData), e);
            }

            consumed += (int)reader.BytesConsumed;
            state = reader.CurrentState;
            return true;
        }

        public void Reset() => throw new NotSupportedException();

        public void Dispose()
        {
        }

        private static void Expect(bool condition, string what)
        {
            if (!condition)
            {
                throw new JsonException($"expected {what}");
            }
        }
    }
}

/// <summary>
/// A library-allocated NUL-terminated UTF-8 string, read in place and released only with
/// <c>xmppfed_string_free</c>, once (also by the finalizer if never disposed).
/// </summary>
internal sealed class NativeUtf8 : IDisposable
{
    private IntPtr pointer;
    private readonly int length;

    /// <summary>Take ownership of <paramref name="owned"/>; NULL (a library bug after success) is refused.</summary>
    internal unsafe NativeUtf8(IntPtr owned)
    {
        if (owned == IntPtr.Zero)
        {
            throw new NativeLibraryException(XmppFedResult.Panic, "Panic",
                "libxmppfed reported success but returned no output (a library bug).", target: null);
        }

        pointer = owned;
        length = System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)owned).Length;
    }

    ~NativeUtf8() => Free();

    /// <summary>The bytes, without the NUL; valid until <see cref="Dispose"/>.</summary>
    internal unsafe ReadOnlySpan<byte> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(pointer == IntPtr.Zero, this);
            return new ReadOnlySpan<byte>((void*)pointer, length);
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
            NativeMethods.xmppfed_string_free(owned);
        }
    }
}
