/* tinyc_cycles: the execution profile tinyc.cycles turns into a Cortex-M4 cycle estimate.
 *
 *   qemu-system-arm ... -plugin libtinyc_cycles.so,out=PROFILE[,mark=0xADDR[:0xADDR...]]
 *
 * Records, per "window" (window 0 from reset; each execution of a translation block that
 * starts at one of the mark= addresses (at most 8) begins the next window), how often
 * execution went from translation block A to translation block B (A = -1 for the first
 * block). A block's execution count is the sum of its incoming transitions; whether A's
 * last instruction (a branch) was taken follows from B's address. Halfword and word
 * loads/stores also get a memory callback that counts the accesses that are not naturally
 * aligned, per instruction address and window. No per-instruction callbacks.
 *
 * PROFILE (text, written at exit):
 *   tb  <index> <start-hex> <end-hex> <n-insns>
 *   e   <window> <from-index|-1> <to-index> <count>
 *   ua  <window> <pc-hex> <size> <addr%4> <count>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct { uint64_t start, end; uint32_t n, mark; } tb_t;
typedef struct { uint64_t key; uint64_t count; } slot_t;     /* key 0 = empty */

static tb_t *tbs;
static size_t n_tbs, cap_tbs;
static slot_t *edges, *tbkeys, *unal;
static size_t edge_bits = 16, n_edges, tbkey_bits = 16, n_tbkeys, unal_bits = 12, n_unal;
static int64_t last_tb = -1;
static uint64_t window, marks[8];
static int n_marks;
static const char *out_path;

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    return k ^ (k >> 33);
}

/* open addressing, grows at half load */
static slot_t *slot(slot_t **table, size_t *bits, size_t *used, uint64_t key)
{
    size_t mask = ((size_t)1 << *bits) - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
        slot_t *s = &(*table)[i];
        if (s->key == key) return s;
        if (s->key == 0) {
            if (2 * (*used + 1) > mask + 1) {
                size_t old = mask + 1;
                slot_t *prev = *table;
                *table = calloc(old * 2, sizeof **table);
                if (!*table) { fputs("tinyc_cycles: out of memory\n", stderr); abort(); }
                *bits += 1;
                *used = 0;
                for (size_t j = 0; j < old; j++)
                    if (prev[j].key) *slot(table, bits, used, prev[j].key) = prev[j], ++*used;
                free(prev);
                return slot(table, bits, used, key);
            }
            s->key = key;
            ++*used;
            return s;
        }
    }
}

static void tb_exec(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    int64_t cur = (int64_t)(uintptr_t)udata;
    if (tbs[cur].mark && ++window == (1u << 20)) {
        fputs("tinyc_cycles: more than 2^20 windows\n", stderr);
        abort();
    }
    uint64_t key = (window << 44) | ((uint64_t)(last_tb + 1) << 22) | (uint64_t)cur;
    slot(&edges, &edge_bits, &n_edges, key + 1)->count++;     /* +1: never 0 */
    last_tb = cur;
}

static void mem_access(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
    (void)vcpu;
    unsigned size = 1u << qemu_plugin_mem_size_shift(info);
    if (size < 2 || (vaddr & (size - 1)) == 0) return;
    uint64_t key = (window << 40) | ((uint64_t)(uintptr_t)udata << 8) | (size << 2) | (vaddr & 3);
    slot(&unal, &unal_bits, &n_unal, key)->count++;
}

/* 16-bit LDR/STR/LDRH/STRH/LDRSH (immediate, register) and 32-bit load/store single of
 * halfword or word size: the accesses that can be unaligned */
static int may_be_unaligned(const uint8_t *p, size_t size)
{
    unsigned hw = p[0] | (unsigned)p[1] << 8;
    if (size == 2) {
        unsigned top5 = hw >> 11, top7 = hw >> 9;
        return top5 == 0x0C || top5 == 0x0D || top5 == 0x10 || top5 == 0x11 ||
               top7 == 0x28 || top7 == 0x29 || top7 == 0x2C || top7 == 0x2D || top7 == 0x2F;
    }
    unsigned sz = (hw >> 5) & 3;
    return (hw & 0xFE00) == 0xF800 && (sz == 1 || sz == 2);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    if (n == 0) return;
    struct qemu_plugin_insn *last = qemu_plugin_tb_get_insn(tb, n - 1);
    tb_t t = {qemu_plugin_tb_vaddr(tb), qemu_plugin_insn_vaddr(last) + qemu_plugin_insn_size(last),
              (uint32_t)n, 0};
    for (int m = 0; m < n_marks; m++) t.mark |= t.start == marks[m];
    uint64_t key = (1ull << 63) | (t.start << 12) | n;
    slot_t *s = slot(&tbkeys, &tbkey_bits, &n_tbkeys, key);
    size_t idx;
    if (s->count) {
        idx = s->count - 1;                  /* re-translation of a known block */
    } else {
        if (n_tbs == cap_tbs) {
            cap_tbs = cap_tbs ? 2 * cap_tbs : 4096;
            tbs = realloc(tbs, cap_tbs * sizeof *tbs);
            if (!tbs || cap_tbs >= (1u << 22)) {
                fputs("tinyc_cycles: too many blocks\n", stderr);
                abort();
            }
        }
        idx = n_tbs++;
        tbs[idx] = t;
        s->count = idx + 1;
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)idx);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        size_t size = qemu_plugin_insn_size(insn);
        if (may_be_unaligned(qemu_plugin_insn_data(insn), size))
            qemu_plugin_register_vcpu_mem_cb(insn, mem_access, QEMU_PLUGIN_CB_NO_REGS,
                                             QEMU_PLUGIN_MEM_RW,
                                             (void *)(uintptr_t)qemu_plugin_insn_vaddr(insn));
    }
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id; (void)p;
    FILE *f = fopen(out_path, "w");
    if (!f) { fprintf(stderr, "tinyc_cycles: cannot write %s\n", out_path); return; }
    for (size_t i = 0; i < n_tbs; i++)
        fprintf(f, "tb %zu %llx %llx %u\n", i, (unsigned long long)tbs[i].start,
                (unsigned long long)tbs[i].end, tbs[i].n);
    for (size_t i = 0; i < ((size_t)1 << edge_bits); i++)
        if (edges[i].key) {
            uint64_t k = edges[i].key - 1;
            fprintf(f, "e %llu %lld %llu %llu\n", (unsigned long long)(k >> 44),
                    (long long)((k >> 22) & 0x3FFFFF) - 1, (unsigned long long)(k & 0x3FFFFF),
                    (unsigned long long)edges[i].count);
        }
    for (size_t i = 0; i < ((size_t)1 << unal_bits); i++)
        if (unal[i].key)
            fprintf(f, "ua %llu %llx %llu %llu %llu\n", (unsigned long long)(unal[i].key >> 40),
                    (unsigned long long)(unal[i].key >> 8 & 0xFFFFFFFFull),
                    (unsigned long long)(unal[i].key >> 2 & 0x3F),
                    (unsigned long long)(unal[i].key & 3), (unsigned long long)unal[i].count);
    fclose(f);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) out_path = strdup(argv[i] + 4);
        else if (strncmp(argv[i], "mark=", 5) == 0) {
            for (char *p = argv[i] + 4; *p == '=' || *p == ':';) {
                if (n_marks == 8) { fputs("tinyc_cycles: at most 8 marks\n", stderr); return -1; }
                marks[n_marks++] = strtoull(p + 1, &p, 0);
            }
        }
    }
    if (!out_path) { fputs("tinyc_cycles: expected out=PATH\n", stderr); return -1; }
    edges = calloc((size_t)1 << edge_bits, sizeof *edges);
    tbkeys = calloc((size_t)1 << tbkey_bits, sizeof *tbkeys);
    unal = calloc((size_t)1 << unal_bits, sizeof *unal);
    if (!edges || !tbkeys || !unal) return -1;
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
