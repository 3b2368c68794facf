// A blocking call run on the libuv threadpool, settled as a Promise on the JS thread.
// Each call has a CancelToken: cancel() from JS sets its flag, which a call that checks between slices reads
// (cancelled()), and, for a call that polls, fires its cancel fd (an eventfd made only when the call asks for it
// with fd(): a call that never polls makes no eventfd, no close). The TS side (runBlocking in @zcopy/core) adds
// timeouts, AbortSignal and owner pinning.
#pragma once
#include <napi.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "errors.h"

namespace zcopy {

class CancelToken {
 public:
  CancelToken() = default;
  ~CancelToken() { Close(); }
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  // Whether cancel() was called (any thread).
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // The cancel fd, readable once cancel() was called: made on the first call (on the worker thread), already
  // readable if the cancel came first. -1 with errno set when eventfd fails, or after Close().
  int fd() {
    std::lock_guard<std::mutex> lock(mu_);
    if (fd_ >= 0 || closed_) return fd_;
    fd_ = ::eventfd(cancelled() ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd_;
  }

  void Cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    cancelled_.store(true, std::memory_order_release);
    if (fd_ < 0) return;
    uint64_t one = 1;
    ssize_t r = ::write(fd_, &one, sizeof one);
    (void)r;
  }

  // Called on the JS thread once the work has finished: no fd outlives its call.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    closed_ = true;
  }

 private:
  std::mutex mu_;
  std::atomic<bool> cancelled_{false};
  int fd_ = -1;
  bool closed_ = false;
};

namespace detail {

// The cancel tokens of the calls in flight, by id, and one `cancel` function per environment: a call's handle
// is { promise, cancel, id }, where cancel is that one function and reads the id from its `this`. A function
// made per call (a lambda holding the token) cost a JS function, an external and a finalizer each time: measured
// on the host, a threadpool round trip's JS-thread CPU time went from ~9 to ~20 µs with it (Node's own fs
// threadpool round trip: ~9). This header is compiled into each addon: each has its own registry.
struct CancelRegistry {
  std::mutex mu;
  double next = 0;  // ids stay exact in a JS number up to 2^53
  std::unordered_map<double, std::weak_ptr<CancelToken>> tokens;
  std::unordered_map<napi_env, napi_ref> cancelFns;  // dropped by each environment's cleanup hook
};

inline CancelRegistry& Registry() {
  static CancelRegistry* r = new CancelRegistry();  // never destroyed: environments may outlive static teardown
  return *r;
}

inline Napi::Value CancelById(const Napi::CallbackInfo& info) {
  Napi::Value self = info.This();
  if (!self.IsObject()) return info.Env().Undefined();
  Napi::Value id = self.As<Napi::Object>().Get("id");
  if (!id.IsNumber()) return info.Env().Undefined();
  std::shared_ptr<CancelToken> token;
  {
    CancelRegistry& r = Registry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.tokens.find(id.As<Napi::Number>().DoubleValue());
    if (it != r.tokens.end()) token = it->second.lock();
  }
  if (token) token->Cancel();  // a call already settled is no longer listed: nothing to cancel
  return info.Env().Undefined();
}

inline void DropCancelFn(void* arg) {
  napi_env env = static_cast<napi_env>(arg);
  CancelRegistry& r = Registry();
  napi_ref ref = nullptr;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.cancelFns.find(env);
    if (it == r.cancelFns.end()) return;
    ref = it->second;
    r.cancelFns.erase(it);
  }
  napi_delete_reference(env, ref);
}

// This environment's cancel function, made on its first call.
inline Napi::Value CancelFn(Napi::Env env) {
  CancelRegistry& r = Registry();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.cancelFns.find(env);
    if (it != r.cancelFns.end()) {
      napi_value fn;
      if (napi_get_reference_value(env, it->second, &fn) == napi_ok && fn != nullptr) return Napi::Value(env, fn);
    }
  }
  Napi::Function fn = Napi::Function::New(env, CancelById, "cancel");
  napi_ref ref;
  NAPI_THROW_IF_FAILED(env, napi_create_reference(env, fn, 1, &ref), Napi::Value());
  {
    std::lock_guard<std::mutex> lock(r.mu);
    r.cancelFns[env] = ref;
  }
  NAPI_THROW_IF_FAILED(env, napi_add_env_cleanup_hook(env, DropCancelFn, static_cast<napi_env>(env)), Napi::Value());
  return fn;
}

}  // namespace detail

template <typename Result>
class BlockingCall final : public Napi::AsyncWorker {
 public:
  // work runs off the JS thread and returns 0 or an errno (ECANCELED once it saw the cancel);
  // done converts the result on the JS thread.
  using Work = std::function<int(Result&, CancelToken&)>;
  using Done = std::function<Napi::Value(Napi::Env, Result&)>;

  // Returns { promise, cancel(), id }: cancel is the environment's one cancel function (detail::CancelFn).
  static Napi::Object Start(Napi::Env env, const char* syscall, const char* request, Work work, Done done) {
    auto* call = new BlockingCall(env, syscall, request, std::move(work), std::move(done));
    Napi::Object out = Napi::Object::New(env);
    out.Set("promise", call->deferred_.Promise());
    out.Set("cancel", detail::CancelFn(env));
    out.Set("id", Napi::Number::New(env, call->id_));
    call->Queue();
    return out;
  }

  ~BlockingCall() override { Unlist(); }

 protected:
  void Execute() override { err_ = work_(result_, *token_); }

  void OnOK() override {
    Unlist();
    token_->Close();
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (err_ != 0) {
      deferred_.Reject(KernelError(env, err_, syscall_, request_).Value());
      return;
    }
    try {
      deferred_.Resolve(done_(env, result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override {
    Unlist();
    token_->Close();
    deferred_.Reject(e.Value());
  }

 private:
  BlockingCall(Napi::Env env, const char* syscall, const char* request, Work work, Done done)
      : Napi::AsyncWorker(env, "zcopy.BlockingCall"),
        deferred_(Napi::Promise::Deferred::New(env)),
        token_(std::make_shared<CancelToken>()),
        work_(std::move(work)),
        done_(std::move(done)),
        syscall_(syscall),
        request_(request) {
    detail::CancelRegistry& r = detail::Registry();
    std::lock_guard<std::mutex> lock(r.mu);
    id_ = ++r.next;
    r.tokens.emplace(id_, token_);
  }

  // Off the cancel registry: a cancel from now on finds nothing (the call is over).
  void Unlist() {
    if (id_ == 0) return;
    detail::CancelRegistry& r = detail::Registry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.tokens.erase(id_);
    id_ = 0;
  }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<CancelToken> token_;
  Work work_;
  Done done_;
  const char* syscall_;
  const char* request_;
  double id_ = 0;
  Result result_{};
  int err_ = 0;
};

}  // namespace zcopy
