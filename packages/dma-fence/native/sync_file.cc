// sync_file: status, per-fence info, merge, and a blocking poll for the sync variant of wait.
// Raw calls only (numbers in, numbers out): the TS side owns the fds and the policy.
#include <linux/sync_file.h>
#include <poll.h>
#include <time.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

#include <cstring>
#include <string>
#include <vector>

#include "addon.h"

ZCOPY_ASSERT_SIZE(struct sync_merge_data, 48);
ZCOPY_ASSERT_OFFSET(struct sync_merge_data, fd2, 32);
ZCOPY_ASSERT_OFFSET(struct sync_merge_data, fence, 36);
ZCOPY_ASSERT_OFFSET(struct sync_merge_data, flags, 40);
ZCOPY_ASSERT_SIZE(struct sync_fence_info, 80);
ZCOPY_ASSERT_OFFSET(struct sync_fence_info, driver_name, 32);
ZCOPY_ASSERT_OFFSET(struct sync_fence_info, status, 64);
ZCOPY_ASSERT_OFFSET(struct sync_fence_info, timestamp_ns, 72);
ZCOPY_ASSERT_SIZE(struct sync_file_info, 56);
ZCOPY_ASSERT_OFFSET(struct sync_file_info, status, 32);
ZCOPY_ASSERT_OFFSET(struct sync_file_info, num_fences, 40);
ZCOPY_ASSERT_OFFSET(struct sync_file_info, sync_fence_info, 48);

namespace zcopy {
namespace {

// The kernel NUL-terminates its strings, but never trust a fixed array to hold one.
std::string FixedString(const char* s, size_t cap) { return std::string(s, strnlen(s, cap)); }

// status(fd) -> 1 signalled, 0 active, -errno signalled with an error.
// num_fences = 0 asks for the sync_file's own status without copying any fence info.
Napi::Value Status(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto arg = Zeroed<sync_file_info>();
  ZCOPY_IOCTL(info.Env(), fd, SYNC_IOC_FILE_INFO, &arg);
  return Napi::Number::New(info.Env(), arg.status);
}

// info(fd) -> { name, status, fences: [{ timeline, driver, status, timestampNs }] }
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto count = Zeroed<sync_file_info>();
  ZCOPY_IOCTL(env, fd, SYNC_IOC_FILE_INFO, &count);

  // A sync_file's fence set never changes, so the count from the first call holds for the second.
  std::vector<sync_fence_info> fences(count.num_fences);
  if (!fences.empty()) std::memset(fences.data(), 0, fences.size() * sizeof(sync_fence_info));
  auto arg = Zeroed<sync_file_info>();
  arg.num_fences = count.num_fences;
  arg.sync_fence_info = reinterpret_cast<uintptr_t>(fences.data());
  // With num_fences = 0 the kernel copies no fence info and reports the sync_file's own status.
  ZCOPY_IOCTL(env, fd, SYNC_IOC_FILE_INFO, &arg);

  Napi::Object out = Napi::Object::New(env);
  out.Set("name", FixedString(arg.name, sizeof arg.name));
  out.Set("status", Napi::Number::New(env, count.status));
  Napi::Array list = Napi::Array::New(env, arg.num_fences);
  for (uint32_t i = 0; i < arg.num_fences && i < fences.size(); i++) {
    const sync_fence_info& f = fences[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("timeline", FixedString(f.obj_name, sizeof f.obj_name));
    o.Set("driver", FixedString(f.driver_name, sizeof f.driver_name));
    o.Set("status", Napi::Number::New(env, f.status));
    o.Set("timestampNs", Napi::BigInt::New(env, static_cast<uint64_t>(f.timestamp_ns)));
    list.Set(i, o);
  }
  out.Set("fences", list);
  return out;
}

// merge(fd, fd2, name) -> new sync_file fd (O_CLOEXEC: the kernel's get_unused_fd_flags sets it).
Napi::Value Merge(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int fd2 = FdArg(info, 1, "fd2");
  std::string name = StringArg(info, 2, "name");
  auto arg = Zeroed<sync_merge_data>();
  if (name.size() >= sizeof arg.name)
    throw Napi::RangeError::New(env,
                                "a sync_file name is limited to " + std::to_string(sizeof arg.name - 1) + " bytes");
  std::memcpy(arg.name, name.data(), name.size());
  arg.fd2 = fd2;
  arg.fence = -1;
  ZCOPY_IOCTL(env, fd, SYNC_IOC_MERGE, &arg);
  return Napi::Number::New(env, arg.fence);
}

int64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// poll(fd, events, timeoutMs) -> revents (0 on timeout). Blocks the calling thread: only the sync variants
// (scripts, isIdle with timeout 0) use it. A signal interrupting the wait resumes it with the time left.
Napi::Value Poll(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  short events = static_cast<short>(IntegerArg(info, 1, "events", 0, 0x7fff));
  int timeoutMs = static_cast<int>(IntegerArg(info, 2, "timeoutMs", -1, 0x7fffffff));
  const int64_t deadline = timeoutMs < 0 ? -1 : NowMs() + timeoutMs;
  pollfd p{fd, events, 0};
  for (;;) {
    int left = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - NowMs()));
    int r = ::poll(&p, 1, left);
    if (r >= 0) return Napi::Number::New(info.Env(), r == 0 ? 0 : p.revents);
    if (errno != EINTR) ThrowErrno(info.Env(), "poll");
  }
}

}  // namespace

void InitSyncFile(Napi::Env env, Napi::Object exports) {
  exports.Set("status", Napi::Function::New(env, Status, "status"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("merge", Napi::Function::New(env, Merge, "merge"));
  exports.Set("poll", Napi::Function::New(env, Poll, "poll"));
  Napi::Object c = exports.Get("constants").As<Napi::Object>();
  c.Set("POLLIN", Napi::Number::New(env, POLLIN));
  c.Set("POLLOUT", Napi::Number::New(env, POLLOUT));
  c.Set("POLLERR", Napi::Number::New(env, POLLERR));
  c.Set("POLLNVAL", Napi::Number::New(env, POLLNVAL));
}

}  // namespace zcopy
