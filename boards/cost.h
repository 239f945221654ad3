/* Deterministic cost counter for QEMU with `-icount shift=0` (1 insn = 1 ns).
 * Adapted from the original QEMU harness (tests/qemu_harness). Select one with -DTINYC_COUNTER_<X>:
 *  TIM2:    netduinoplus2 (STM32F405) clocks TIM2 at 1 GHz in QEMU, so
 *           TIM2->CNT (32-bit, up) = exact instruction count.
 *  SYSTICK: processor clock, 24-bit down counter (mps2: 1 tick per ~40
 *           insns, lm3s6965evb: ~83): coarse, not an instruction count.
 *  none:    cost_now() is always 0. */
#ifndef TINYC_COST_H
#define TINYC_COST_H
#include <stdint.h>

#define REG32(a) (*(volatile uint32_t *)(a))

#if defined(TINYC_COUNTER_TIM2)
#define RCC_APB1ENR  REG32(0x40023840u)
#define TIM2_CR1     REG32(0x40000000u)
#define TIM2_EGR     REG32(0x40000014u)
#define TIM2_CNT     REG32(0x40000024u)
#define TIM2_PSC     REG32(0x40000028u)
#define TIM2_ARR     REG32(0x4000002Cu)
static inline void cost_init(void)
{
    RCC_APB1ENR |= 1u;          /* TIM2 clock (not gated in QEMU, needed on HW) */
    TIM2_PSC = 0; TIM2_ARR = 0xFFFFFFFFu; TIM2_EGR = 1u; TIM2_CR1 = 1u;
}
static inline uint32_t cost_now(void) { return TIM2_CNT; }
#define COST_UNIT "tim2"
#elif defined(TINYC_COUNTER_SYSTICK)
#define SYST_CSR     REG32(0xE000E010u)
#define SYST_RVR     REG32(0xE000E014u)
#define SYST_CVR     REG32(0xE000E018u)
static inline void cost_init(void)
{
    SYST_RVR = 0x00FFFFFFu; SYST_CVR = 0; SYST_CSR = 5u;  /* enable, CPU clock, no IRQ */
}
static inline uint32_t cost_now(void) { return (0u - SYST_CVR) & 0x00FFFFFFu; }
#define COST_UNIT "systick"
#else
static inline void cost_init(void) { }
static inline uint32_t cost_now(void) { return 0u; }
#define COST_UNIT "none"
#endif

#define COST_BARRIER() __asm__ volatile("" ::: "memory")
#endif
