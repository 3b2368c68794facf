// Owned fds: open/close/dup/adopt, plus the fd kinds every package needs (memfd, eventfd).
#include <asm-generic/hugetlb_encode.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>

#include "state.h"

namespace zcopy {
namespace {

Napi::Value Track(Napi::Env env, int fd) {
  GetState(env)->fds.insert(fd);
  return Napi::Number::New(env, fd);
}

// open(path, flags, mode?) -> fd. O_CLOEXEC is always added: a forked child must not inherit device fds.
Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 0, "path");
  int flags = static_cast<int>(IntegerArg(info, 1, "flags", 0, 0x7fffffff));
  mode_t mode = info.Length() > 2 && !info[2].IsUndefined() ? static_cast<mode_t>(U32Arg(info, 2, "mode")) : 0;
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) ThrowErrno(info.Env(), "open", nullptr, path.c_str());
  return Track(info.Env(), fd);
}

// close(fd). Never retried: on Linux the fd is released even when close reports EINTR.
Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  CoreState& state = *GetState(info.Env());
  state.fds.erase(fd);
  ForgetWait(state, fd);
  if (::close(fd) < 0 && errno != EINTR) ThrowErrno(info.Env(), "close");
  return info.Env().Undefined();
}

// adopt(fd): take ownership of an fd created elsewhere (another addon, SCM_RIGHTS, a child process).
Napi::Value Adopt(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  if (::fcntl(fd, F_GETFD) < 0) ThrowErrno(info.Env(), "fcntl");
  return Track(info.Env(), fd);
}

// own(fd): take ownership of an fd the kernel has just returned (an ioctl's new fd): tracked like adopt, without
// adopt's F_GETFD probe (the ioctl's success says it is open).
Napi::Value Own(const Napi::CallbackInfo& info) { return Track(info.Env(), FdArg(info, 0)); }

// release(fd): stop tracking without closing (ownership handed to someone else).
Napi::Value Release(const Napi::CallbackInfo& info) {
  GetState(info.Env())->fds.erase(FdArg(info, 0));
  return info.Env().Undefined();
}

Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  int nfd = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (nfd < 0) ThrowErrno(info.Env(), "fcntl");
  return Track(info.Env(), nfd);
}

Napi::Value TrackedFds(const Napi::CallbackInfo& info) {
  auto state = GetState(info.Env());
  Napi::Array out = Napi::Array::New(info.Env(), state->fds.size());
  uint32_t i = 0;
  for (int fd : state->fds.List()) out.Set(i++, Napi::Number::New(info.Env(), fd));
  return out;
}

// FIONREAD: bytes waiting to be read (pipes, sockets, eventfd-free fds); ENOTTY on fds without ioctls.
Napi::Value Fionread(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  int n = 0;
  ZCOPY_IOCTL(info.Env(), fd, FIONREAD, &n);
  return Napi::Number::New(info.Env(), n);
}

// memfdCreate(name, flags, size?) -> fd; with a size, ftruncate'd to it (the fd is closed if that fails).
Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  std::string name = StringArg(info, 0, "name");
  unsigned flags = U32Arg(info, 1, "flags");
  bool sized = info.Length() > 2 && !info[2].IsUndefined();
  uint64_t size = sized ? U64Arg(info, 2, "size") : 0;
  if (name.size() > 249) throw Napi::RangeError::New(info.Env(), "memfd name is limited to 249 bytes");
  int fd = ::memfd_create(name.c_str(), flags | MFD_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), "memfd_create");
  if (sized) {
    int r;
    do {
      r = ::ftruncate(fd, static_cast<off_t>(size));
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      int err = errno;
      ::close(fd);
      throw KernelError(info.Env(), err, "ftruncate");
    }
  }
  return Track(info.Env(), fd);
}

// ftruncate(fd, size)
Napi::Value Ftruncate(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  uint64_t size = U64Arg(info, 1, "size");
  int r;
  do {
    r = ::ftruncate(fd, static_cast<off_t>(size));
  } while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(info.Env(), "ftruncate");
  return info.Env().Undefined();
}

// eventfdRead(fd) -> bigint: the counter (reset, or less 1 in semaphore mode); EAGAIN when it is 0 and non-blocking.
Napi::Value EventfdRead(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  uint64_t v = 0;
  ssize_t r;
  do {
    r = ::read(fd, &v, sizeof v);
  } while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(info.Env(), "read");
  return Napi::BigInt::New(info.Env(), v);
}

// eventfdWrite(fd, bigint): adds to the counter.
Napi::Value EventfdWrite(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  if (!info[1].IsBigInt()) throw Napi::TypeError::New(info.Env(), "argument 'value' must be a bigint");
  bool lossless = false;
  uint64_t v = info[1].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Napi::RangeError::New(info.Env(), "argument 'value' must fit in 64 bits");
  ssize_t r;
  do {
    r = ::write(fd, &v, sizeof v);
  } while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(info.Env(), "write");
  return info.Env().Undefined();
}

Napi::Value AddSeals(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  int seals = static_cast<int>(U32Arg(info, 1, "seals"));
  if (::fcntl(fd, F_ADD_SEALS, seals) < 0) ThrowErrno(info.Env(), "fcntl", "F_ADD_SEALS");
  return info.Env().Undefined();
}

Napi::Value GetSeals(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0) ThrowErrno(info.Env(), "fcntl", "F_GET_SEALS");
  return Napi::Number::New(info.Env(), seals);
}

// fallocate(fd, mode, offset, length): allocates the pages of a range (hugetlb memfds: faults the huge pages in,
// or ENOSPC when too few are free).
Napi::Value Fallocate(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  int mode = static_cast<int>(U32Arg(info, 1, "mode"));
  off_t offset = static_cast<off_t>(U64Arg(info, 2, "offset"));
  off_t length = static_cast<off_t>(U64Arg(info, 3, "length"));
  int r;
  do {
    r = ::fallocate(fd, mode, offset, length);
  } while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(info.Env(), "fallocate");
  return info.Env().Undefined();
}

Napi::Value Eventfd(const Napi::CallbackInfo& info) {
  unsigned init = U32Arg(info, 0, "initval");
  int flags = static_cast<int>(U32Arg(info, 1, "flags"));
  int fd = ::eventfd(init, flags | EFD_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), "eventfd");
  return Track(info.Env(), fd);
}

}  // namespace

void InitFds(Napi::Env env, Napi::Object exports) {
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("adopt", Napi::Function::New(env, Adopt, "adopt"));
  exports.Set("own", Napi::Function::New(env, Own, "own"));
  exports.Set("release", Napi::Function::New(env, Release, "release"));
  exports.Set("dup", Napi::Function::New(env, Dup, "dup"));
  exports.Set("trackedFds", Napi::Function::New(env, TrackedFds, "trackedFds"));
  exports.Set("fionread", Napi::Function::New(env, Fionread, "fionread"));
  exports.Set("memfdCreate", Napi::Function::New(env, MemfdCreate, "memfdCreate"));
  exports.Set("addSeals", Napi::Function::New(env, AddSeals, "addSeals"));
  exports.Set("getSeals", Napi::Function::New(env, GetSeals, "getSeals"));
  exports.Set("eventfd", Napi::Function::New(env, Eventfd, "eventfd"));
  exports.Set("fallocate", Napi::Function::New(env, Fallocate, "fallocate"));
  exports.Set("eventfdRead", Napi::Function::New(env, EventfdRead, "eventfdRead"));
  exports.Set("eventfdWrite", Napi::Function::New(env, EventfdWrite, "eventfdWrite"));
  exports.Set("ftruncate", Napi::Function::New(env, Ftruncate, "ftruncate"));

  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(::sysconf(_SC_PAGESIZE))));
  Napi::Object c = Napi::Object::New(env);
  c.Set("MFD_ALLOW_SEALING", Napi::Number::New(env, MFD_ALLOW_SEALING));
  c.Set("MFD_HUGETLB", Napi::Number::New(env, MFD_HUGETLB));
  c.Set("MFD_HUGE_SHIFT", Napi::Number::New(env, HUGETLB_FLAG_ENCODE_SHIFT));
  c.Set("MFD_HUGE_MASK", Napi::Number::New(env, HUGETLB_FLAG_ENCODE_MASK));
  c.Set("F_SEAL_SEAL", Napi::Number::New(env, F_SEAL_SEAL));
  c.Set("F_SEAL_SHRINK", Napi::Number::New(env, F_SEAL_SHRINK));
  c.Set("F_SEAL_GROW", Napi::Number::New(env, F_SEAL_GROW));
  c.Set("F_SEAL_WRITE", Napi::Number::New(env, F_SEAL_WRITE));
  c.Set("EFD_NONBLOCK", Napi::Number::New(env, EFD_NONBLOCK));
  c.Set("EFD_SEMAPHORE", Napi::Number::New(env, EFD_SEMAPHORE));
  c.Set("PROT_READ", Napi::Number::New(env, PROT_READ));
  c.Set("PROT_WRITE", Napi::Number::New(env, PROT_WRITE));
  c.Set("MAP_SHARED", Napi::Number::New(env, MAP_SHARED));
  c.Set("MAP_PRIVATE", Napi::Number::New(env, MAP_PRIVATE));
  c.Set("POLLIN", Napi::Number::New(env, UV_READABLE));
  c.Set("POLLOUT", Napi::Number::New(env, UV_WRITABLE));
  c.Set("POLLPRI", Napi::Number::New(env, UV_PRIORITIZED));
  exports.Set("constants", c);
}

}  // namespace zcopy
