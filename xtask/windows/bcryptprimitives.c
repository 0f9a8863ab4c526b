/*
 * bcryptprimitives.dll for wine 8.0, which has none: Rust's std (1.78+) imports ProcessPrng
 * from it for its random numbers (HashMap keys). Built by `cargo xtask` with mingw-w64 and put
 * beside datalink-host.exe under wine only; real Windows (10 and later) has its own.
 *
 * ProcessPrng fills the buffer with random bytes and always returns TRUE, as documented;
 * RtlGenRandom (advapi32 SystemFunction036) is the same system generator, in chunks of at
 * most ULONG bytes.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
