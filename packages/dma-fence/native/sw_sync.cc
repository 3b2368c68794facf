// sw_sync (debugfs sync/sw_sync): a software timeline for tests and debugging.
// Its ioctls are not UAPI: no header exports them, so they are defined here as drivers/dma-buf/sw_sync.c
// defines them (Linux 6.1), and the layout and request numbers are pinned with static_asserts.
#include <linux/ioctl.h>
#include <linux/types.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

#include <cstring>
#include <string>

#include "addon.h"

struct sw_sync_create_fence_data {
  __u32 value;
  char name[32];
  __s32 fence; /* fd of new fence */
};

#define SW_SYNC_IOC_MAGIC 'W'
#define SW_SYNC_IOC_CREATE_FENCE _IOWR(SW_SYNC_IOC_MAGIC, 0, struct sw_sync_create_fence_data)
#define SW_SYNC_IOC_INC _IOW(SW_SYNC_IOC_MAGIC, 1, __u32)

ZCOPY_ASSERT_SIZE(struct sw_sync_create_fence_data, 40);
ZCOPY_ASSERT_OFFSET(struct sw_sync_create_fence_data, value, 0);
ZCOPY_ASSERT_OFFSET(struct sw_sync_create_fence_data, name, 4);
ZCOPY_ASSERT_OFFSET(struct sw_sync_create_fence_data, fence, 36);
// The request numbers the kernel decodes (x86-64/arm64 _IOC encoding): a changed struct would change them.
static_assert(SW_SYNC_IOC_CREATE_FENCE == 0xc0285700UL, "SW_SYNC_IOC_CREATE_FENCE changed");
static_assert(SW_SYNC_IOC_INC == 0x40045701UL, "SW_SYNC_IOC_INC changed");

namespace zcopy {
namespace {

// createFence(timelineFd, value, name) -> sync_file fd (the kernel creates it O_CLOEXEC).
Napi::Value CreateFence(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint32_t value = U32Arg(info, 1, "value");
  std::string name = StringArg(info, 2, "name");
  auto arg = Zeroed<sw_sync_create_fence_data>();
  if (name.size() >= sizeof arg.name)
    throw Napi::RangeError::New(env, "a fence name is limited to " + std::to_string(sizeof arg.name - 1) + " bytes");
  arg.value = value;
  std::memcpy(arg.name, name.data(), name.size());
  arg.fence = -1;
  ZCOPY_IOCTL(env, fd, SW_SYNC_IOC_CREATE_FENCE, &arg);
  return Napi::Number::New(env, arg.fence);
}

// inc(timelineFd, n): advances the timeline by n, signalling every fence whose value it reaches.
Napi::Value Inc(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  __u32 n = U32Arg(info, 1, "n");
  ZCOPY_IOCTL(info.Env(), fd, SW_SYNC_IOC_INC, &n);
  return info.Env().Undefined();
}

}  // namespace

void InitSwSync(Napi::Env env, Napi::Object exports) {
  exports.Set("swSyncCreateFence", Napi::Function::New(env, CreateFence, "swSyncCreateFence"));
  exports.Set("swSyncInc", Napi::Function::New(env, Inc, "swSyncInc"));
}

}  // namespace zcopy
