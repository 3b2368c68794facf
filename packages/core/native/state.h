// Per-environment state of the core addon: what it must release when the environment
// (main thread or a worker thread) goes away without the JS side having closed it.
#pragma once
#include <napi.h>
#include <uv.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace zcopy {

struct ReactorHandle;

// One fd's place in the reactor's epoll set (poller.cc).
struct WaitEntry {
  uint32_t token = 0;       // the JS watch it belongs to: events of an older registration are ignored
  uint32_t events = 0;      // requested libuv events (UV_READABLE...)
  bool registered = false;  // in the epoll set (armed, or fired and disarmed by EPOLLONESHOT)
  bool armed = false;
};

// The wait reactor: one epoll set per environment, itself watched by libuv through one uv_poll handle.
struct Reactor {
  int epfd = -1;
  ReactorHandle* handle = nullptr;
  std::vector<WaitEntry> entries;  // by fd
  int armed = 0;                   // armed entries: the handle keeps the loop alive while there are any
  napi_env env = nullptr;
  napi_ref callback = nullptr;
  napi_async_context context = nullptr;
};

struct CoreState;

// The fds the core owns: a byte per fd for the low numbers every process uses (no allocation per open/close, the
// hot path of every fd object), a set for the rare high ones (an fd adopted from dup2(fd, 1 << 30) must not make
// a gigabyte of bytes).
class FdSet {
 public:
  void insert(int fd) {
    if (fd < 0) return;
    if (fd < kDense) {
      if (static_cast<size_t>(fd) >= dense_.size()) dense_.resize(std::max<size_t>(fd + 1, dense_.size() * 2));
      if (!dense_[fd]) {
        dense_[fd] = 1;
        count_++;
      }
    } else if (sparse_.insert(fd).second) {
      count_++;
    }
  }
  void erase(int fd) {
    if (fd < 0) return;
    if (fd < kDense) {
      if (static_cast<size_t>(fd) < dense_.size() && dense_[fd]) {
        dense_[fd] = 0;
        count_--;
      }
    } else if (sparse_.erase(fd) > 0) {
      count_--;
    }
  }
  size_t size() const { return count_; }
  void clear() {
    dense_.clear();
    sparse_.clear();
    count_ = 0;
  }
  // Ascending (listing and teardown only).
  std::vector<int> List() const {
    std::vector<int> out;
    out.reserve(count_);
    for (size_t fd = 0; fd < dense_.size(); fd++)
      if (dense_[fd]) out.push_back(static_cast<int>(fd));
    out.insert(out.end(), sparse_.begin(), sparse_.end());
    return out;
  }

 private:
  static constexpr int kDense = 1 << 16;
  std::vector<uint8_t> dense_;
  std::set<int> sparse_;
  size_t count_ = 0;
};

// One mmap region; also the finalizer hint of its ArrayBuffer (one allocation per mapping).
struct Mapping {
  void* addr;
  size_t length;
  bool unmapped;
  std::shared_ptr<CoreState> state;
};

struct CoreState {
  FdSet fds;                           // fds opened or adopted through the core, not yet closed
  std::map<void*, Mapping*> mappings;  // live mmap regions by address
  Reactor reactor;                     // async waits (poller.cc)
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
// Teardown: closes the reactor's uv handle and epoll set.
void CloseReactor(CoreState& state);
// Before an fd the core closes: its armed registration, if any, leaves the epoll set first.
void ForgetWait(CoreState& state, int fd);

}  // namespace zcopy
