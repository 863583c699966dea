// STRATA_CHECK: an invariant assertion that stays on in every build type (programmer errors
// crash loudly; expected failures return Status instead).
#pragma once

#include <cstdio>
#include <cstdlib>

#define STRATA_CHECK(cond)                                                                   \
    do {                                                                                     \
        if (__builtin_expect(!(cond), 0)) {                                                  \
            std::fprintf(stderr, "strata: invariant failed: %s at %s:%d\n", #cond, __FILE__, \
                         __LINE__);                                                          \
            std::abort();                                                                    \
        }                                                                                    \
    } while (0)
