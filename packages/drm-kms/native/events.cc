// DRM events: read(2) of the device fd once it polls readable, parsed here (the kernel writes whole events,
// each a drm_event header and its type's body). Never blocks: a zero-timeout poll comes first, because read on
// a blocking DRM fd with no event waits, and another reader of the same fd may have taken the events.
#include <poll.h>
#include <unistd.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>

#include <cstring>

#include "kms.h"

namespace zcopy::kms {
namespace {

Napi::Value ReadEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  Napi::Array out = Napi::Array::New(env);
  struct pollfd p = {fd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(env, "poll");
  if (r == 0 || !(p.revents & POLLIN)) return out;

  // drm_read returns only whole events, as many as fit; 4 KiB is the kernel's per-file event budget.
  alignas(8) uint8_t buf[4096];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return out;
    ThrowErrno(env, "read");
  }
  uint32_t k = 0;
  for (size_t off = 0; off + sizeof(struct drm_event) <= static_cast<size_t>(n);) {
    struct drm_event head;
    std::memcpy(&head, buf + off, sizeof head);
    if (head.length < sizeof head || off + head.length > static_cast<size_t>(n)) break;
    Napi::Object e = Napi::Object::New(env);
    e.Set("type", Napi::Number::New(env, head.type));
    if ((head.type == DRM_EVENT_VBLANK || head.type == DRM_EVENT_FLIP_COMPLETE) &&
        head.length >= sizeof(struct drm_event_vblank)) {
      struct drm_event_vblank v;
      std::memcpy(&v, buf + off, sizeof v);
      e.Set("userData", U64ToJs(env, static_cast<uint64_t>(v.user_data)));
      e.Set("tvSec", Napi::Number::New(env, v.tv_sec));
      e.Set("tvUsec", Napi::Number::New(env, v.tv_usec));
      e.Set("sequence", Napi::Number::New(env, v.sequence));
      e.Set("crtcId", Napi::Number::New(env, v.crtc_id));
    } else if (head.type == DRM_EVENT_CRTC_SEQUENCE && head.length >= sizeof(struct drm_event_crtc_sequence)) {
      struct drm_event_crtc_sequence s;
      std::memcpy(&s, buf + off, sizeof s);
      e.Set("userData", U64ToJs(env, static_cast<uint64_t>(s.user_data)));
      e.Set("timeNs", Napi::BigInt::New(env, static_cast<int64_t>(s.time_ns)));
      e.Set("sequence", U64ToJs(env, static_cast<uint64_t>(s.sequence)));
    }
    out.Set(k++, e);
    off += head.length;
  }
  return out;
}

}  // namespace

void InitEvents(Napi::Env env, Napi::Object exports) {
  exports.Set("readEvents", Napi::Function::New(env, ReadEvents, "readEvents"));
}

}  // namespace zcopy::kms
