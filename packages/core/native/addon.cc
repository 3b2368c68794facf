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

void Teardown(napi_async_cleanup_hook_handle hook, void* arg) {
  auto* holder = static_cast<StateHolder*>(arg);
  CoreState& s = *holder->state;
  s.tornDown = true;
  s.teardownHook = hook;
  CloseReactor(s);  // stop before close: no wait may watch an fd we close below
  for (int fd : s.fds.List()) ::close(fd);
  s.fds.clear();
  for (auto& [addr, m] : s.mappings) {
    if (!m->unmapped) ::munmap(m->addr, m->length);
    m->unmapped = true;
  }
  if (s.pendingCloses == 0) napi_remove_async_cleanup_hook(hook);
}
}  // namespace

void HandleClosed(CoreState& state) {
  state.pendingCloses--;
  if (state.tornDown && state.pendingCloses == 0 && state.teardownHook != nullptr) {
    napi_async_cleanup_hook_handle hook = state.teardownHook;
    state.teardownHook = nullptr;
    napi_remove_async_cleanup_hook(hook);
  }
}

std::shared_ptr<CoreState> GetState(Napi::Env env) { return env.GetInstanceData<StateHolder>()->state; }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* holder = new StateHolder{std::make_shared<CoreState>()};
  env.SetInstanceData<StateHolder>(holder);  // deleted by node-addon-api at env teardown
  // An async cleanup hook: the environment waits for it, so close callbacks still find this code loaded.
  napi_add_async_cleanup_hook(env, Teardown, holder, nullptr);
  InitFds(env, exports);
  InitMmap(env, exports);
  InitPoller(env, exports);
  InitBlocking(env, exports);
  InitSockets(env, exports);
  return exports;
}

}  // namespace zcopy

static Napi::Object InitCore(Napi::Env env, Napi::Object exports) { return zcopy::Init(env, exports); }
NODE_API_MODULE(zcopy_core, InitCore)
