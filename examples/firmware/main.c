/* Two tinyc models in one bare-metal firmware (STM32F405 / QEMU netduinoplus2).
 *
 * digits (an 8x8 handwritten-digit CNN) and kws (the MLPerf Tiny keyword-spotting DS-CNN) were
 * built by tinyc with --name digits and --name kws: every symbol of one starts with digits_,
 * of the other with kws_, so they link side by side. They never run at the same time, so they
 * share one arena (built with -DTINYC_EXTERNAL_ARENA: the models' own static arenas are left
 * out). The outputs go to the host over semihosting, one line per model and sample:
 *
 *     digits s=<sample> top=<argmax> hex=<output, 2 hex digits per int8>
 */
#include <stdint.h>

#include "digits.h"
#include "kws.h"
#include "inputs.h"             /* EXAMPLE_SAMPLES samples for each model (make_inputs.py) */
#include "semihost.h"           /* boards/: sh_puts, sh_kv, sh_put_hex */

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ARENA_SIZE MAX(DIGITS_ARENA_SIZE, KWS_ARENA_SIZE)

/* One arena for both models: int32_t for the 4-byte alignment the models ask for. */
static int32_t arena[(ARENA_SIZE + 3) / 4];

static uint32_t argmax(const int8_t *x, uint32_t n)
{
    uint32_t i, best = 0;
    for (i = 1; i < n; i++) {
        if (x[i] > x[best]) {
            best = i;
        }
    }
    return best;
}

static void report(const char *model, uint32_t s, const int8_t *out, uint32_t n)
{
    sh_puts(model);
    sh_kv("s", s);
    sh_kv("top", argmax(out, n));
    sh_puts(" hex=");
    sh_put_hex(out, n);
    sh_puts("\n");
}

int main(void)
{
    static int8_t digits_out[DIGITS_OUT0_SIZE];
    static int8_t kws_out[KWS_OUT0_SIZE];
    uint32_t s;

    sh_puts("two models");
    sh_kv("samples", EXAMPLE_SAMPLES);
    sh_kv("arena", (uint32_t)sizeof arena);
    sh_kv("digits_arena", DIGITS_ARENA_SIZE);
    sh_kv("kws_arena", KWS_ARENA_SIZE);
    sh_puts("\n");
    for (s = 0; s < EXAMPLE_SAMPLES; s++) {
        digits_invoke_with_arena((int8_t *)arena, example_digits_in[s], digits_out);
        report("digits", s, digits_out, DIGITS_OUT0_SIZE);
        kws_invoke_with_arena((int8_t *)arena, example_kws_in[s], kws_out);
        report("kws", s, kws_out, KWS_OUT0_SIZE);
    }
    sh_puts("done\n");
    return 0;
}
