// Linked into every zcopy addon (scripts/build-native.mjs): keeps the shipped binaries loadable on glibc 2.28
// and on GCC 8's libstdc++ or newer (RHEL 8; Debian 11 and Ubuntu 20.04 have GCC 10's), although they are built
// with GCC 12 on glibc 2.36. The packaging suite (test/packaging) checks the highest symbol versions of every binary.
#include <new>

// libstdc++'s headers (ext/atomicity.h, via shared_ptr and std::string) read glibc's __libc_single_threaded
// (GLIBC_2.32) to skip atomic reference counts in single-threaded processes. This hidden definition binds those
// reads inside the addon instead: always 0, "not single-threaded", so the atomic path is always taken, which is
// correct everywhere (Node runs threads from its start).
extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}

// GCC 11+'s std::allocator calls std::__throw_bad_array_new_length (GLIBCXX_3.4.29) for an impossible size;
// build-native links with --wrap for that symbol, so the calls land here (std::bad_array_new_length itself is
// in every libstdc++ since GCC 4.9).
extern "C" {
[[noreturn]] __attribute__((visibility("hidden"))) void __wrap__ZSt28__throw_bad_array_new_lengthv() {
  throw std::bad_array_new_length();
}
}
