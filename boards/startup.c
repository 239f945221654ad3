/* Minimal Cortex-M startup (adapted from the original QEMU harness): vector
 * table, FPU enable, .data copy, .bss zero, stack painting, main(),
 * semihosting exit. A fault prints FAULT (pc, CFSR, HFSR) and exits 127.
 * Portable to ARMv6-M (Cortex-M0: Thumb-1 only, no CFSR/HFSR) and to
 * hard-float builds (FPU enabled before any C code runs). */
#include <stdint.h>
#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;
int main(void);

#define STACK_PAINT 0xA5A5A5A5u

/* ARMv6-M and ARMv8-M Baseline have no CFSR/HFSR (reads may fault). */
#if defined(__ARM_ARCH_6M__) || defined(__ARM_ARCH_8M_BASE__)
#define HAVE_FAULT_STATUS 0
#else
#define HAVE_FAULT_STATUS 1
#endif

void Reset_Handler(void);
void Fault_Handler(void);
uint32_t stack_paint(void);
uint32_t stack_high_water(void);

__attribute__((section(".isr_vector"), used))
const void *const vector_table[16] = {
    &_estack, Reset_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler,                       /* 7: SecureFault (v8-M) */
    0, 0, 0,
    Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler,
};

/* Prints "FAULT pc=0x... cfsr=0x... hfsr=0x..." (pc from the stacked exception frame), exits 127.
 * On cores without CFSR/HFSR both print as 0. */
__attribute__((used, noreturn)) void tinyc_fault_report(const uint32_t *frame)
{
    uint32_t cfsr = 0u, hfsr = 0u;
#if HAVE_FAULT_STATUS
    cfsr = *(volatile uint32_t *)0xE000ED28u;
    hfsr = *(volatile uint32_t *)0xE000ED2Cu;
#endif
    sh_puts("FAULT pc=0x"); sh_put_x32(frame[6]);
    sh_puts(" cfsr=0x"); sh_put_x32(cfsr);
    sh_puts(" hfsr=0x"); sh_put_x32(hfsr);
    sh_puts("\n");
    sh_exit(0x7f);
}

/* Frame pointer = MSP or PSP by EXC_RETURN bit 2. Thumb-1 only (ARMv6-M has no IT
 * and no tst with an immediate); bl reaches the whole address space (b may not). */
__attribute__((naked)) void Fault_Handler(void)
{
    __asm__ volatile("movs r1, #4\n\t"
                     "mov r2, lr\n\t"
                     "tst r1, r2\n\t"
                     "bne 1f\n\t"
                     "mrs r0, msp\n\t"
                     "bl tinyc_fault_report\n"
                     "1:\n\t"
                     "mrs r0, psp\n\t"
                     "bl tinyc_fault_report");
}

/* Peak stack use since the last paint: lowest overwritten painted word. */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
uint32_t stack_high_water(void)
{
    const uint32_t *p = &_sstack;
    while (p < &_estack && *p == STACK_PAINT) p++;
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

/* Paint [_sstack, caller's SP) and return the caller's stack depth. A leaf
 * without a frame, so its SP is the caller's SP. No interrupts are enabled,
 * so writing below SP is safe. */
__attribute__((noinline, optimize("no-tree-loop-distribute-patterns")))
uint32_t stack_paint(void)
{
    uint32_t sp;
    volatile uint32_t *p = &_sstack;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    while ((uintptr_t)p < sp) *p++ = STACK_PAINT;
    return (uint32_t)((uintptr_t)&_estack - sp);
}

/* Everything after the FPU enable: .data copy, .bss zero, stack paint, main. */
__attribute__((used, noreturn, noinline, optimize("no-tree-loop-distribute-patterns")))
void tinyc_reset_c(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; ) *dst++ = 0;
    {   /* paint below SP, 64 bytes margin */
        uint32_t sp;
        __asm__ volatile("mov %0, sp" : "=r"(sp));
        for (uint32_t *p = &_sstack; (uintptr_t)p < sp - 64u; p++) *p = STACK_PAINT;
    }
    sh_exit(main());
}

/* Reset: with a hard-float or softfp build (__ARM_FP), gcc may use VFP registers in any C
 * code, even for integer copies (vldr/vstr of 64 bits, e.g. in the .data copy), and the FPU
 * is off at reset (such an instruction faults: NOCP). So the FPU is enabled here, in a naked
 * function (no compiler-generated code), before the first C function runs: CPACR (0xE000ED88)
 * CP10/CP11 full access, then DSB/ISB. */
__attribute__((naked, noreturn)) void Reset_Handler(void)
{
#if defined(__ARM_FP)
    __asm__ volatile("movw r0, #0xED88\n\t"
                     "movt r0, #0xE000\n\t"
                     "ldr r1, [r0]\n\t"
                     "orr r1, r1, #(0xF << 20)\n\t"
                     "str r1, [r0]\n\t"
                     "dsb\n\t"
                     "isb\n\t"
                     "bl tinyc_reset_c");
#else
    __asm__ volatile("bl tinyc_reset_c");
#endif
}
