// Per-environment state of the core addon: what it must release when the environment
// (main thread or a worker thread) goes away without the JS side having closed it.
#pragma once
#include <napi.h>
#include <uv.h>

#include <cstddef>
#include <map>
#include <memory>
#include <set>

namespace zcopy {

class Poller;

struct Mapping {
  void* addr;
  size_t length;
  bool unmapped;
};

struct CoreState {
  std::set<int> fds;                   // fds opened or adopted through the core, not yet closed
  std::map<void*, Mapping*> mappings;  // live mmap regions by address
  std::set<Poller*> pollers;           // pollers whose uv handle is still open
  int pendingCloses = 0;               // uv handles closed but whose close callback has not run yet
  bool tornDown = false;
  napi_async_cleanup_hook_handle teardownHook = nullptr;
};

// Called from each uv close callback: teardown finishes only once libuv is done with our handles,
// so no close callback runs after the addon is unloaded (as happens when a worker thread exits).
void HandleClosed(CoreState& state);

std::shared_ptr<CoreState> GetState(Napi::Env env);

void InitFds(Napi::Env env, Napi::Object exports);
void InitMmap(Napi::Env env, Napi::Object exports);
void InitPoller(Napi::Env env, Napi::Object exports);
void InitBlocking(Napi::Env env, Napi::Object exports);
void InitSockets(Napi::Env env, Napi::Object exports);
void ClosePollers(CoreState& state);

}  // namespace zcopy
