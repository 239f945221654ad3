/* Minimal Cortex-M startup (adapted from shared/qemu/startup.c): vector
 * table, .data copy, .bss zero, optional FPU enable, stack painting,
 * main(), semihosting exit. A fault prints FAULT (pc, CFSR, HFSR) and exits 127. */
#include <stdint.h>
#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;
int main(void);

#define STACK_PAINT 0xA5A5A5A5u

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

/* Prints "FAULT pc=0x... cfsr=0x... hfsr=0x..." (pc from the stacked exception frame), exits 127. */
__attribute__((used, noreturn)) static void fault_report(const uint32_t *frame)
{
    sh_puts("FAULT pc=0x"); sh_put_x32(frame[6]);
    sh_puts(" cfsr=0x"); sh_put_x32(*(volatile uint32_t *)0xE000ED28u);
    sh_puts(" hfsr=0x"); sh_put_x32(*(volatile uint32_t *)0xE000ED2Cu);
    sh_puts("\n");
    sh_exit(0x7f);
}

__attribute__((naked)) void Fault_Handler(void)
{
    __asm__ volatile("tst lr, #4\n\t"
                     "ite eq\n\t"
                     "mrseq r0, msp\n\t"
                     "mrsne r0, psp\n\t"
                     "b fault_report");
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

__attribute__((noreturn, optimize("no-tree-loop-distribute-patterns")))
void Reset_Handler(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; ) *dst++ = 0;
#if defined(__ARM_FP)
    /* CPACR: full access to CP10/CP11 (only when built for hard FP). */
    *(volatile uint32_t *)0xE000ED88u |= (0xFu << 20);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    {   /* paint below SP, 64 bytes margin */
        uint32_t sp;
        __asm__ volatile("mov %0, sp" : "=r"(sp));
        for (uint32_t *p = &_sstack; (uintptr_t)p < sp - 64u; p++) *p = STACK_PAINT;
    }
    sh_exit(main());
}
