// gntalloc: allocate zeroed pages granted to a domain (mmap of the returned offset maps them here), release
// them, and unmap notifications. Numbers in, numbers out.
#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

#include <cstdlib>
#include <memory>

#include "addon.h"

ZCOPY_ASSERT_SIZE(struct ioctl_gntalloc_alloc_gref, 24);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntalloc_alloc_gref, flags, 2);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntalloc_alloc_gref, count, 4);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntalloc_alloc_gref, index, 8);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntalloc_alloc_gref, gref_ids, 16);
ZCOPY_ASSERT_SIZE(struct ioctl_gntalloc_dealloc_gref, 16);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntalloc_dealloc_gref, count, 8);
ZCOPY_ASSERT_SIZE(struct ioctl_gntalloc_unmap_notify, 16);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntalloc_unmap_notify, action, 8);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntalloc_unmap_notify, event_channel_port, 12);

namespace zcopy {
namespace {

// allocGrefs(fd, domid, writable, count) -> { index, refs: Uint32Array }
Napi::Value AllocGrefs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint32_t domid = U32Arg(info, 1, "domid");
  if (domid >= DOMID_FIRST_RESERVED) throw Napi::RangeError::New(env, "domid must be below DOMID_FIRST_RESERVED");
  bool writable = info[2].ToBoolean();
  uint32_t count = U32Arg(info, 3, "count");
  if (count == 0) throw Napi::RangeError::New(env, "count must be at least 1");
  if (count > 0x7fffffff / sizeof(uint32_t)) throw Napi::RangeError::New(env, "count is too large");
  size_t bytes = sizeof(ioctl_gntalloc_alloc_gref) + (count - 1) * sizeof(uint32_t);
  std::unique_ptr<void, decltype(&std::free)> mem(std::calloc(1, bytes), &std::free);
  if (!mem) throw Napi::Error::New(env, "out of memory for the grant ref list");
  auto* op = static_cast<ioctl_gntalloc_alloc_gref*>(mem.get());
  op->domid = static_cast<uint16_t>(domid);
  op->flags = writable ? GNTALLOC_FLAG_WRITABLE : 0;
  op->count = count;
  ZCOPY_IOCTL(env, fd, IOCTL_GNTALLOC_ALLOC_GREF, op);
  Napi::Uint32Array refs = Napi::Uint32Array::New(env, count);
  for (uint32_t i = 0; i < count; i++) refs[i] = op->gref_ids[i];
  Napi::Object out = Napi::Object::New(env);
  out.Set("index", Napi::Number::New(env, static_cast<double>(op->index)));
  out.Set("refs", refs);
  return out;
}

// deallocGrefs(fd, index, count): the grants end once no mapping here or in the peer uses the pages.
Napi::Value DeallocGrefs(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_gntalloc_dealloc_gref>();
  op.index = U64Arg(info, 1, "index");
  op.count = U32Arg(info, 2, "count");
  ZCOPY_IOCTL(info.Env(), fd, IOCTL_GNTALLOC_DEALLOC_GREF, &op);
  return info.Env().Undefined();
}

// setUnmapNotify(fd, index, action, port): index is the file offset of the byte to clear.
Napi::Value SetUnmapNotify(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_gntalloc_unmap_notify>();
  op.index = U64Arg(info, 1, "index");
  op.action = U32Arg(info, 2, "action");
  op.event_channel_port = U32Arg(info, 3, "port");
  ZCOPY_IOCTL(info.Env(), fd, IOCTL_GNTALLOC_SET_UNMAP_NOTIFY, &op);
  return info.Env().Undefined();
}

}  // namespace

void InitGntalloc(Napi::Env env, Napi::Object exports) {
  exports.Set("allocGrefs", Napi::Function::New(env, AllocGrefs, "allocGrefs"));
  exports.Set("deallocGrefs", Napi::Function::New(env, DeallocGrefs, "deallocGrefs"));
  exports.Set("gntallocSetUnmapNotify", Napi::Function::New(env, SetUnmapNotify, "gntallocSetUnmapNotify"));
}

}  // namespace zcopy
