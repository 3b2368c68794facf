// @zcopy/dma-buf native addon: the three operations every dma-buf has, whatever its exporter.
// Raw calls only (numbers in, numbers out); policy and argument rules live in src/dma-buf.ts.
#include <linux/dma-buf.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <limits>

#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

namespace zcopy {
namespace {

ZCOPY_ASSERT_SIZE(dma_buf_sync, 8);
ZCOPY_ASSERT_OFFSET(dma_buf_sync, flags, 0);

// size(fd) -> bytes: dma-bufs only answer lseek(SEEK_END, 0) (and SEEK_SET, 0).
Napi::Value Size(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  off_t end = ::lseek(fd, 0, SEEK_END);
  if (end < 0) ThrowErrno(info.Env(), "lseek");
  return Napi::Number::New(info.Env(), static_cast<double>(end));
}

// lseek(fd, offset, whence) -> position. dma-bufs answer offset 0 from SEEK_SET or SEEK_END, EINVAL otherwise.
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

// sync(fd, flags): DMA_BUF_IOCTL_SYNC with DMA_BUF_SYNC_{START,END} | {READ,WRITE,RW}.
Napi::Value Sync(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto arg = Zeroed<dma_buf_sync>();
  arg.flags = U32Arg(info, 1, "flags");
  ZCOPY_IOCTL(info.Env(), fd, DMA_BUF_IOCTL_SYNC, &arg);
  return info.Env().Undefined();
}

// setName(fd, name): the kernel copies a NUL-terminated string of at most DMA_BUF_NAME_LEN bytes.
Napi::Value SetName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  std::string name = StringArg(info, 1, "name");
  if (name.size() >= DMA_BUF_NAME_LEN || name.find('\0') != std::string::npos)
    throw Napi::RangeError::New(env, "dma-buf names are at most 31 bytes without NUL");
  ZCOPY_IOCTL(env, fd, DMA_BUF_SET_NAME, name.c_str());
  return env.Undefined();
}

// isDmaBuf(fd) -> bool: every dma-buf lives on the kernel's dmabuf pseudo filesystem.
Napi::Value IsDmaBuf(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  struct statfs st;
  if (::fstatfs(fd, &st) < 0) ThrowErrno(info.Env(), "fstatfs");
  return Napi::Boolean::New(info.Env(), st.f_type == DMA_BUF_MAGIC);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("size", Napi::Function::New(env, Size, "size"));
  exports.Set("sync", Napi::Function::New(env, Sync, "sync"));
  exports.Set("lseek", Napi::Function::New(env, Lseek, "lseek"));
  Napi::Object whence = Napi::Object::New(env);
  whence.Set("SET", Napi::Number::New(env, SEEK_SET));
  whence.Set("CUR", Napi::Number::New(env, SEEK_CUR));
  whence.Set("END", Napi::Number::New(env, SEEK_END));
  exports.Set("seekWhence", whence);
  exports.Set("setName", Napi::Function::New(env, SetName, "setName"));
  exports.Set("isDmaBuf", Napi::Function::New(env, IsDmaBuf, "isDmaBuf"));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(::sysconf(_SC_PAGESIZE))));
  Napi::Object c = Napi::Object::New(env);
  c.Set("DMA_BUF_SYNC_READ", Napi::Number::New(env, DMA_BUF_SYNC_READ));
  c.Set("DMA_BUF_SYNC_WRITE", Napi::Number::New(env, DMA_BUF_SYNC_WRITE));
  c.Set("DMA_BUF_SYNC_RW", Napi::Number::New(env, DMA_BUF_SYNC_RW));
  c.Set("DMA_BUF_SYNC_START", Napi::Number::New(env, DMA_BUF_SYNC_START));
  c.Set("DMA_BUF_SYNC_END", Napi::Number::New(env, DMA_BUF_SYNC_END));
  c.Set("DMA_BUF_NAME_LEN", Napi::Number::New(env, DMA_BUF_NAME_LEN));
  exports.Set("constants", c);
  return exports;
}

}  // namespace
}  // namespace zcopy

static Napi::Object InitDmaBuf(Napi::Env env, Napi::Object exports) { return zcopy::Init(env, exports); }
NODE_API_MODULE(zcopy_dma_buf, InitDmaBuf)
