/* libFuzzer entry point for one xmppfed fuzz target. Compiled once per target with
 * -DFUZZ_TARGET=xmppfed_fuzz_<target>; the targets themselves are in ../src (Rust). */
#include <stddef.h>
#include <stdint.h>

#ifndef FUZZ_TARGET
#error "define FUZZ_TARGET, e.g. -DFUZZ_TARGET=xmppfed_fuzz_domain"
#endif

int FUZZ_TARGET(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return FUZZ_TARGET(data, size);
}
