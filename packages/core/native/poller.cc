// The wait reactor: every async fd wait of an environment goes through ONE epoll set that libuv watches with ONE
// uv_poll handle (an epoll fd polls readable while one of its entries is ready).
//   arm(fd, events, token)    adds the fd (or re-arms it) with EPOLLONESHOT: one epoll_ctl per wait, no
//                             uv_poll_init/start/stop/close (5-7 epoll_ctl and an ioctl per wait before)
//   disarm(fd)                a wait given up while armed (timeout, abort, close): EPOLL_CTL_DEL
//   waitCallback(fn)          fn(fd, token, status, events) for each fired entry, as libuv's poll callbacks
// The set (one epoll fd) is made when the addon loads and lives as long as the environment.
// A fired entry is disarmed by the kernel (EPOLLONESHOT), so an fd nobody waits for never wakes the loop, and an
// fd the core closes leaves the set first (ForgetWait, from close()). The handle keeps the loop alive only while
// some entry is armed.
#include <sys/epoll.h>
#include <unistd.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>

#include "state.h"

namespace zcopy {

// The uv handle outlives JS until libuv calls back from uv_close.
struct ReactorHandle {
  uv_poll_t poll;
  std::shared_ptr<CoreState> state;
  int epfd;
};

namespace {

uint32_t ToEpoll(uint32_t uv) {
  uint32_t e = 0;
  if (uv & UV_READABLE) e |= EPOLLIN;
  if (uv & UV_WRITABLE) e |= EPOLLOUT;
  if (uv & UV_PRIORITIZED) e |= EPOLLPRI;
  if (uv & UV_DISCONNECT) e |= EPOLLRDHUP;
  return e;
}

// As libuv reports a uv_poll event: an error or hang-up wakes every requested event, and EPOLLERR without
// EPOLLPRI is status UV_EBADF (sysfs-style POLLERR|POLLPRI is an event).
void ToUv(uint32_t ep, uint32_t requested, int& status, int& events) {
  if (ep & (EPOLLERR | EPOLLHUP)) ep |= ToEpoll(requested);
  if ((ep & EPOLLERR) && !(ep & EPOLLPRI)) {
    status = UV_EBADF;
    events = 0;
    return;
  }
  status = 0;
  events = 0;
  if (ep & EPOLLIN) events |= UV_READABLE;
  if (ep & EPOLLOUT) events |= UV_WRITABLE;
  if (ep & EPOLLPRI) events |= UV_PRIORITIZED;
  if (ep & EPOLLRDHUP) events |= UV_DISCONNECT;
  events &= static_cast<int>(requested);
}

void Disarmed(Reactor& r, WaitEntry& e) {
  e.armed = false;
  if (--r.armed == 0 && r.handle != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&r.handle->poll));
}

struct Fired {
  int fd;
  uint32_t token;
  int status;
  int events;
};

void OnReady(uv_poll_t* handle, int, int) {
  auto* rh = static_cast<ReactorHandle*>(handle->data);
  std::shared_ptr<CoreState> state = rh->state;  // a callback may tear nothing down, but stay safe
  Reactor& r = state->reactor;
  if (r.epfd < 0) return;
  epoll_event evs[64];
  int n;
  do {
    n = ::epoll_wait(r.epfd, evs, 64, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return;
  Fired fired[64];
  int k = 0;
  for (int i = 0; i < n; i++) {
    int fd = static_cast<int>(evs[i].data.u64 & 0xffffffffu);
    uint32_t token = static_cast<uint32_t>(evs[i].data.u64 >> 32);
    if (fd < 0 || static_cast<size_t>(fd) >= r.entries.size()) continue;
    WaitEntry& e = r.entries[fd];
    if (!e.armed || e.token != token) continue;  // an older registration of this fd number
    Disarmed(r, e);
    Fired& f = fired[k++];
    f.fd = fd;
    f.token = token;
    ToUv(evs[i].events, e.events, f.status, f.events);
  }
  if (k == 0 || r.callback == nullptr) return;
  napi_env env = r.env;
  Napi::HandleScope scope(env);
  napi_value callback;
  napi_value global;
  if (napi_get_reference_value(env, r.callback, &callback) != napi_ok || callback == nullptr) return;
  napi_get_global(env, &global);
  for (int i = 0; i < k; i++) {
    napi_value argv[4] = {Napi::Number::New(env, fired[i].fd), Napi::Number::New(env, fired[i].token),
                          Napi::Number::New(env, fired[i].status), Napi::Number::New(env, fired[i].events)};
    // MakeCallback so that promise reactions run right after, as for any libuv callback in Node.
    napi_value result;
    if (napi_make_callback(env, r.context, global, callback, 4, argv, &result) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value err;
        napi_get_and_clear_last_exception(env, &err);
        napi_fatal_exception(env, err);
      }
    }
  }
}

void EnsureReactor(Napi::Env env, const std::shared_ptr<CoreState>& state) {
  Reactor& r = state->reactor;
  if (r.handle != nullptr) return;
  if (state->tornDown) throw Napi::Error::New(env, "the environment is shutting down");
  int epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) ThrowErrno(env, "epoll_create1");
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* rh = new ReactorHandle{{}, state, epfd};
  int err = uv_poll_init(loop, &rh->poll, epfd);
  if (err == 0) {
    rh->poll.data = rh;
    err = uv_poll_start(&rh->poll, UV_READABLE, OnReady);
    if (err < 0) {
      state->pendingCloses++;
      uv_close(reinterpret_cast<uv_handle_t*>(&rh->poll), [](uv_handle_t* h) {
        auto* p = static_cast<ReactorHandle*>(h->data);
        ::close(p->epfd);
        std::shared_ptr<CoreState> s = p->state;
        delete p;
        HandleClosed(*s);
      });
      throw KernelError(env, -err, "epoll_ctl");
    }
  } else {
    delete rh;
    ::close(epfd);
    throw KernelError(env, -err, "epoll_ctl");
  }
  uv_unref(reinterpret_cast<uv_handle_t*>(&rh->poll));  // nothing armed yet
  r.epfd = epfd;
  r.handle = rh;
  r.env = env;
  if (r.context == nullptr) napi_async_init(env, nullptr, Napi::String::New(env, "zcopy.wait"), &r.context);
}

Napi::Value WaitCallback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "argument 'callback' must be a function");
  Reactor& r = GetState(env)->reactor;
  if (r.callback != nullptr) napi_delete_reference(env, r.callback);
  napi_create_reference(env, info[0], 1, &r.callback);
  r.env = env;
  return env.Undefined();
}

// arm(fd, events, token): one epoll_ctl (ADD the first time, MOD to re-arm a registered fd).
Napi::Value Arm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint32_t events = U32Arg(info, 1, "events");
  uint32_t token = U32Arg(info, 2, "token");
  std::shared_ptr<CoreState> state = GetState(env);
  EnsureReactor(env, state);
  Reactor& r = state->reactor;
  if (static_cast<size_t>(fd) >= r.entries.size()) r.entries.resize(static_cast<size_t>(fd) + 64);
  WaitEntry& e = r.entries[fd];
  epoll_event ev{};
  ev.events = ToEpoll(events) | EPOLLONESHOT;
  ev.data.u64 = (static_cast<uint64_t>(token) << 32) | static_cast<uint32_t>(fd);
  int op = e.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  int rc = ::epoll_ctl(r.epfd, op, fd, &ev);
  // The fd number may have been closed and reused behind our back (a number, not an object, was waited on).
  if (rc < 0 && op == EPOLL_CTL_MOD && errno == ENOENT) rc = ::epoll_ctl(r.epfd, EPOLL_CTL_ADD, fd, &ev);
  if (rc < 0 && op == EPOLL_CTL_ADD && errno == EEXIST) rc = ::epoll_ctl(r.epfd, EPOLL_CTL_MOD, fd, &ev);
  if (rc < 0) ThrowErrno(env, "epoll_ctl");
  e.registered = true;
  e.token = token;
  e.events = events;
  if (!e.armed) {
    e.armed = true;
    if (r.armed++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(&r.handle->poll));
  }
  return env.Undefined();
}

void Remove(Reactor& r, int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= r.entries.size()) return;
  WaitEntry& e = r.entries[fd];
  if (e.armed) {
    epoll_event ev{};
    ::epoll_ctl(r.epfd, EPOLL_CTL_DEL, fd, &ev);  // ENOENT/EBADF: the kernel dropped it with the fd already
    e.registered = false;
    Disarmed(r, e);
  }
}

// disarm(fd): the last wait on an armed fd was given up.
Napi::Value Disarm(const Napi::CallbackInfo& info) {
  Remove(GetState(info.Env())->reactor, FdArg(info, 0));
  return info.Env().Undefined();
}

}  // namespace

void ForgetWait(CoreState& state, int fd) {
  Reactor& r = state.reactor;
  if (fd < 0 || static_cast<size_t>(fd) >= r.entries.size()) return;
  Remove(r, fd);
  // A fired (disarmed) entry goes with the fd's last close; the next fd with this number is ADDed afresh.
  r.entries[fd].registered = false;
}

void CloseReactor(CoreState& state) {
  Reactor& r = state.reactor;
  r.entries.clear();
  r.armed = 0;
  if (r.callback != nullptr) {
    napi_delete_reference(r.env, r.callback);
    r.callback = nullptr;
  }
  if (r.handle == nullptr) return;
  state.pendingCloses++;
  // uv_close stops the handle (its epoll_ctl needs epfd open); the epoll fd is closed in the close callback.
  r.epfd = -1;
  ReactorHandle* rh = r.handle;
  r.handle = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&rh->poll), [](uv_handle_t* h) {
    auto* p = static_cast<ReactorHandle*>(h->data);
    ::close(p->epfd);
    std::shared_ptr<CoreState> s = p->state;
    delete p;
    HandleClosed(*s);
  });
}

void InitPoller(Napi::Env env, Napi::Object exports) {
  // The set is made with the addon, so that the fd it takes is there from the start (an fd count taken before a
  // first wait stays true after it); should that fail, the first arm() tries again and reports the error.
  try {
    EnsureReactor(env, GetState(env));
  } catch (const Napi::Error&) {
  }
  exports.Set("waitCallback", Napi::Function::New(env, WaitCallback, "waitCallback"));
  exports.Set("arm", Napi::Function::New(env, Arm, "arm"));
  exports.Set("disarm", Napi::Function::New(env, Disarm, "disarm"));
}

}  // namespace zcopy
