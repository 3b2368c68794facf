// lseek on an exported dma-buf: the kernel answers only offset 0 from SEEK_SET or SEEK_END (the size) and
// refuses every other seek with EINVAL. Raw, for the VM tests of exports (DmaBuf.size covers the size).
#include <unistd.h>
#include <zcopy/args.h>
#include <zcopy/errors.h>

#include <limits>

#include "drm.h"

namespace zcopy::drm {
namespace {

Napi::Value Lseek(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int64_t offset =
      IntegerArg(info, 1, "offset", std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  int whence = static_cast<int>(IntegerArg(info, 2, "whence", 0, 4));
  off_t r = ::lseek(fd, static_cast<off_t>(offset), whence);
  if (r < 0) ThrowErrno(env, "lseek");
  return Napi::Number::New(env, static_cast<double>(r));
}

}  // namespace

void InitSeek(Napi::Env env, Napi::Object exports) {
  exports.Set("lseek", Napi::Function::New(env, Lseek, "lseek"));
  Napi::Object whence = Napi::Object::New(env);
  whence.Set("SET", Napi::Number::New(env, SEEK_SET));
  whence.Set("CUR", Napi::Number::New(env, SEEK_CUR));
  whence.Set("END", Napi::Number::New(env, SEEK_END));
  exports.Set("seekWhence", whence);
}

}  // namespace zcopy::drm
