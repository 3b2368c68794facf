// gntdev: reserve a batch of foreign grants at a file offset (mmap of that offset maps them), release it,
// unmap notifications, and the offset of a mapped address. Numbers in, numbers out.
#include <unistd.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "addon.h"

ZCOPY_ASSERT_SIZE(struct ioctl_gntdev_grant_ref, 8);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_grant_ref, ref, 4);
ZCOPY_ASSERT_SIZE(struct ioctl_gntdev_map_grant_ref, 24);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_map_grant_ref, index, 8);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_map_grant_ref, refs, 16);
ZCOPY_ASSERT_SIZE(struct ioctl_gntdev_unmap_grant_ref, 16);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_unmap_grant_ref, count, 8);
ZCOPY_ASSERT_SIZE(struct ioctl_gntdev_get_offset_for_vaddr, 24);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_get_offset_for_vaddr, offset, 8);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_get_offset_for_vaddr, count, 16);
ZCOPY_ASSERT_SIZE(struct ioctl_gntdev_set_max_grants, 4);
ZCOPY_ASSERT_SIZE(struct ioctl_gntdev_unmap_notify, 16);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_unmap_notify, action, 8);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_unmap_notify, event_channel_port, 12);

namespace zcopy {
namespace {

// mapGrantRefs(fd, domids: Uint32Array, refs: Uint32Array) -> index (the mmap offset of the batch).
// One domid applies to every ref; otherwise one per ref. The kernel only records the refs here: the hypervisor
// maps them when the offset is mmapped, so a bad ref fails at mmap.
Napi::Value MapGrantRefs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  Napi::Uint32Array domids = U32ArrayArg(info, 1, "domids");
  Napi::Uint32Array refs = U32ArrayArg(info, 2, "refs");
  size_t count = refs.ElementLength();
  if (count == 0) throw Napi::RangeError::New(env, "at least one grant ref is needed");
  if (count > 0x7fffffff / sizeof(ioctl_gntdev_grant_ref))
    throw Napi::RangeError::New(env, "too many grant refs for one batch");
  if (domids.ElementLength() != 1 && domids.ElementLength() != count)
    throw Napi::RangeError::New(env, "domids must hold one domid, or one per ref");
  // The struct ends in a one-element array: allocate it with room for every ref.
  size_t bytes = sizeof(ioctl_gntdev_map_grant_ref) + (count - 1) * sizeof(ioctl_gntdev_grant_ref);
  std::unique_ptr<void, decltype(&std::free)> mem(std::calloc(1, bytes), &std::free);
  if (!mem) throw Napi::Error::New(env, "out of memory for the grant ref batch");
  auto* op = static_cast<ioctl_gntdev_map_grant_ref*>(mem.get());
  op->count = static_cast<uint32_t>(count);
  for (size_t i = 0; i < count; i++) {
    uint32_t domid = domids[domids.ElementLength() == 1 ? 0 : i];
    if (domid >= DOMID_FIRST_RESERVED) throw Napi::RangeError::New(env, "domid must be below DOMID_FIRST_RESERVED");
    op->refs[i].domid = domid;
    op->refs[i].ref = refs[i];
  }
  ZCOPY_IOCTL(env, fd, IOCTL_GNTDEV_MAP_GRANT_REF, op);
  return Napi::Number::New(env, static_cast<double>(op->index));
}

// unmapGrantRef(fd, index, count): releases a batch (its pages go back once no mapping uses them).
Napi::Value UnmapGrantRef(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_gntdev_unmap_grant_ref>();
  op.index = U64Arg(info, 1, "index");
  op.count = U32Arg(info, 2, "count");
  ZCOPY_IOCTL(info.Env(), fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &op);
  return info.Env().Undefined();
}

// setUnmapNotify(fd, index, action, port): index is the file offset of the byte to clear.
Napi::Value SetUnmapNotify(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_gntdev_unmap_notify>();
  op.index = U64Arg(info, 1, "index");
  op.action = U32Arg(info, 2, "action");
  op.event_channel_port = U32Arg(info, 3, "port");
  ZCOPY_IOCTL(info.Env(), fd, IOCTL_GNTDEV_SET_UNMAP_NOTIFY, &op);
  return info.Env().Undefined();
}

// setMaxGrants(fd, count): kernels since 4.x no longer implement it (ENOTTY); the TS side decides what that means.
Napi::Value SetMaxGrants(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_gntdev_set_max_grants>();
  op.count = U32Arg(info, 1, "count");
  ZCOPY_IOCTL(info.Env(), fd, IOCTL_GNTDEV_SET_MAX_GRANTS, &op);
  return info.Env().Undefined();
}

// offsetForAddress(fd, arrayBuffer) -> { offset, count } of the gntdev mapping holding the buffer's first byte.
Napi::Value OffsetForAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  if (!info[1].IsArrayBuffer()) throw Napi::TypeError::New(env, "argument 'buffer' must be an ArrayBuffer");
  void* data = info[1].As<Napi::ArrayBuffer>().Data();
  if (data == nullptr) throw Napi::RangeError::New(env, "the buffer is detached (unmapped)");
  auto op = Zeroed<ioctl_gntdev_get_offset_for_vaddr>();
  op.vaddr = reinterpret_cast<uintptr_t>(data);
  ZCOPY_IOCTL(env, fd, IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR, &op);
  Napi::Object out = Napi::Object::New(env);
  out.Set("offset", Napi::Number::New(env, static_cast<double>(op.offset)));
  out.Set("count", Napi::Number::New(env, op.count));
  return out;
}

}  // namespace

void InitGntdev(Napi::Env env, Napi::Object exports) {
  exports.Set("mapGrantRefs", Napi::Function::New(env, MapGrantRefs, "mapGrantRefs"));
  exports.Set("unmapGrantRef", Napi::Function::New(env, UnmapGrantRef, "unmapGrantRef"));
  exports.Set("gntdevSetUnmapNotify", Napi::Function::New(env, SetUnmapNotify, "gntdevSetUnmapNotify"));
  exports.Set("setMaxGrants", Napi::Function::New(env, SetMaxGrants, "setMaxGrants"));
  exports.Set("offsetForAddress", Napi::Function::New(env, OffsetForAddress, "offsetForAddress"));
  Napi::Object c = exports.Get("constants").As<Napi::Object>();
  c.Set("UNMAP_NOTIFY_CLEAR_BYTE", Napi::Number::New(env, UNMAP_NOTIFY_CLEAR_BYTE));
  c.Set("UNMAP_NOTIFY_SEND_EVENT", Napi::Number::New(env, UNMAP_NOTIFY_SEND_EVENT));
  c.Set("DOMID_FIRST_RESERVED", Napi::Number::New(env, DOMID_FIRST_RESERVED));
  c.Set("DOMID_SELF", Napi::Number::New(env, DOMID_SELF));
  c.Set("PAGE_SIZE", Napi::Number::New(env, static_cast<double>(::sysconf(_SC_PAGESIZE))));
  c.Set("XEN_PAGE_SIZE", Napi::Number::New(env, kXenPageSize));
}

}  // namespace zcopy
