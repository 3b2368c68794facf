// Compile-time checks that the kernel UAPI structs we pass have the layout the code relies on.
#pragma once
#include <cstddef>

#define ZCOPY_ASSERT_SIZE(type, bytes) static_assert(sizeof(type) == (bytes), "sizeof(" #type ") changed")
#define ZCOPY_ASSERT_OFFSET(type, field, bytes) \
  static_assert(offsetof(type, field) == (bytes), "offsetof(" #type ", " #field ") changed")
