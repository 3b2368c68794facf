// @zcopy/gntdev-dmabuf native addon: the four dma-buf ioctls of /dev/xen/gntdev. Numbers in, numbers out; the
// gntdev fd and every dma-buf fd are owned by the TS side.
#include <poll.h>
#include <unistd.h>

#include <cstdint>

// The Linux UAPI header names grant_ref_t and domid_t without defining them: Xen's public headers do.
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/gntdev.h>

#include <zcopy/args.h>
#include <zcopy/blocking.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

ZCOPY_ASSERT_SIZE(struct ioctl_gntdev_dmabuf_exp_from_refs, 20);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_dmabuf_exp_from_refs, count, 4);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_dmabuf_exp_from_refs, fd, 8);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_dmabuf_exp_from_refs, domid, 12);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_dmabuf_exp_from_refs, refs, 16);
ZCOPY_ASSERT_SIZE(struct ioctl_gntdev_dmabuf_exp_wait_released, 8);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_dmabuf_exp_wait_released, wait_to_ms, 4);
ZCOPY_ASSERT_SIZE(struct ioctl_gntdev_dmabuf_imp_to_refs, 20);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_dmabuf_imp_to_refs, count, 4);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_dmabuf_imp_to_refs, domid, 8);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_dmabuf_imp_to_refs, reserved, 12);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_dmabuf_imp_to_refs, refs, 16);
ZCOPY_ASSERT_SIZE(struct ioctl_gntdev_dmabuf_imp_release, 8);

namespace zcopy {
namespace {

// Both ref-carrying structs end in a one-element array: allocate each with room for `count` refs, zeroed.
template <typename T>
std::unique_ptr<T, decltype(&std::free)> WithRefs(Napi::Env env, size_t count) {
  if (count == 0) throw Napi::RangeError::New(env, "at least one grant ref is needed");
  if (count > 0x7fffffff / sizeof(uint32_t)) throw Napi::RangeError::New(env, "too many grant refs");
  size_t bytes = sizeof(T) + (count - 1) * sizeof(uint32_t);
  std::unique_ptr<T, decltype(&std::free)> p(static_cast<T*>(std::calloc(1, bytes)), &std::free);
  if (!p) throw Napi::Error::New(env, "out of memory for the grant refs");
  return p;
}

uint32_t DomidArg(const Napi::CallbackInfo& info, size_t i) {
  uint32_t domid = U32Arg(info, i, "domid");
  if (domid >= DOMID_FIRST_RESERVED)
    throw Napi::RangeError::New(info.Env(), "domid must be below DOMID_FIRST_RESERVED");
  return domid;
}

// expFromRefs(gntdevFd, flags, domid, refs: Uint32Array) -> dma-buf fd.
Napi::Value ExpFromRefs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint32_t flags = U32Arg(info, 1, "flags");
  uint32_t domid = DomidArg(info, 2);
  Napi::Value v = info[3];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(env, "argument 'refs' must be a Uint32Array");
  Napi::Uint32Array refs = v.As<Napi::Uint32Array>();
  size_t count = refs.ElementLength();
  auto op = WithRefs<ioctl_gntdev_dmabuf_exp_from_refs>(env, count);
  op->flags = flags;
  op->count = static_cast<uint32_t>(count);
  op->domid = domid;
  op->fd = static_cast<uint32_t>(-1);
  for (size_t i = 0; i < count; i++) op->refs[i] = refs[i];
  ZCOPY_IOCTL(env, fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op.get());
  // The kernel installs the fd close-on-exec (gntdev-dmabuf.c: O_CLOEXEC), as every fd we create must be: no
  // fcntl of our own, a syscall libxengnttab does not make. The VM test asserts the flag on the exports.
  return Napi::Number::New(env, static_cast<int>(op->fd));
}

// expWaitReleasedAsync(gntdevFd, dmabufFd, timeoutMs) -> { promise, cancel }: the promise resolves to 0 (released),
// ENOENT (not exported by this gntdev fd, or released before the call) or ETIMEDOUT. The ioctl itself cannot be
// interrupted, so it is called in slices of at most 100 ms with the cancel fd checked between them.
Napi::Value ExpWaitReleasedAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int dmabuf = FdArg(info, 1, "dmabufFd");
  uint32_t timeoutMs = U32Arg(info, 2, "timeoutMs");
  auto work = [fd, dmabuf, timeoutMs](int& result, CancelToken& cancel) -> int {
    uint32_t left = timeoutMs;
    // ENOENT after a slice that timed out means the buffer went while we waited: that is a release, not
    // "already released".
    bool waited = false;
    for (;;) {
      auto op = Zeroed<ioctl_gntdev_dmabuf_exp_wait_released>();
      op.fd = static_cast<uint32_t>(dmabuf);
      op.wait_to_ms = std::min<uint32_t>(left, 100);
      int r = RetryIoctl(fd, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &op);
      if (r == 0) return result = 0;
      if (errno == ENOENT) return (result = waited ? 0 : ENOENT), 0;
      if (errno != ETIMEDOUT) return errno;
      waited = true;
      left -= op.wait_to_ms;
      if (left == 0) return (result = ETIMEDOUT), 0;
      if (cancel.cancelled()) return ECANCELED;  // checked between slices: no cancel fd needed
    }
  };
  auto done = [](Napi::Env e, int& result) -> Napi::Value { return Napi::Number::New(e, result); };
  return BlockingCall<int>::Start(env, "ioctl", "IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED", work, done);
}

// impToRefs(gntdevFd, dmabufFd, domid, count) -> Uint32Array of `count` refs granted to domid.
Napi::Value ImpToRefs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int dmabuf = FdArg(info, 1, "dmabufFd");
  uint32_t domid = DomidArg(info, 2);
  uint32_t count = U32Arg(info, 3, "count");
  auto op = WithRefs<ioctl_gntdev_dmabuf_imp_to_refs>(env, count);
  op->fd = static_cast<uint32_t>(dmabuf);
  op->count = count;
  op->domid = domid;
  ZCOPY_IOCTL(env, fd, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op.get());
  Napi::Uint32Array out = Napi::Uint32Array::New(env, count);
  for (uint32_t i = 0; i < count; i++) out[i] = op->refs[i];
  return out;
}

// impRelease(gntdevFd, dmabufFd): ends the grants and detaches from the dma-buf.
Napi::Value ImpRelease(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_gntdev_dmabuf_imp_release>();
  op.fd = static_cast<uint32_t>(FdArg(info, 1, "dmabufFd"));
  ZCOPY_IOCTL(info.Env(), fd, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, &op);
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("expFromRefs", Napi::Function::New(env, ExpFromRefs, "expFromRefs"));
  exports.Set("expWaitReleasedAsync", Napi::Function::New(env, ExpWaitReleasedAsync, "expWaitReleasedAsync"));
  exports.Set("impToRefs", Napi::Function::New(env, ImpToRefs, "impToRefs"));
  exports.Set("impRelease", Napi::Function::New(env, ImpRelease, "impRelease"));
  Napi::Object c = Napi::Object::New(env);
  c.Set("GNTDEV_DMA_FLAG_WC", Napi::Number::New(env, GNTDEV_DMA_FLAG_WC));
  c.Set("GNTDEV_DMA_FLAG_COHERENT", Napi::Number::New(env, GNTDEV_DMA_FLAG_COHERENT));
  c.Set("DOMID_FIRST_RESERVED", Napi::Number::New(env, DOMID_FIRST_RESERVED));
  c.Set("PAGE_SIZE", Napi::Number::New(env, static_cast<double>(::sysconf(_SC_PAGESIZE))));
  c.Set("ENOENT", Napi::Number::New(env, ENOENT));
  c.Set("ETIMEDOUT", Napi::Number::New(env, ETIMEDOUT));
  exports.Set("constants", c);
  return exports;
}

}  // namespace zcopy

static Napi::Object InitGntdevDmabuf(Napi::Env env, Napi::Object exports) { return zcopy::Init(env, exports); }
NODE_API_MODULE(zcopy_gntdev_dmabuf, InitGntdevDmabuf)
