// One uv_poll_t per fd behind a small class (the TS side guarantees one Poller per fd).
// JS: new Poller(fd, (status, events) => void); start(events); stop(); close().
// A started poller keeps itself (and the event loop) alive; close() stops before releasing the handle.
#include <zcopy/args.h>
#include <zcopy/errors.h>

#include "state.h"

namespace zcopy {

// The uv handle outlives the Poller object until libuv calls back from uv_close.
struct PollHandle {
  uv_poll_t poll;
  Poller* owner;
  std::shared_ptr<CoreState> state;
};

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poller",
                       {InstanceMethod<&Poller::Start>("start"), InstanceMethod<&Poller::Stop>("stop"),
                        InstanceMethod<&Poller::Close>("close")});
  }

  explicit Poller(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<Poller>(info), ctx_(info.Env(), "zcopy.Poller"), state_(GetState(info.Env())) {
    Napi::Env env = info.Env();
    fd_ = FdArg(info, 0);
    if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "argument 'callback' must be a function");
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    handle_ = new PollHandle{{}, this, state_};
    int r = uv_poll_init(loop, &handle_->poll, fd_);
    if (r < 0) {
      delete handle_;
      handle_ = nullptr;
      // epoll refuses some fds (regular files: EPERM); libuv returns -errno.
      throw KernelError(env, -r, "epoll_ctl");
    }
    handle_->poll.data = handle_;
    state_->pollers.insert(this);
  }

  ~Poller() override { CloseHandle(); }

  // Teardown of the environment: release the handle without calling back into JS.
  void CloseHandle() {
    if (handle_ == nullptr) return;
    uv_poll_stop(&handle_->poll);
    handle_->owner = nullptr;
    state_->pendingCloses++;
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_->poll), [](uv_handle_t* h) {
      auto* ph = static_cast<PollHandle*>(h->data);
      std::shared_ptr<CoreState> state = ph->state;
      delete ph;
      HandleClosed(*state);
    });
    handle_ = nullptr;
    state_->pollers.erase(this);
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (handle_ == nullptr) throw Napi::Error::New(env, "Poller is closed");
    int events = static_cast<int>(U32Arg(info, 0, "events"));
    int r = uv_poll_start(&handle_->poll, events, OnPoll);
    if (r < 0) throw KernelError(env, -r, "epoll_ctl");
    if (!active_) {
      Ref();  // keep the JS object (and its callback) alive while libuv may call it
      active_ = true;
    }
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPolling();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    StopPolling();
    CloseHandle();
    return info.Env().Undefined();
  }

  void StopPolling() {
    if (handle_ != nullptr) uv_poll_stop(&handle_->poll);
    if (active_) {
      active_ = false;
      Unref();
    }
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<PollHandle*>(handle->data)->owner;
    if (self == nullptr) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    try {
      // MakeCallback so that promise reactions run right after, as for any libuv callback in Node.
      self->callback_.MakeCallback(env.Global(), {Napi::Number::New(env, status), Napi::Number::New(env, events)},
                                   self->ctx_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  Napi::AsyncContext ctx_;
  std::shared_ptr<CoreState> state_;
  Napi::FunctionReference callback_;
  PollHandle* handle_ = nullptr;
  int fd_ = -1;
  bool active_ = false;
};

void ClosePollers(CoreState& state) {
  std::set<Poller*> all = state.pollers;
  for (Poller* p : all) p->CloseHandle();
}

void InitPoller(Napi::Env env, Napi::Object exports) { exports.Set("Poller", Poller::Define(env)); }

}  // namespace zcopy
