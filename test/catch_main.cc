// The main of every Catch2 test binary. Binaries built with AMBIT_ROOT_TESTS (label "root") need
// root for what they test (network namespaces, nftables); run by another user they report every
// case skipped, and CTest counts them as skipped, never as passed or failed.
#define CATCH_CONFIG_RUNNER
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <catch2/catch.hpp>

int main(int argc, char** argv) {
#ifdef AMBIT_ROOT_TESTS
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--list", 6) == 0) listing = true;
  }
  if (!listing && ::geteuid() != 0) {
    std::printf("skipped: needs root (network namespaces); run as root to test this\n");
    return 0;
  }
#endif
  return Catch::Session().run(argc, argv);
}
