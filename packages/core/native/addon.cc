// @zcopy/core native addon: owned fds, mmap, uv_poll waits and off-loop blocking calls.
#include <sys/mman.h>
#include <unistd.h>

#include "state.h"

namespace zcopy {

namespace {
// The instance data holds a shared_ptr so that GC finalizers running after teardown still find the state.
struct StateHolder {
  std::shared_ptr<CoreState> state;
};

void Teardown(void* arg) {
  auto* holder = static_cast<StateHolder*>(arg);
  CoreState& s = *holder->state;
  s.tornDown = true;
  ClosePollers(s);  // stop before close: no uv_poll may watch an fd we close below
  for (int fd : s.fds) ::close(fd);
  s.fds.clear();
  for (auto& [addr, m] : s.mappings) {
    if (!m->unmapped) ::munmap(m->addr, m->length);
    m->unmapped = true;
  }
}
}  // namespace

std::shared_ptr<CoreState> GetState(Napi::Env env) { return env.GetInstanceData<StateHolder>()->state; }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* holder = new StateHolder{std::make_shared<CoreState>()};
  env.SetInstanceData<StateHolder>(holder);  // deleted by node-addon-api at env teardown
  napi_add_env_cleanup_hook(env, Teardown, holder);
  InitFds(env, exports);
  InitMmap(env, exports);
  InitPoller(env, exports);
  InitBlocking(env, exports);
  return exports;
}

}  // namespace zcopy

static Napi::Object InitCore(Napi::Env env, Napi::Object exports) { return zcopy::Init(env, exports); }
NODE_API_MODULE(zcopy_core, InitCore)
