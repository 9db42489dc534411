/* A stand-in for Windows' bcryptprimitives.dll, for running tests under Wine 8 only: Wine 8 has
 * no ProcessPrng, which the Rust standard library (1.78 and later) imports for its random
 * numbers. This forwards it to advapi32's RtlGenRandom (SystemFunction036). scripts/windows.sh
 * builds it with mingw and copies it into the Wine prefix's system32; it is never shipped. */
#include <windows.h>

BOOLEAN NTAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000u ? 0x40000000u : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
