// DRM_IOCTL_MODE_ATOMIC from parallel JS arrays. Out-fence properties (OUT_FENCE_PTR, WRITEBACK_OUT_FENCE_PTR)
// take a user pointer to an s32 the kernel fills with a new sync_file fd: the caller names those value slots,
// and this side points them at s32s preset to -1, then returns the fds (to be adopted in TS at once).
#include <zcopy/args.h>
#include <zcopy/blocking.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>

#include <memory>
#include <vector>

#include "kms.h"

namespace zcopy::kms {
namespace {

struct AtomicRequest {
  uint32_t flags = 0;
  uint64_t userData = 0;
  std::vector<uint32_t> objs, counts, props;
  std::vector<uint64_t> values;
  std::vector<uint32_t> fenceSlots;
  std::vector<int32_t> fences;

  // The pointers into this request's own vectors: valid until it is destroyed, on any thread.
  struct drm_mode_atomic Arg() {
    for (size_t k = 0; k < fenceSlots.size(); k++) values[fenceSlots[k]] = PtrOf(&fences[k]);
    auto a = Zeroed<struct drm_mode_atomic>();
    a.flags = flags;
    a.count_objs = objs.size();
    a.objs_ptr = PtrOf(objs.data());
    a.count_props_ptr = PtrOf(counts.data());
    a.props_ptr = PtrOf(props.data());
    a.prop_values_ptr = PtrOf(values.data());
    a.user_data = userData;
    return a;
  }
};

template <typename T, napi_typedarray_type kind>
std::vector<T> Copy(const Napi::CallbackInfo& info, size_t i, const char* name, const char* typeName) {
  Napi::Env env = info.Env();
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != kind)
    throw Napi::TypeError::New(env, ArgName(name) + " must be a " + typeName);
  Napi::TypedArray a = info[i].As<Napi::TypedArray>();
  const T* p = reinterpret_cast<const T*>(static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
  return std::vector<T>(p, p + a.ElementLength());
}

// (fd, flags, objs: Uint32Array, counts: Uint32Array, props: Uint32Array, values: BigUint64Array,
//  fenceSlots: Uint32Array, userData)
std::shared_ptr<AtomicRequest> Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto r = std::make_shared<AtomicRequest>();
  r->flags = U32Arg(info, 1, "flags");
  r->objs = Copy<uint32_t, napi_uint32_array>(info, 2, "objs", "Uint32Array");
  r->counts = Copy<uint32_t, napi_uint32_array>(info, 3, "counts", "Uint32Array");
  r->props = Copy<uint32_t, napi_uint32_array>(info, 4, "props", "Uint32Array");
  r->values = Copy<uint64_t, napi_biguint64_array>(info, 5, "values", "BigUint64Array");
  r->fenceSlots = Copy<uint32_t, napi_uint32_array>(info, 6, "fenceSlots", "Uint32Array");
  r->userData = U64Arg(info, 7, "userData");
  if (r->objs.size() != r->counts.size()) throw Napi::RangeError::New(env, "objs and counts must have the same length");
  uint64_t total = 0;
  for (uint32_t c : r->counts) total += c;
  if (total != r->props.size() || r->props.size() != r->values.size())
    throw Napi::RangeError::New(env, "props and values must each hold the sum of counts");
  for (uint32_t s : r->fenceSlots)
    if (s >= r->values.size()) throw Napi::RangeError::New(env, "fence slot beyond the values");
  r->fences.assign(r->fenceSlots.size(), -1);
  return r;
}

Napi::Value Fences(Napi::Env env, const AtomicRequest& r) {
  Napi::Array out = Napi::Array::New(env, r.fences.size());
  for (size_t k = 0; k < r.fences.size(); k++) out.Set(static_cast<uint32_t>(k), Napi::Number::New(env, r.fences[k]));
  return out;
}

// Returns the out-fence fds, one per fence slot (-1 where the kernel made none, e.g. TEST_ONLY).
Napi::Value AtomicCommit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  std::shared_ptr<AtomicRequest> r = Parse(info);
  auto arg = r->Arg();
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_ATOMIC, &arg);
  return Fences(env, *r);
}

// The same on the threadpool: a blocking commit waits for the hardware (a vblank at least), which the event loop
// must not. Not cancellable: the kernel finishes the commit, so its fence fds always come back to JS.
Napi::Value AtomicCommitBlocking(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  std::shared_ptr<AtomicRequest> r = Parse(info);
  return BlockingCall<int>::Start(
      info.Env(), "ioctl", "DRM_IOCTL_MODE_ATOMIC",
      [fd, r](int&, CancelToken&) -> int {
        auto arg = r->Arg();
        return RetryIoctl(fd, DRM_IOCTL_MODE_ATOMIC, &arg) < 0 ? errno : 0;
      },
      [r](Napi::Env env, int&) -> Napi::Value { return Fences(env, *r); });
}

}  // namespace

void InitAtomic(Napi::Env env, Napi::Object exports) {
  exports.Set("atomicCommit", Napi::Function::New(env, AtomicCommit, "atomicCommit"));
  exports.Set("atomicCommitBlocking", Napi::Function::New(env, AtomicCommitBlocking, "atomicCommitBlocking"));
}

}  // namespace zcopy::kms
