/* The exec/s ceiling: a harness that does nothing, built exactly like the
 * others (same sanitizers, same driver), so each harness's exec/s can be
 * compared against the cost of libFuzzer itself. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
