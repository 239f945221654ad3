"""`tinyc build --host` output (Model.write(host=True)) in a normal Linux program: two models,
built with gcc directly, through tinyc.mk (GNU Make, flat object folder) and through the
CMakeLists.txt (CMake), strict warnings; the outputs equal the golden model's."""
from __future__ import annotations

import numpy as np
import pytest

from .conftest import hex_lines, need, run

STRICT = ["-std=c99", "-pedantic", "-O2", "-Wall", "-Wextra", "-Werror", "-Wshadow",
          "-Wmissing-prototypes", "-Wstrict-prototypes"]

MAIN_C = """\
#include <stdio.h>
#include <stdint.h>
#include "digits.h"
#include "digits_pt.h"

#define N {n}
static const int8_t x[N][DIGITS_IN0_SIZE] = {{ {rows} }};
#define MAX(a, b) ((a) > (b) ? (a) : (b))
static int32_t shared[(MAX(DIGITS_ARENA_SIZE, DIGITS_PT_ARENA_SIZE) + 3) / 4];

static void print(const char *model, int s, const int8_t *y, int n)
{{
    int i;
    printf("%s s=%d hex=", model, s);
    for (i = 0; i < n; i++) printf("%02x", (unsigned)(uint8_t)y[i]);
    printf("\\n");
}}

int main(void)
{{
    int8_t y[DIGITS_OUT0_SIZE], z[DIGITS_PT_OUT0_SIZE];
    int s;
    for (s = 0; s < N; s++) {{
        digits_invoke(x[s], y);                                 /* its own static arena */
        print("digits", s, y, DIGITS_OUT0_SIZE);
        digits_pt_invoke_with_arena((int8_t *)shared, x[s], z); /* one arena for both */
        print("digits_pt", s, z, DIGITS_PT_OUT0_SIZE);
        digits_invoke_with_arena((int8_t *)shared, x[s], y);
        print("digits_shared", s, y, DIGITS_OUT0_SIZE);
    }}
    return 0;
}}
"""

MAKEFILE = """\
include models/digits/tinyc.mk
include models/digits_pt/tinyc.mk
include models/digits/tinyc.mk

CFLAGS = {flags} $(TINYC_CFLAGS)
SRCS = main.c $(TINYC_SRCS)
OBJS = $(addprefix obj/,$(notdir $(SRCS:.c=.o)))
vpath %.c $(sort $(dir $(SRCS)))

app: $(OBJS)
\t$(CC) -o $@ $(OBJS)
obj/%.o: %.c | obj
\t$(CC) $(CFLAGS) -c $< -o $@
obj:
\tmkdir -p $@
"""

CMAKE = """\
cmake_minimum_required(VERSION 3.13)
project(host_app C)
add_compile_options({flags})
add_subdirectory(models/digits)
add_subdirectory(models/digits_pt)
add_executable(app main.c)
target_link_libraries(app PRIVATE tinyc::digits tinyc::digits_pt)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory, digits, digits_pt, digits_x):
    """A host project folder: models/digits, models/digits_pt (host builds), main.c."""
    assert digits.inputs[0].scale == digits_pt.inputs[0].scale
    root = tmp_path_factory.mktemp("host_app")
    for m in (digits, digits_pt):
        m.write(root / "models" / m.name, host=True)
    rows = ", ".join("{" + ", ".join(map(str, x.ravel().tolist())) + "}" for x in digits_x)
    (root / "main.c").write_text(MAIN_C.format(n=len(digits_x), rows=rows))
    return root


def _check(stdout: str, digits, digits_pt, digits_x) -> None:
    got = hex_lines(stdout)
    assert len(got) == 3 * len(digits_x)
    for s, x in enumerate(digits_x):
        want, want_pt = digits.interpret(x), digits_pt.interpret(x)
        assert np.array_equal(got["digits", s], want.ravel()), s
        assert np.array_equal(got["digits_shared", s], want.ravel()), s
        assert np.array_equal(got["digits_pt", s], want_pt.ravel()), s
    assert any(not np.array_equal(got["digits", s], got["digits_pt", s])
               for s in range(len(digits_x))), "the two models should differ"


def test_gcc_program_with_two_models(project, digits, digits_pt, digits_x, tmp_path):
    need("gcc")
    srcs = [project / "main.c", *sorted((project / "models").rglob("*.c"))]
    incs = [f"-I{project / 'models' / m}" for m in ("digits", "digits_pt")]
    run(["gcc", *STRICT, *incs, *srcs, "-o", tmp_path / "app"])
    _check(run([tmp_path / "app"]).stdout, digits, digits_pt, digits_x)


def test_make_with_tinyc_mk_flat_objects(project, digits, digits_pt, digits_x):
    need("gcc", "make")
    (project / "Makefile").write_text(MAKEFILE.format(flags=" ".join(STRICT)))
    run(["make", "-C", project, "CC=gcc", "app"])
    _check(run([project / "app"]).stdout, digits, digits_pt, digits_x)


def test_cmake_add_subdirectory(project, digits, digits_pt, digits_x, tmp_path):
    need("gcc", "cmake", "make")
    (project / "CMakeLists.txt").write_text(CMAKE.format(flags=" ".join(STRICT[1:])))
    run(["cmake", "-S", project, "-B", tmp_path, "-DCMAKE_C_COMPILER=gcc"])
    run(["cmake", "--build", tmp_path])
    _check(run([tmp_path / "app"]).stdout, digits, digits_pt, digits_x)


def test_headers_from_cplusplus(project, tmp_path):
    need("g++")
    (tmp_path / "use.cpp").write_text(
        '#include "digits.h"\n#include "digits_pt.h"\n'
        "int main() { static int8_t x[DIGITS_IN0_SIZE], y[DIGITS_OUT0_SIZE];\n"
        "  digits_invoke(x, y); digits_pt_invoke(x, y); return 0; }\n")
    incs = [f"-I{project / 'models' / m}" for m in ("digits", "digits_pt")]
    run(["g++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", *incs,
         tmp_path / "use.cpp"])


def test_external_arena_leaves_out_the_static_arena(project, tmp_path):
    need("gcc", "nm")
    c = project / "models" / "digits" / "digits.c"
    for define, has_static in (("-DDIGITS_EXTERNAL_ARENA", False),
                               ("-DTINYC_EXTERNAL_ARENA", False), ("-DOTHER", True)):
        run(["gcc", *STRICT, define, "-c", c, "-o", tmp_path / "m.o"])
        syms = run(["nm", tmp_path / "m.o"]).stdout
        assert "digits_invoke_with_arena" in syms
        assert (" T digits_invoke\n" in syms) == has_static, define
        assert ("digits_arena" in syms) == has_static, define
