"""boards/minilibc.c: the word-wise memcpy / memset give the bytes of a byte loop for every
source / destination alignment and length (host gcc, the functions under other names)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from needs import need_tools

MAIN = r"""
#include <stdio.h>
#include <stdint.h>
#include <string.h>
void *t_memcpy(void *, const void *, size_t);
void *t_memset(void *, int, size_t);
int main(void)
{
    static uint8_t src[200], a[200], b[200];
    int bad = 0, so, dof, n, i;
    for (i = 0; i < 200; ++i) src[i] = (uint8_t)(i * 37 + 11);
    for (so = 0; so < 8; ++so)
        for (dof = 0; dof < 8; ++dof)
            for (n = 0; n < 80; ++n) {
                for (i = 0; i < 200; ++i) a[i] = b[i] = (uint8_t)(255 - i);
                bad += t_memcpy(a + dof, src + so, (size_t)n) != a + dof;
                for (i = 0; i < n; ++i) b[dof + i] = src[so + i];
                bad += memcmp(a, b, 200) != 0;
                bad += t_memset(a + dof, so * 40 - 100, (size_t)n) != a + dof;
                for (i = 0; i < n; ++i) b[dof + i] = (uint8_t)(so * 40 - 100);
                bad += memcmp(a, b, 200) != 0;
            }
    printf("bad=%d\n", bad);
    return 0;
}
"""


def test_word_memcpy_memset(repo_root, tmp_path):
    need_tools("gcc")
    names = [f"-D{f}=t_{f}" for f in ("memcpy", "memset", "memmove", "memcmp")]
    (tmp_path / "main.c").write_text(MAIN)
    lib = Path(repo_root) / "boards" / "minilibc.c"
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-fno-builtin",
                    "-ffreestanding", *names, "-c", str(lib), "-o", str(tmp_path / "m.o")],
                   check=True)
    subprocess.run(["gcc", "-O2", str(tmp_path / "main.c"), str(tmp_path / "m.o"), "-o",
                    str(tmp_path / "t")], check=True)
    out = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "bad=0"
